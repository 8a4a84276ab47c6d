/**
 * A dependence ranking in words, the same in the CLI and the Attention view: each span's name,
 * the one-line verdict, and whether the suggestion used its context at all. Pure (types only), so
 * the extension host and the webview's host side import it without the runtime.
 */
import type { DependenceResult, PromptSpan, SpanDependence, SpanKind } from './types';

/**
 * Below this many nats either way a span "did not matter": e^0.5 ≈ 1.6, a change of probability
 * smaller than the spread between two runs of a slightly different prompt.
 */
export const NEAR_ZERO_NATS = 0.5;

/** The tokens of a completion to score: those of the shown text (through its last provenance entry), else all. */
export function suggestionTokens(r: { tokens: number[]; provenance: { token: number }[] }): number[] {
  const last = r.provenance.at(-1);
  return last ? r.tokens.slice(0, last.token + 1) : [...r.tokens];
}

/** Where a span is, as a reader looks it up: `src/helpers.ts:12–15`. */
export function spanPlace(s: PromptSpan): string {
  const lines =
    s.firstLine === undefined
      ? ''
      : s.lastLine && s.lastLine !== s.firstLine
        ? `:${s.firstLine}–${s.lastLine}`
        : `:${s.firstLine}`;
  return `${s.path ?? 'the file'}${lines}`;
}

/** A span named for a sentence: "the snippet from src/helpers.ts:12–15", "line 42 (`return x`)". */
export function describeSpan(s: PromptSpan): string {
  switch (s.kind) {
    case 'snippet':
      return `the snippet from ${spanPlace(s)}`;
    case 'copy':
      return `the copy cache's excerpt from ${spanPlace(s)}`;
    case 'prefix':
    case 'suffix': {
      const where = s.firstLine === undefined ? 'a line' : `line ${s.firstLine}`;
      const side = s.kind === 'suffix' ? ' after the cursor' : '';
      return `${where}${side} (\`${clip(s.text.trim(), 40)}\`)`;
    }
  }
}

/** Δ as the verdict writes it: "−6.2", "+0.3". */
export function formatNats(x: number): string {
  const r = Math.abs(x) < 10 ? x.toFixed(1) : x.toFixed(0);
  return Number(r) === 0 ? '0.0' : x < 0 ? `−${r.slice(1)}` : `+${r}`;
}

/** Whether every scored span moved the suggestion by less than NEAR_ZERO_NATS: the model barely used its context. */
export function nearZero(r: Pick<DependenceResult, 'ranking'>): boolean {
  return r.ranking.length > 0 && r.ranking.every((s) => Math.abs(s.delta) < NEAR_ZERO_NATS);
}

const KIND_NAMES: Record<SpanKind, string> = {
  prefix: 'the lines before the cursor',
  suffix: 'the suffix',
  snippet: 'the snippets',
  copy: "the copy cache's excerpts",
};

/**
 * The one-line verdict: "Mostly the snippet from src/helpers.ts:12–15 (−6.2 nats without it); the
 * suffix did not matter".
 */
export function verdict(r: Pick<DependenceResult, 'ranking' | 'spans' | 'tokens' | 'partial'>): string {
  const partial = r.partial
    ? ` (partial: ${r.ranking.length} of ${r.spans.length} spans scored before the time budget ran out)`
    : '';
  if (r.tokens.length === 0) return 'The completion suggested nothing, so there is nothing to rank.';
  if (r.spans.length === 0) return 'The prompt had no context to remove (an empty file), so there is nothing to rank.';
  if (r.ranking.length === 0) return `No span was scored${partial}.`;
  if (nearZero(r))
    return `No span mattered: without any one of them the suggestion's log-probability moves by less than ${NEAR_ZERO_NATS} nats. The model barely used its context (or found the same thing in two places)${partial}.`;
  const [top, second] = r.ranking;
  if (top.delta > -NEAR_ZERO_NATS)
    return `Nothing helped it: removing spans only made the suggestion more likely (at most ${formatNats(Math.max(...r.ranking.map((s) => s.delta)))} nats)${partial}.`;
  const part = (s: SpanDependence) => `${describeSpan(s.span)} (${formatNats(s.delta)} nats without it)`;
  let line = `Mostly ${part(top)}`;
  if (second && second.delta <= top.delta / 2 && second.delta <= -NEAR_ZERO_NATS) line += ` and ${part(second)}`;
  const idle = (['suffix', 'snippet', 'copy'] as SpanKind[]).filter((kind) => {
    const of = r.ranking.filter((s) => s.span.kind === kind);
    return of.length > 0 && of.every((s) => Math.abs(s.delta) < NEAR_ZERO_NATS);
  });
  if (idle.length > 0) line += `; ${joinAnd(idle.map((k) => KIND_NAMES[k]))} did not matter`;
  return line + partial;
}

function joinAnd(xs: string[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`;
}

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
