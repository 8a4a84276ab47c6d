/**
 * The Markdown tables of `npm run eval` (eval.md, the model card, the console).
 */
import type { CutKind, LineCase } from './lineCases';
import type { GateRow, LineScores } from './lineEval';

interface TokenRow {
  bitsPerByte: number;
  top1: number;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

export function tokenTable(model: TokenRow, ngram: TokenRow, label: string): string {
  const lines = [`| metric | ${label} | 4-gram KN | transformer vs n-gram |`, '|---|---|---|---|'];
  const d = model.bitsPerByte - ngram.bitsPerByte;
  lines.push(
    `| bits per byte (lower is better) | ${model.bitsPerByte.toFixed(3)} | ${ngram.bitsPerByte.toFixed(3)} | ${d.toFixed(3)} (${((100 * d) / ngram.bitsPerByte).toFixed(1)}%)${d < 0 ? '' : ' — NOT better'} |`,
  );
  const t = model.top1 - ngram.top1;
  lines.push(
    `| next-token top-1 accuracy | ${pct(model.top1)} | ${pct(ngram.top1)} | ${t >= 0 ? '+' : ''}${(100 * t).toFixed(1)} points${t > 0 ? '' : ' — NOT better'} |`,
  );
  return lines.join('\n');
}

export const LANGS = ['python', 'typescript', 'javascript'] as const;

export type SystemScores = Record<CutKind | 'all', Record<'all' | (typeof LANGS)[number], LineScores>>;

/** One row per system: edit similarity and exact match over all cases, per cut kind and per language. */
export function lineTable(scores: Map<string, SystemScores>, cases: LineCase[]): string {
  const n = (k: CutKind) => cases.filter((c) => c.kind === k).length;
  const lines = [
    `| system | edit sim. (all ${cases.length}) | exact (all) | mid-line (${n('mid')}) ES / EM | line start (${n('start')}) ES / EM | Python ES | TypeScript ES | JavaScript ES | 3× repeats |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [system, s] of scores) {
    const es = (x: LineScores) => x.editSimilarity.toFixed(3);
    lines.push(
      `| ${system} | ${es(s.all.all)} | ${pct(s.all.all.exactMatch)} | ${es(s.mid.all)} / ${pct(s.mid.all.exactMatch)} | ${es(s.start.all)} / ${pct(s.start.all.exactMatch)} | ${es(s.all.python)} | ${es(s.all.typescript)} | ${es(s.all.javascript)} | ${s.all.all.repeated} |`,
    );
  }
  return lines.join('\n');
}

/** A gate threshold's net worth over all cases: shown share × (edit similarity of shown − breakEven). */
export function gateWorth(r: GateRow, breakEven: number): number {
  return r.coverage * (r.editSimilarity - breakEven);
}

/**
 * The gate's default: the lowest threshold whose net worth is within 5% of the best. The worth is
 * flat near its top (a few thousandths apart over 0.3–0.7 in the 1,000-case eval), and among
 * thresholds that are as good, the one that shows the most suggestions.
 */
export function gateDefault(rows: readonly GateRow[], breakEven: number): number | undefined {
  const best = Math.max(...rows.map((r) => gateWorth(r, breakEven)));
  return rows.find((r) => gateWorth(r, breakEven) >= best - 0.05 * Math.abs(best))?.threshold;
}

/** The gate's table; `breakEven` adds the net-worth column, shown share × (edit similarity of shown − breakEven). */
export function gateMarkdown(rows: GateRow[], chosen: number | undefined, breakEven: number): string {
  const lines = [
    '| min. confidence | shown | edit sim. of shown | exact match of shown | net worth |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.threshold.toFixed(2)}${r.threshold === chosen ? ' (default)' : ''} | ${pct(r.coverage)} | ${r.editSimilarity.toFixed(3)} | ${pct(r.exactMatch)} | ${gateWorth(r, breakEven).toFixed(3)} |`,
    );
  return lines.join('\n');
}
