/**
 * The line view (BertViz style): the selected layer's tokens twice, queries on the left and keys
 * on the right, one line per weight above the threshold, coloured by head. Only a window of
 * tokens around the selected one is drawn, so long contexts stay readable.
 */
import { themeVar } from '../shared/theme';
import { css, headPalette, themeColor } from './colors';
import type { LinesData } from './protocol';
import { displayToken } from './strip';

const LINE_WINDOW = 40; // tokens drawn
const ROW = 16; // px per token
const PAD = 6;

/** Window [start, end) of up to LINE_WINDOW tokens ending just after `position` (keys precede queries). */
export function lineWindow(position: number, T: number): { start: number; end: number } {
  const end = Math.min(T, Math.max(position + 1 + Math.floor(LINE_WINDOW / 4), LINE_WINDOW));
  return { start: Math.max(0, end - LINE_WINDOW), end };
}

export function drawLines(canvas: HTMLCanvasElement, data: LinesData, labels: string[], position: number): void {
  const n = data.end - data.start;
  const width = Math.max(240, canvas.parentElement?.clientWidth ?? 300);
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = (n * ROW + 2 * PAD) * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${n * ROW + 2 * PAD}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(ratio, ratio);
  const fg = themeColor('--vscode-foreground');
  const muted = themeColor('--vscode-descriptionForeground');
  const accent = themeColor('--vscode-charts-orange');
  const palette = headPalette();
  const colW = Math.min(110, width * 0.32);
  const xL = colW;
  const xR = width - colW;
  const y = (i: number) => PAD + (i - data.start) * ROW + ROW / 2;
  ctx.font = `${themeVar('--vscode-editor-font-size', '12px')} ${themeVar('--vscode-editor-font-family', 'monospace')}`;
  ctx.textBaseline = 'middle';
  for (let i = data.start; i < data.end; i++) {
    const text = displayToken(labels[i]).replace(/\n/g, '');
    const clipped = text.length > 14 ? `${text.slice(0, 13)}…` : text;
    ctx.fillStyle = css(i === position ? accent : fg);
    ctx.textAlign = 'right';
    ctx.fillText(clipped, xL - 6, y(i));
    ctx.fillStyle = css(muted);
    ctx.textAlign = 'left';
    ctx.fillText(clipped, xR + 6, y(i));
  }
  // Faint lines first, then the selected query's lines on top.
  for (const focus of [false, true]) {
    for (let e = data.weight.length - 1; e >= 0; e--) {
      const q = data.query[e];
      if ((q === position) !== focus) continue;
      const c = palette[data.heads[e] % palette.length];
      ctx.strokeStyle = css(c, focus ? Math.min(1, 0.25 + data.weight[e]) : Math.min(0.6, data.weight[e] * 0.6));
      ctx.lineWidth = focus ? 1 + 2 * data.weight[e] : 1;
      ctx.beginPath();
      ctx.moveTo(xL, y(q));
      ctx.lineTo(xR, y(data.key[e]));
      ctx.stroke();
    }
  }
}
