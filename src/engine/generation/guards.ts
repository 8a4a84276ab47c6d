/**
 * Guards that keep junk off the screen: a completion that loops (`b: number, b: number, …`), a line
 * no person would write, a suggestion that only retypes what follows the cursor, and one the
 * model (with its cache) is not sure of.
 */

/** Token n-grams this long or longer may appear at most twice in one completion. */
export const REPEAT_N = 3;
const REPEAT_MAX = 2;
/** Ids below 2^17 (any vocabulary this size or smaller): a trigram of them is one exact number (51 bits). */
const ID_BITS = 17;

/** The guard's key for ids[from, to): a number where it fits exactly (no string per generated token), else a string. */
function ngramKey(ids: readonly number[], from: number, to: number): number | string {
  if ((to - from) * ID_BITS > 53) return ids.slice(from, to).join(',');
  let key = 0;
  for (let i = from; i < to; i++) {
    if (ids[i] >= 2 ** ID_BITS) return ids.slice(from, to).join(',');
    key = key * 2 ** ID_BITS + ids[i];
  }
  return key;
}

/**
 * Cuts a completion before the third occurrence of any token trigram (every n-gram with n ≥ 3
 * that occurs three times starts with a trigram that does, no later).
 */
export class RepetitionGuard {
  private readonly ids: number[] = [];
  /** Occurrences per trigram (ngramKey). */
  private readonly seen = new Map<number | string, number>();
  /** Tokens to keep once `push` returned true. */
  keep = -1;

  /** Adds a generated token; true when the output must end, keeping its first `keep` tokens. */
  push(id: number): boolean {
    this.ids.push(id);
    const n = this.ids.length;
    if (n < REPEAT_N) return false;
    const key = ngramKey(this.ids, n - REPEAT_N, n);
    const count = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, count);
    if (count <= REPEAT_MAX) return false;
    this.keep = n - REPEAT_N;
    return true;
  }
}

/** Whether any token n-gram (n ≥ REPEAT_N) occurs more than REPEAT_MAX times in `ids` (for tests and the eval). */
export function hasRepeatedNgram(ids: readonly number[]): boolean {
  const g = new RepetitionGuard();
  return ids.some((id) => g.push(id));
}

/** Characters a completion may add to one line; longer lines from a small model are junk. */
export const MAX_LINE_CHARS = 160;

/** Cuts before the first completion line that runs past MAX_LINE_CHARS (the cursor's line counts its prefix). */
export function lineLengthCut(text: string, linePrefix: string): number {
  let start = 0;
  let first = true;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const width = end - start + (first ? linePrefix.length : 0);
    if (width > MAX_LINE_CHARS) return first ? 0 : start - 1;
    if (nl < 0) return -1;
    start = nl + 1;
    first = false;
  }
}

/** A line that declares something: there a copied header (parameters, `{`) is what is wanted. */
const DECLARATION_LINE =
  /^(?:export\s+)?(?:default\s+)?(?:public\s+|private\s+|protected\s+|static\s+|abstract\s+)*(?:async\s+)?(?:def|class|function|fn|func|interface|type|struct|impl)\b/;
/** A line that opens a block on a condition: `if (x) {` and `for x in xs:` end like headers. */
const CONTROL_LINE = /^(?:\}\s*)?(?:else\s+)?(?:if|elif|for|while|switch|catch|with|except|match|case)\b/;
/** The cursor sits in an expression: after `=`, `return`, `(`, `,` or `=>`, inside a name or before one. */
const IN_EXPRESSION = /(?:[^=!<>]=|\breturn|\(|,|=>)\s*[\w$.]*$/;
/** A completion's first line that ends by opening a block after a parameter list: `(ms: number): string {`, `(values):`. */
const OPENS_BLOCK_AFTER_PARAMS = /\)\s*(?::\s*[^=;{}()]+?)?\s*[{:]\s*$/;

/**
 * Where to end a declaration's header copied into an expression, or -1. At `const label =
 * formatDu` the copy cache finds `formatDuration(ms: number): string {` in another file: the
 * name is right, but the typed parameters and the `{` belong to the declaration, and a person
 * would reject the line. The completion keeps the name (`ration`) and ends there.
 */
export function declarationInExpressionCut(text: string, linePrefix: string): number {
  const line = linePrefix.trimStart();
  if (DECLARATION_LINE.test(line) || CONTROL_LINE.test(line) || !IN_EXPRESSION.test(line)) return -1;
  const first = text.split('\n')[0];
  if (!first.includes('(') || !OPENS_BLOCK_AFTER_PARAMS.test(first)) return -1;
  const name = /^[\w$]*/.exec(text)![0];
  // a function expression opens its block in an expression, rightly: `= function (a) {`, `= async (x): T {`
  const word = /[\w$]*$/.exec(line)![0] + name;
  if (FUNCTION_WORD.test(word) || FUNCTION_AFTER.test(first.slice(name.length))) return -1;
  return name.length;
}

const FUNCTION_WORD = /^(?:function|async|lambda)$/;
const FUNCTION_AFTER = /^\s*(?:function|async)\b/;

/** True when the completion only retypes text that already follows the cursor. */
export function onlyRetypesSuffix(completion: string, suffix: string): boolean {
  const squash = (s: string) => s.replace(/\s+/g, '');
  const c = squash(completion);
  return c !== '' && squash(suffix.slice(0, completion.length * 2 + 64)).startsWith(c);
}

/**
 * How sure the decoder was of the tokens shown: the geometric mean of their probabilities
 * (under the distribution that chose them) and the least of them.
 */
export interface Confidence {
  mean: number;
  min: number;
  /** Probability of the first token shown (a confident tail cannot vouch for an unsure start). */
  first: number;
  tokens: number;
}

export function confidenceOf(probabilities: readonly number[]): Confidence {
  if (probabilities.length === 0) return { mean: 0, min: 0, first: 0, tokens: 0 };
  let logSum = 0;
  let min = 1;
  for (const p of probabilities) {
    logSum += Math.log(Math.max(p, 1e-12));
    min = Math.min(min, p);
  }
  return { mean: Math.exp(logSum / probabilities.length), min, first: probabilities[0], tokens: probabilities.length };
}

/**
 * The confidence gate's default (the setting glassbox.completion.minConfidence, the CLI's
 * --min-confidence): from the precision/coverage table of `npm run eval` (models/glassbox-code/eval.md).
 * Here, beside the statistic it gates, so that the extension host reads it without loading the
 * completion pipeline.
 */
export const DEFAULT_MIN_CONFIDENCE = 0.3;
