/**
 * What a dependence ranking asks for and returns: for each span of a finished completion's
 * prompt (a line of the prefix or suffix window, a repository snippet, a copy source), how much
 * the suggestion's log-probability falls when the span is taken out of the model's view. Plain
 * data: it crosses the worker boundary by structured clone, and the CLI and the view read it.
 */
import type { CompletionRequest } from '../completion/completion';

/** Where a span sits: a line of the FIM window, a snippet before it, or an excerpt only the copy cache reads. */
export type SpanKind = 'prefix' | 'suffix' | 'snippet' | 'copy';

/**
 * How a span was taken out of the model's view:
 * - `mask`: its positions zeroed in the attention mask; every other token keeps its position;
 * - `delete`: its tokens left out of the prompt, so the tokens after it move up by its length
 *   (for graphs that do not really apply a mask: the probe in ablation.ts says which);
 * - `cache`: a copy source never enters the prompt; only the copy cache loses it.
 */
export type DependenceMethod = 'mask' | 'delete' | 'cache';

export interface PromptSpan {
  /** Index in the result's `spans`. */
  id: number;
  kind: SpanKind;
  /** Token range [start, end) in the prompt, or for `copy` in the copy cache's source sequence. */
  start: number;
  end: number;
  path?: string;
  /** 1-based first and last line in its file, when known. */
  firstLine?: number;
  lastLine?: number;
  /** The span's text (a snippet's without its path header). */
  text: string;
}

/** How one span mattered. Δ are nats: log p without the span − log p with it (negative: it helped). */
export interface SpanDependence {
  span: PromptSpan;
  method: DependenceMethod;
  /** Δ log p of the whole suggestion (every scored token). */
  delta: number;
  /** Δ per scored token. */
  tokenDeltas: number[];
  /** Index of the token whose log p changed most (either way), and that change. */
  maxToken: number;
  maxDelta: number;
  /** Greedy decoding's first token without the span (mixture and healing as in the completion). */
  firstToken: number;
  /** Whether it is the one greedy decoding picks with the span. */
  sameFirstToken: boolean;
}

/** The request a dependence ranking is for: the completion's own request and the tokens it produced. */
export interface DependenceRequest {
  /** The request the completion ran with (prefix, suffix, path, snippets, copy sources, settings). */
  completion: Omit<CompletionRequest, 'signal' | 'onToken' | 'textRules'>;
  /** The generated tokens to score, in order (suggestionTokens() gives those of the shown text). */
  generated: number[];
  /** The completion's promptText: when given, the rebuilt prompt must decode to it. */
  promptText?: string;
  /** Which spans to score (default: all of them). */
  kinds?: SpanKind[];
  /** Stop after this long and return what is done, marked partial, ms (default: no limit). */
  timeBudgetMs?: number;
  /** Force a removal method (tests, comparisons); default: mask when the graph applies it, else delete. */
  method?: 'mask' | 'delete';
}

export interface DependenceResult {
  /** How prompt spans were removed (copy sources always by `cache`). */
  method: 'mask' | 'delete';
  /** Why it is not `mask`, when it is not. */
  methodNote?: string;
  /** log p of the whole suggestion with every span in view (nats), and per token. */
  baseline: number;
  tokenLogprobs: number[];
  /** The scored tokens and their text. */
  tokens: { id: number; text: string }[];
  /** Whether greedy decoding with every span picks the suggestion's first token. */
  greedyFirst: boolean;
  /** Whether the copy cache took part (its matches are removed with each span). */
  copyCache: boolean;
  /** Every span of the prompt that was asked for, in prompt order. */
  spans: PromptSpan[];
  /** The spans scored, most depended on first (lowest Δ). */
  ranking: SpanDependence[];
  /** The time budget ran out (or no tokens left to score): some spans were not scored. */
  partial: boolean;
  promptTokens: number;
  timings: { totalMs: number; firstResultMs?: number; baselineMs: number; runs: number; tokensRun: number };
}
