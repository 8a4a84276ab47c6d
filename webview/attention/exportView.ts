/**
 * Export of what is on screen: a PNG drawn from the same data (heat strip, head grid, line view,
 * logit lens) and a JSON document of the numbers behind it. The host writes the files.
 */
import { css, themeColor } from './colors';
import type { Cell } from './headGrid';
import type { Bar } from './distribution';
import type { CaptureSummary, LensData } from './protocol';
import { displayToken, heatLevel } from './strip';

export interface Screen {
  capture: CaptureSummary;
  position: number;
  what: string;
  weights: Float32Array | null;
  cells: Cell[];
  lines: HTMLCanvasElement | null;
  lens: LensData | null;
  bars: Bar[];
  sampling: { temperature: number; topK: number; topP: number };
  caveat: string;
}

const W = 900;

export function exportPng(s: Screen): string {
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = 4000;
  const ctx = canvas.getContext('2d')!;
  const bg = themeColor('--vscode-editor-background');
  const fg = themeColor('--vscode-foreground');
  const accent = themeColor('--vscode-charts-orange');
  ctx.fillStyle = css(bg);
  ctx.fillRect(0, 0, W, canvas.height);
  ctx.textBaseline = 'top';
  let y = 12;
  const text = (t: string, x: number, size = 13, color = fg) => {
    ctx.font = `${size}px sans-serif`;
    ctx.fillStyle = css(color);
    ctx.fillText(t, x, y);
  };
  text(`${s.capture.title} — ${s.capture.model}`, 12, 16);
  y += 22;
  text(`Query #${s.position} ${JSON.stringify(s.capture.labels[s.position])} · ${s.what}`, 12);
  y += 20;
  text(s.caveat, 12, 11);
  y += 22;
  // Heat strip, wrapped.
  ctx.font = '12px monospace';
  let max = 0;
  if (s.weights) s.weights.forEach((w, k) => k !== s.position && (max = Math.max(max, w)));
  let x = 12;
  s.capture.labels.forEach((label, k) => {
    const t = displayToken(label).replace(/\n/g, '');
    const w = ctx.measureText(t).width + 2;
    if (x + w > W - 12) {
      x = 12;
      y += 16;
    }
    if (s.weights && k !== s.position) {
      ctx.fillStyle = css(accent, heatLevel(s.weights[k], max));
      ctx.fillRect(x, y, w, 15);
    }
    ctx.fillStyle = css(k === s.position ? accent : fg);
    ctx.fillText(t, x + 1, y + 1);
    if (k === s.position) {
      ctx.strokeStyle = css(accent);
      ctx.strokeRect(x, y, w, 15);
    }
    x += w;
    if (label.includes('\n')) {
      x = 12;
      y += 16;
    }
  });
  y += 28;
  // Head grid.
  const size = 64;
  const perRow = Math.max(1, Math.floor((W - 60) / (size + 8)));
  let col = 0;
  let layer = -1;
  for (const cell of s.cells) {
    if (cell.layer !== layer || col === perRow) {
      if (layer >= 0) y += size + 22;
      if (cell.layer !== layer) text(`L${cell.layer + 1}`, 12);
      layer = cell.layer;
      col = 0;
    }
    const cx = 50 + col * (size + 8);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cell.canvas, cx, y, size, size);
    ctx.fillStyle = css(accent);
    ctx.fillRect(cx, y + ((s.position + 0.5) / s.capture.seqLen) * size, size, 1);
    ctx.font = '10px sans-serif';
    ctx.fillStyle = css(fg);
    ctx.fillText(`H${cell.head + 1} ${cell.info.label} ${cell.info.score.toFixed(2)}`.slice(0, 14), cx, y + size + 3);
    col++;
  }
  y += size + 30;
  if (s.lines && s.lines.height > 0) {
    const h = (s.lines.height / s.lines.width) * Math.min(W - 24, s.lines.width);
    ctx.drawImage(s.lines, 12, y, Math.min(W - 24, s.lines.width), h);
    y += h + 16;
  }
  if (s.lens) {
    text('Logit lens (top-5 next tokens after each layer)', 12, 13);
    y += 20;
    s.lens.layerNames.forEach((name, l) => {
      const row = Array.from(
        { length: s.lens!.k },
        (_, j) =>
          `${displayToken(s.lens!.labels[s.lens!.topIds[l * s.lens!.k + j]] ?? '?').replace(/\n/g, '')} ${(s.lens!.topProbs[l * s.lens!.k + j] * 100).toFixed(0)}%`,
      );
      text(`${name.padEnd(12)} ${row.join('   ')}`, 12, 12);
      y += 16;
    });
  }
  const out = document.createElement('canvas');
  out.width = W;
  out.height = y + 12;
  out.getContext('2d')!.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png');
}

export function exportJson(s: Screen): string {
  const c = s.capture;
  const lens = s.lens;
  return JSON.stringify(
    {
      format: 'glassbox-attention/1',
      model: c.model,
      title: c.title,
      method: c.method,
      caveat: s.caveat,
      notices: c.notices,
      query: { position: s.position, token: c.labels[s.position], generated: s.position >= c.generatedFrom },
      shown: s.what,
      heat: s.weights
        ? Array.from(s.weights.subarray(0, s.position + 1), (w, k) => ({
            position: k,
            token: c.labels[k],
            weight: Number(w.toPrecision(6)),
          }))
        : null,
      heads: c.heads,
      logitLens: lens
        ? lens.layerNames.map((name, l) => ({
            after: name,
            top: Array.from({ length: lens.k }, (_, j) => ({
              token: lens.labels[lens.topIds[l * lens.k + j]],
              id: lens.topIds[l * lens.k + j],
              prob: Number(lens.topProbs[l * lens.k + j].toPrecision(6)),
            })),
          }))
        : null,
      finalDistribution: lens
        ? {
            ...s.sampling,
            top: s.bars.map((b) => ({ token: lens.labels[b.id], id: b.id, prob: Number(b.prob.toPrecision(6)) })),
          }
        : null,
    },
    null,
    2,
  );
}
