/**
 * The block diagram: token embedding → N × decoder block → final norm → LM head, drawn as SVG
 * with theme colours (classes styled in media/architecture.css). Every part shows its parameters,
 * share of the total, dtype and bytes; the selected block opens to show its anatomy: norm →
 * attention → residual add, norm → MLP → residual add, on the residual stream.
 */
import type { ArchitectureSummary, BlockInfo, Part } from '../../src/common/architectureTypes';
import { formatBytes, formatCount } from '../../src/common/figures';
import { arrowMarker, svgEl, text, tooltip } from './svg';

const W = 660;
const X = 20;
const BOX_W = W - 2 * X;
const STREAM = X + 36; // x of the residual stream
const COMPACT_H = 48;
const GAP = 20;
const ROW_H = 80;
const EXPANDED_H = COMPACT_H + 2 * ROW_H + 8;

const pct = (share: number) => `${(share * 100).toFixed(share < 0.001 ? 3 : 1)}%`;
const n = (v: number) => v.toLocaleString('en-US');

function blockLine(b: BlockInfo): string {
  const a = b.attention;
  const attn =
    a.groupSize === null ? a.kind : a.groupSize === 1 ? `MHA ${a.queryHeads}` : `GQA ${a.queryHeads}:${a.kvHeads}`;
  const mlp = `${b.mlp.kind}${b.mlp.hiddenSize ? ' ' + b.mlp.hiddenSize : ''}`;
  return [b.norm1.kind, attn, a.rope ? 'RoPE' : null, mlp].filter(Boolean).join(' · ');
}

function partLine(p: Part, s: ArchitectureSummary): string {
  if (p.block) return blockLine(p.block);
  const shape = p.tensors[0]?.shape;
  switch (p.kind) {
    case 'embedding':
    case 'position_embedding':
      return shape && shape.length === 2 ? `${n(shape[0])} × ${n(shape[1])} table` : 'lookup table';
    case 'final_norm':
      return s.parts.find((x) => x.block)?.block?.norm1.kind ?? 'norm';
    case 'lm_head':
      return p.tiedTo
        ? 'tied to the token embedding (counted once)'
        : shape
          ? `${shape.join(' × ')} projection to the vocabulary`
          : 'projection to the vocabulary';
    default:
      return p.note ?? '';
  }
}

function partTooltip(p: Part, total: number): string {
  const lines = [
    `${p.label}: ${n(p.params)} parameters (${pct(p.share)} of ${n(total)})`,
    `Stored: ${formatBytes(p.bytes)} · ${p.dtype}`,
  ];
  if (p.note) lines.push(p.note);
  if (p.scope) lines.push(`Click to select; its operators are in the drill-down (${p.scope}).`);
  return lines.join('\n');
}

/** One component box inside an opened block. */
function component(
  g: SVGGElement,
  x: number,
  y: number,
  w: number,
  title: string,
  detail: string,
  tip: string,
  cls: string,
): void {
  const box = svgEl('g', {}, `component ${cls}`);
  box.append(
    svgEl('rect', { x, y, width: w, height: 38, rx: 4 }),
    text(x + 8, y + 16, title, 'comp-title'),
    text(x + 8, y + 31, detail, 'comp-detail'),
  );
  tooltip(box, tip);
  g.append(box);
}

function anatomy(g: SVGGElement, b: BlockInfo, y0: number): void {
  const a = b.attention;
  const heads =
    a.queryHeads === null
      ? 'heads unknown'
      : a.groupSize === 1
        ? `${a.queryHeads} heads`
        : `${a.queryHeads} query / ${a.kvHeads} KV heads (group ${a.groupSize})`;
  const rope = a.rope ? ` · RoPE θ ${a.rope.theta === null ? '?' : n(a.rope.theta)}` : '';
  const rows = [
    {
      norm: b.norm1,
      name: 'attention',
      title: `Attention · ${a.kind}`,
      detail: `${heads} · head dim ${a.headDim ?? '?'}${rope}`,
      tip: `${a.projections.join(', ')}\n${n(a.params)} parameters · ${formatBytes(a.bytes)} · ${a.dtype}\nheads from ${a.headsSource ?? 'nowhere'}${a.rope ? `; RoPE θ from ${a.rope.source}` : '; no rotary embedding found'}`,
    },
    {
      norm: b.norm2,
      name: 'mlp',
      title: `MLP · ${b.mlp.kind}`,
      detail: `hidden ${b.mlp.hiddenSize ?? '?'} · ${b.mlp.activation} · ${formatCount(b.mlp.params)} params`,
      tip: `${b.mlp.projections.join(', ')}\n${n(b.mlp.params)} parameters · ${formatBytes(b.mlp.bytes)} · ${b.mlp.dtype}`,
    },
  ];
  g.append(svgEl('path', { d: `M ${STREAM} ${y0 - 6} V ${y0 + 2 * ROW_H}` }, 'stream'));
  rows.forEach((r, i) => {
    const y = y0 + i * ROW_H;
    const branchY = y + 19;
    g.append(svgEl('path', { d: `M ${STREAM} ${branchY} H ${STREAM + 44}`, 'marker-end': 'url(#arch-arrow)' }, 'flow'));
    component(
      g,
      STREAM + 46,
      y,
      130,
      r.norm.kind,
      `${n(r.norm.params)} params`,
      `${r.norm.ops.join(', ')}\n${n(r.norm.params)} parameters · ${formatBytes(r.norm.bytes)}${r.norm.fusedResidual ? '\nFused with the residual add (Skip…LayerNormalization)' : ''}`,
      'norm',
    );
    g.append(
      svgEl('path', { d: `M ${STREAM + 176} ${branchY} H ${STREAM + 198}`, 'marker-end': 'url(#arch-arrow)' }, 'flow'),
    );
    component(g, STREAM + 200, y, X + BOX_W - 12 - (STREAM + 200), r.title, r.detail, r.tip, r.name);
    // the branch returns to the stream at the residual add
    const addY = y + 60;
    g.append(
      svgEl(
        'path',
        { d: `M ${X + BOX_W - 40} ${y + 38} V ${addY} H ${STREAM + 9}`, 'marker-end': 'url(#arch-arrow)' },
        'flow',
      ),
    );
    const add = svgEl('g', {}, 'residual');
    add.append(svgEl('circle', { cx: STREAM, cy: addY, r: 9 }), text(STREAM, addY + 4, '+', 'residual-plus', 'middle'));
    tooltip(
      add,
      `Residual add: the ${r.name} output is added to the stream${r.norm.fusedResidual ? ' (fused into the next norm)' : ''}`,
    );
    g.append(add);
  });
}

/** Draws the diagram; `onSelect` gets a part id when a box is clicked or activated with the keyboard. */
export function drawDiagram(
  s: ArchitectureSummary,
  selected: string | null,
  onSelect: (id: string) => void,
): SVGSVGElement {
  const heights = s.parts.map((p) => (p.id === selected && p.block ? EXPANDED_H : COMPACT_H));
  const total = 40 + heights.reduce((a, h) => a + h + GAP, 0) + 24;
  const svg = svgEl(
    'svg',
    {
      viewBox: `0 0 ${W} ${total}`,
      width: W,
      height: total,
      role: 'img',
      'aria-label': `${s.model.name}: ${s.family}`,
    },
    'diagram',
  );
  const defs = svgEl('defs');
  defs.append(arrowMarker('arch-arrow', 'arrowhead'));
  svg.append(defs);
  svg.append(text(STREAM, 16, 'input_ids', 'io-label', 'middle'));
  let y = 40;
  svg.append(svgEl('path', { d: `M ${STREAM} 22 V ${y - 1}`, 'marker-end': 'url(#arch-arrow)' }, 'stream'));
  s.parts.forEach((p, i) => {
    const h = heights[i];
    const g = svgEl(
      'g',
      {
        tabindex: 0,
        role: 'button',
        'aria-label': `${p.label}, ${n(p.params)} parameters, ${pct(p.share)}`,
        'data-part': p.id,
      },
      `part kind-${p.kind}${p.id === selected ? ' selected' : ''}${p.tiedTo ? ' tied' : ''}`,
    );
    g.append(svgEl('rect', { x: X, y, width: BOX_W, height: h, rx: 6 }, 'part-box'));
    g.append(text(X + 60, y + 20, p.label, 'part-title'), text(X + 60, y + 37, partLine(p, s), 'part-sub'));
    const shared = p.bytes === 0 && p.tensors.length > 0 && p.tensors.every((t) => t.sharedWith);
    g.append(
      text(
        X + BOX_W - 12,
        y + 20,
        p.tiedTo && p.params === 0 ? 'tied · counted once' : `${formatCount(p.params)} · ${pct(p.share)}`,
        'part-figure',
        'end',
      ),
    );
    g.append(
      text(
        X + BOX_W - 12,
        y + 37,
        `${p.dtype} · ${shared ? 'storage shared' : formatBytes(p.bytes)}`,
        'part-dtype',
        'end',
      ),
    );
    g.append(
      svgEl('rect', { x: X + 1, y: y + h - 4, width: Math.max(0, (BOX_W - 2) * p.share), height: 3 }, 'share-bar'),
    );
    tooltip(g, partTooltip(p, s.totals.params));
    g.addEventListener('click', () => onSelect(p.id));
    g.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), onSelect(p.id)));
    if (p.id === selected && p.block) anatomy(g, p.block, y + COMPACT_H);
    svg.append(g);
    y += h;
    const last = i === s.parts.length - 1;
    svg.append(svgEl('path', { d: `M ${STREAM} ${y} V ${y + GAP - 1}`, 'marker-end': 'url(#arch-arrow)' }, 'stream'));
    y += GAP;
    if (last) svg.append(text(STREAM, y + 12, 'logits', 'io-label', 'middle'));
  });
  return svg;
}
