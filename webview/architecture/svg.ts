/** Small helpers to build SVG with the DOM (no innerHTML: the strict CSP and untrusted names). */
const NS = 'http://www.w3.org/2000/svg';

export function svgEl<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  cls?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (cls) e.setAttribute('class', cls);
  return e;
}

export function text(
  x: number,
  y: number,
  content: string,
  cls: string,
  anchor: 'start' | 'middle' | 'end' = 'start',
): SVGTextElement {
  const t = svgEl('text', { x, y, 'text-anchor': anchor }, cls);
  t.textContent = content;
  return t;
}

/** A native tooltip on an SVG group or shape. */
export function tooltip(target: SVGElement, content: string): void {
  const t = svgEl('title');
  t.textContent = content;
  target.prepend(t);
}

/** An arrowhead marker definition, referenced as `url(#id)`. */
export function arrowMarker(id: string, cls: string): SVGMarkerElement {
  const m = svgEl('marker', {
    id,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 8,
    markerHeight: 8,
    markerUnits: 'userSpaceOnUse',
    orient: 'auto-start-reverse',
  });
  m.append(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z' }, cls));
  return m;
}

/** Shortens a string to `max` characters with an ellipsis in the middle (names keep both ends). */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const half = Math.floor((max - 1) / 2);
  return `${s.slice(0, half)}…${s.slice(s.length - (max - 1 - half))}`;
}
