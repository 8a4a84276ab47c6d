/**
 * The head grid: one thumbnail per layer × head, one pixel per (query, key) pair (max-pooled
 * beyond 512 tokens), with its automatic label and score. A line marks the selected query's row.
 */
import { el } from '../shared/toolkit';
import { ramp, themeColor } from './colors';
import type { CaptureSummary, HeadInfo } from './protocol';

const SHORT: Record<HeadInfo['label'], string> = {
  'previous-token': 'prev',
  'first-token sink': 'sink',
  'local window': 'local',
  'induction-like': 'induct',
  mixed: 'mixed',
};

export interface Cell {
  layer: number;
  head: number;
  canvas: HTMLCanvasElement;
  mark: HTMLElement;
  box: HTMLElement;
  info: HeadInfo;
}

export class HeadGrid {
  readonly el = el('div', 'grid');
  cells: Cell[] = [];

  constructor(private readonly onPick: (layer: number, head: number) => void) {}

  build(c: CaptureSummary): void {
    const lut = ramp(themeColor('--vscode-editor-background'), themeColor('--vscode-charts-orange'));
    this.cells = [];
    const rows: HTMLElement[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const row = el('div', 'grid-row');
      row.append(el('div', 'grid-layer', `L${l + 1}`));
      const heads = el('div', 'grid-heads');
      for (let h = 0; h < c.numHeads; h++) {
        const info = c.heads[l * c.numHeads + h];
        const box = el('button', 'thumb');
        box.title = headTitle(info);
        const frame = el('div', 'thumb-frame');
        const canvas = el('canvas');
        canvas.width = canvas.height = c.thumbs.size;
        drawThumb(canvas, c.thumbs.layers[l].subarray(h * c.thumbs.size ** 2, (h + 1) * c.thumbs.size ** 2), lut);
        const mark = el('div', 'rowmark');
        frame.append(canvas, mark);
        box.append(
          frame,
          el(
            'div',
            `thumb-label kind-${SHORT[info.label]}`,
            `H${h + 1} ${SHORT[info.label]}${info.score > 0 ? ` ${info.score.toFixed(2)}` : ''}`,
          ),
        );
        box.addEventListener('click', () => this.onPick(l, h));
        heads.append(box);
        this.cells.push({ layer: l, head: h, canvas, mark, box, info });
      }
      row.append(heads);
      rows.push(row);
    }
    this.el.replaceChildren(...rows);
  }

  /** Moves the row marks to query `position` of T and outlines the selected head (if any). */
  paint(position: number, T: number, layer: number, head: number | null): void {
    const top = `${((position + 0.5) / T) * 100}%`;
    for (const cell of this.cells) {
      cell.mark.style.top = top;
      cell.box.classList.toggle('selected', cell.layer === layer && (head === null || cell.head === head));
    }
  }
}

function headTitle(h: HeadInfo): string {
  const s = h.scores;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return `Layer ${h.layer + 1}, head ${h.head + 1}: ${h.label}\nprevious-token ${pct(s.previousToken)} · first-token sink ${pct(s.sink)} · local window ${pct(s.local)} · induction ${pct(s.induction)}`;
}

function drawThumb(canvas: HTMLCanvasElement, pixels: Uint8Array, lut: Uint8ClampedArray): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < pixels.length; i++) img.data.set(lut.subarray(pixels[i] * 4, pixels[i] * 4 + 4), i * 4);
  ctx.putImageData(img, 0, 0);
}
