/**
 * The "What it depended on" table's plain logic: sort, filter by kind, and the export text (CSV and
 * JSON of the rows on screen). No DOM, so the unit tests run it in Node.
 */
import type { DependRanking, DependRow, DependSpanKind } from './protocol';

/** By Δ: the most depended-on span first; by position: in reading order (snippets, the file's lines, copy sources). */
export type DependSort = 'delta' | 'position';
/** The filter's kinds: a line of the window (before or after the cursor), a snippet, a copy source. */
export type DependFilter = 'line' | 'snippet' | 'copy';
export const DEPEND_FILTERS: readonly DependFilter[] = ['line', 'snippet', 'copy'];

export function filterOf(kind: DependSpanKind): DependFilter {
  return kind === 'prefix' || kind === 'suffix' ? 'line' : kind;
}

/** The rows to show: those of the kinds shown, in the order asked for (ties by Δ, then id). */
export function visibleRows(rows: readonly DependRow[], sort: DependSort, shown: readonly DependFilter[]): DependRow[] {
  const kept = rows.filter((r) => shown.includes(filterOf(r.kind)));
  return kept.sort((a, b) =>
    sort === 'position' ? a.order - b.order || a.id - b.id : a.delta - b.delta || a.id - b.id,
  );
}

/** The rows whose per-token changes are shown: the top `n` by Δ that mattered (Δ ≤ −nearZeroNats). */
export function topRows(rows: readonly DependRow[], nearZeroNats: number, n = 3): DependRow[] {
  return [...rows]
    .sort((a, b) => a.delta - b.delta || a.id - b.id)
    .filter((r) => r.delta <= -nearZeroNats)
    .slice(0, n);
}

const KIND_WORDS: Record<DependSpanKind, string> = {
  prefix: 'line before the cursor',
  suffix: 'line after the cursor',
  snippet: 'snippet',
  copy: 'copy source',
};

export function kindWords(kind: DependSpanKind): string {
  return KIND_WORDS[kind];
}

/** Δ as the view writes it: "−6.20", "+0.31" (a true minus sign). */
export function nats(x: number, digits = 2): string {
  const r = Math.abs(x).toFixed(digits);
  return Number(r) === 0 ? (0).toFixed(digits) : `${x < 0 ? '−' : '+'}${r}`;
}

/** One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
function field(x: string | number | boolean): string {
  const s = String(x);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows on screen as CSV, one line per span, Δ in nats; `token_deltas` is the per-token changes joined by spaces. */
export function dependCsv(r: DependRanking, rows: readonly DependRow[]): string {
  const head = [
    'rank',
    'kind',
    'span',
    'method',
    'delta_nats',
    'largest_token',
    'largest_token_delta_nats',
    'same_first_token',
    'token_deltas_nats',
  ];
  const lines = rows.map((row, k) =>
    [
      k + 1,
      kindWords(row.kind),
      row.label,
      row.method,
      row.delta.toFixed(4),
      r.tokens[row.maxToken] ?? '',
      row.maxDelta.toFixed(4),
      row.sameFirstToken,
      row.tokenDeltas.map((d) => d.toFixed(4)).join(' '),
    ]
      .map(field)
      .join(','),
  );
  return [head.join(','), ...lines].join('\n') + '\n';
}

/** The ranking and the rows on screen as JSON: the verdict, method and baseline with them, so the numbers can be checked. */
export function dependJson(
  r: DependRanking,
  rows: readonly DependRow[],
  view: { sort: DependSort; shown: readonly DependFilter[] },
): string {
  return (
    JSON.stringify(
      {
        suggestion: r.title,
        verdict: r.verdict,
        complete: r.done && !r.result?.partial,
        nearZero: r.nearZero,
        nearZeroNats: r.nearZeroNats,
        ...(r.result ?? {}),
        tokens: r.tokens,
        sort: view.sort,
        kinds: view.shown,
        spans: rows.map((row) => ({
          kind: row.kind,
          span: row.label,
          method: row.method,
          delta: row.delta,
          largestToken: row.maxToken,
          largestTokenDelta: row.maxDelta,
          sameFirstToken: row.sameFirstToken,
          tokenDeltas: row.tokenDeltas,
          text: row.text,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
