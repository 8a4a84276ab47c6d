/**
 * Exporting the block diagram. The on-screen SVG is coloured by CSS classes that read VS Code's
 * theme variables, which a standalone file doesn't have: the copy gets each element's computed
 * colours and fonts as attributes and a background, so it looks the same outside VS Code. PNG is
 * that SVG drawn on a canvas at twice the size.
 */
const PROPS = [
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'opacity',
  'fill-opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
];

/** A self-contained SVG document of `svg` as it looks now. */
export function svgText(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const from = [svg, ...svg.querySelectorAll('*')];
  const to = [copy, ...copy.querySelectorAll('*')];
  from.forEach((src, i) => {
    const dst = to[i];
    if (!(src instanceof SVGElement) || src.tagName === 'title') return;
    const style = getComputedStyle(src);
    for (const p of PROPS) {
      const v = style.getPropertyValue(p);
      if (v) dst.setAttribute(p, v);
    }
    dst.removeAttribute('class');
    dst.removeAttribute('tabindex');
  });
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  const [, , w, h] = (svg.getAttribute('viewBox') ?? '0 0 100 100').split(/\s+/).map(Number);
  Object.entries({ x: 0, y: 0, width: w, height: h, fill: getComputedStyle(document.body).backgroundColor }).forEach(
    ([k, v]) => bg.setAttribute(k, String(v)),
  );
  copy.insertBefore(bg, copy.firstChild);
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

/** The diagram as a PNG data URL, `scale` times its size. */
export function pngDataUrl(svg: SVGSVGElement, scale = 2): Promise<string> {
  const source = svgText(svg);
  const [, , w, h] = (svg.getAttribute('viewBox') ?? '0 0 100 100').split(/\s+/).map(Number);
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(w * scale);
      canvas.height = Math.ceil(h * scale);
      const ctx = canvas.getContext('2d');
      if (!ctx) return reject(new Error('No 2D canvas in this webview.'));
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      resolve(canvas.toDataURL('image/png'));
    };
    img.onerror = () => reject(new Error('The diagram could not be rendered to PNG.'));
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(source);
  });
}
