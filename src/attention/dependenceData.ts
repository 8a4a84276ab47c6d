/**
 * Turns a dependence ranking (the engine's, streamed or finished) into what the Attention view's
 * "What it depended on" section draws, and a span into the place a click opens and the editor
 * tint marks. Pure (no vscode), so the unit tests check it in plain Node.
 */
import {
  describeSpan,
  NEAR_ZERO_NATS,
  nearZero,
  spanPlace,
  verdict,
  type CompletionRequest,
  type DependenceResult,
  type PromptSpan,
  type SpanDependence,
} from '../engine';
import type { DependRanking, DependRow } from '../../webview/attention/protocol';

/** What a ranking is of: the request the completion ran with (as the router served it). */
export type RankedRequest = Pick<CompletionRequest, 'prefix' | 'path' | 'startLine'>;

/** Spans the editor tint marks at most, and its intensity bands. */
export const TINT_SPANS = 5;
export const TINT_LEVELS = 4;

/**
 * Reading order: snippets (they come first in the prompt), then the document's lines top to
 * bottom (prefix and suffix together), then the copy sources.
 */
export function spanOrder(s: PromptSpan): number {
  const group = s.kind === 'snippet' ? 0 : s.kind === 'copy' ? 2 : 1;
  const line = s.kind === 'prefix' || s.kind === 'suffix' ? (s.firstLine ?? 0) : 0;
  return group * 1e9 + line * 1e4 + s.id;
}

export function dependRow(r: SpanDependence, openable: boolean): DependRow {
  const s = r.span;
  return {
    id: s.id,
    kind: s.kind,
    label: s.kind === 'snippet' || s.kind === 'copy' ? spanPlace(s) : describeSpan(s),
    text: clip(s.text, 400),
    order: spanOrder(s),
    method: r.method,
    delta: r.delta,
    tokenDeltas: r.tokenDeltas,
    maxToken: r.maxToken,
    maxDelta: r.maxDelta,
    sameFirstToken: r.sameFirstToken,
    openable,
  };
}

/** The ranking as it stands: `scored` so far (in any order), or the finished `result`. */
export function dependRanking(o: {
  runId: number;
  title: string;
  /** The scored tokens' text while streaming (the result's replace them). */
  tokens: string[];
  scored: readonly SpanDependence[];
  result?: DependenceResult;
  openable: (s: PromptSpan) => boolean;
}): DependRanking {
  const r = o.result;
  const ranking = r ? r.ranking : [...o.scored].sort((a, b) => a.delta - b.delta || a.span.id - b.span.id);
  const tokens = r ? r.tokens.map((t) => t.text) : o.tokens;
  // while streaming, the spans asked for are not known yet: the verdict speaks of those scored
  const words = r ?? {
    ranking,
    spans: ranking.map((x) => x.span),
    tokens: tokens.map((text) => ({ id: 0, text })),
    partial: false,
  };
  return {
    runId: o.runId,
    title: o.title,
    tokens,
    verdict: verdict(words),
    nearZero: nearZero({ ranking }),
    nearZeroNats: NEAR_ZERO_NATS,
    rows: ranking.map((x) => dependRow(x, o.openable(x.span))),
    done: !!r,
    ...(r
      ? {
          result: {
            method: r.method,
            ...(r.methodNote ? { methodNote: r.methodNote } : {}),
            baseline: r.baseline,
            tokenLogprobs: r.tokenLogprobs,
            greedyFirst: r.greedyFirst,
            copyCache: r.copyCache,
            spans: r.spans.length,
            partial: r.partial,
            totalMs: r.timings.totalMs,
          },
        }
      : {}),
  };
}

/** Where a span is: the cursor's document or a workspace file, 0-based lines. */
export type SpanLocation =
  | { in: 'document'; line: number; lastLine: number }
  | { in: 'workspace'; path: string; line: number; lastLine: number };

/**
 * The place a span stands for. A line of the window, or an excerpt of the completion's own file,
 * is in the cursor's document; its line numbers are the request's, which are the document's
 * except in a notebook, where the cells above come first: `cursorLine` (the cursor's 0-based line
 * in the document) says how far they are shifted. A snippet or copy source of another file is in
 * the workspace at its path. Null when the span has no lines, or lies in a cell above.
 */
export function spanLocation(s: PromptSpan, req: RankedRequest, cursorLine?: number): SpanLocation | null {
  if (s.firstLine === undefined) return null;
  const first = s.firstLine - 1;
  const last = (s.lastLine ?? s.firstLine) - 1;
  const own = s.kind === 'prefix' || s.kind === 'suffix' || (s.path !== undefined && s.path === req.path);
  if (!own) return s.path ? { in: 'workspace', path: s.path, line: first, lastLine: last } : null;
  const requestCursor = req.startLine === undefined ? undefined : req.startLine + countNewlines(req.prefix);
  const shift = requestCursor !== undefined && cursorLine !== undefined ? requestCursor - cursorLine : 0;
  if (last - shift < 0) return null;
  return { in: 'document', line: Math.max(0, first - shift), lastLine: last - shift };
}

/** The spans the editor tint marks: the top ones that mattered, each with its band (TINT_LEVELS - 1 = the top span's). */
export function tintSpans(ranking: readonly SpanDependence[]): { span: SpanDependence; level: number }[] {
  const top = [...ranking]
    .sort((a, b) => a.delta - b.delta)
    .filter((r) => r.delta <= -NEAR_ZERO_NATS)
    .slice(0, TINT_SPANS);
  const strongest = top[0]?.delta ?? 0;
  return top.map((span) => ({
    span,
    level: Math.max(0, Math.min(TINT_LEVELS - 1, Math.ceil((span.delta / strongest) * TINT_LEVELS) - 1)),
  }));
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
