/**
 * A token-level cache model for copy-aware decoding. Code repeats itself (names, calls, whole
 * lines from the same file and its neighbours), and a small model is weak at repeating exactly
 * what it has seen. So, as in cache language models (Kuhn & De Mori 1990; Tu et al. 2014;
 * Hellendoorn & Devanbu 2017's nested cache n-gram, which beat the neural models of its day on
 * code) and the neural cache (Grave et al. 2017), the next-token distribution is a mixture:
 *
 *   p(t) = (1 − λ)·p_model(t) + λ·p_cache(t)
 *
 * p_cache looks at every earlier place in the sequence (the prompt: snippets, suffix and prefix,
 * then the tokens generated so far) whose tokens match the latest ones, and at the token that
 * followed there. Longer matches weigh exponentially more (the nested n-gram: the longest
 * context that was seen decides). λ depends on how sure the cache is: the longest match's length
 * the share of the cache's mass on its first choice ("purity"), and whether the match lies wholly in
 * the output ("echo": after a generated `(`, the `(a: number, …` of the signature above is no
 * evidence at all; a copy's own tokens match its source too, so without this any copy that once
 * started, on however little evidence, would grow surer with every token), bucketed, one weight
 * per bucket fitted by EM on held-out code (bench/fitCopyCache.ts); the table lives in the model
 * folder's copy_cache.json when the model has one.
 */

export interface CopyCacheTable {
  /** Lower bounds of the match-length buckets, in tokens, ascending (the first is 1). */
  lengthBuckets: number[];
  /** Lower bounds of the purity buckets, ascending (the first is 0). */
  purityBuckets: number[];
  /** λ for [length bucket][purity bucket][0: the match reaches into the prompt, 1: it lies wholly in the output]. */
  weights: number[][][];
}

const DEFAULT_2D = [
  [0.02, 0.05, 0.08, 0.1],
  [0.05, 0.1, 0.15, 0.2],
  [0.1, 0.15, 0.25, 0.35],
  [0.15, 0.25, 0.4, 0.5],
  [0.2, 0.35, 0.5, 0.65],
  [0.25, 0.45, 0.6, 0.75],
  [0.3, 0.5, 0.7, 0.85],
];

/** Before a fit: trust the cache more as its match grows and its choice is clear, less for an echo of the output. */
export const DEFAULT_COPY_TABLE: CopyCacheTable = {
  lengthBuckets: [1, 2, 3, 4, 6, 9, 16],
  purityBuckets: [0, 0.5, 0.8, 0.99],
  weights: DEFAULT_2D.map((row) => row.map((w) => [w, w / 2])),
};

/** Matches are followed back at most this far (longer ones are all "long"). */
const MAX_MATCH = 32;
/** Occurrences are found by the last 1, 2 and 4 tokens; per key only the most recent are followed (bounded work per step). */
const KEY_ORDERS = [4, 2, 1];
const MAX_OCCURRENCES = 64;
/** Weight of an occurrence: e^(BETA·match length). */
const BETA = 1.5;
const MATCH_WEIGHT = Float64Array.from({ length: MAX_MATCH + 1 }, (_, len) => Math.exp(BETA * len));

interface CacheCandidate {
  id: number;
  /** p_cache(id). */
  p: number;
  /** Index in the sequence of the copied token (the most recent, longest-matching occurrence). */
  from: number;
}

export interface CachePrediction {
  /** Candidates, most probable first. */
  candidates: CacheCandidate[];
  /** Longest match, in tokens. */
  length: number;
  /** p_cache of the first candidate. */
  purity: number;
  /** Every matched token is in the output (none reaches back into the prompt). */
  echo: boolean;
  /** λ, the cache's share of the mixture. */
  weight: number;
}

export class CopyCache {
  /** Token ids as matched (see `normalize`). */
  private readonly seq: number[] = [];
  /** Token ids as they are (what a copy proposes). */
  private readonly raw: number[] = [];
  /**
   * Per key order k: the last k tokens ending at p -> indexes p (ascending) whose follower seq[p + 1]
   * is known. A common token ("\n") has thousands of occurrences; the longer keys find the few
   * that match far back.
   */
  private readonly positions = KEY_ORDERS.map(() => new Map<number, number[]>());

  /**
   * @param tokens the prompt the model reads.
   * @param exclude ids never proposed (special tokens: a copied end-of-file would end the completion).
   * @param normalize the id a token is matched as: " format" in `function formatDuration` and
   *   "format" in `log(formatDu` are one name (spaceInsensitiveIds).
   */
  constructor(
    tokens: readonly number[],
    private readonly exclude: ReadonlySet<number>,
    private readonly table: CopyCacheTable = DEFAULT_COPY_TABLE,
    private readonly normalize?: Int32Array,
  ) {
    for (const t of tokens) this.push(t);
  }

  /** Tokens before the first generated one. */
  private promptEnd = Infinity;
  /** predict()'s visited occurrences: visitedAt[p] === stamp when p was seen in this call. */
  private visitedAt = new Int32Array(0);
  private stamp = 0;
  /** predict()'s per-candidate lists, reused: it runs every decode step. */
  private readonly scratch = { ids: [] as number[], mass: [] as number[], from: [] as number[], lens: [] as number[] };

  get length(): number {
    return this.seq.length;
  }

  /** Appends a token (the prompt's, or a generated one). */
  push(id: number, generated = false): void {
    if (generated) this.promptEnd = Math.min(this.promptEnd, this.seq.length);
    const n = this.seq.length;
    for (let k = 0; k < KEY_ORDERS.length; k++) {
      const key = this.key(n - 1, KEY_ORDERS[k]);
      if (key === null) continue;
      const map = this.positions[k];
      let list = map.get(key);
      if (!list) map.set(key, (list = []));
      list.push(n - 1);
    }
    this.seq.push(this.normalize?.[id] ?? id);
    this.raw.push(id);
  }

  /** The tokens as they are, in order. */
  get tokens(): readonly number[] {
    return this.raw;
  }

  /**
   * Keeps the first `n` tokens (and forgets which were generated), so the next request's cache is
   * this one plus its new tail: consecutive requests share all but a few tokens of their prompts.
   */
  truncate(n: number): void {
    for (let m = this.seq.length - 1; m >= n; m--) {
      // push() of token m filed position m − 1 under the keys ending there: the last entry of each list
      for (let k = 0; k < KEY_ORDERS.length; k++) {
        const key = this.key(m - 1, KEY_ORDERS[k]);
        if (key === null) continue;
        const list = this.positions[k].get(key)!;
        list.pop();
        if (list.length === 0) this.positions[k].delete(key);
      }
      this.seq.pop();
      this.raw.pop();
    }
    if (this.promptEnd >= n) this.promptEnd = Infinity;
  }

  /** The cache's distribution for the next token, or null when the last token was never followed. */
  predict(): CachePrediction | null {
    const seq = this.seq;
    const n = seq.length;
    // a stamp per call and arrays, not a Set and a Map per call: this runs every decode step
    const stamp = ++this.stamp;
    if (this.visitedAt.length < n) {
      const grown = new Int32Array(Math.max(n, 2 * this.visitedAt.length));
      grown.set(this.visitedAt);
      this.visitedAt = grown;
    }
    const visited = this.visitedAt;
    // per distinct next token: its id, summed weight, best source and that source's match length
    const { ids, mass, from, lens } = this.scratch;
    ids.length = mass.length = from.length = lens.length = 0;
    let total = 0;
    let longest = 0;
    let reach = 0; // the most matched tokens of any occurrence that lie in the prompt
    for (let k = 0; k < KEY_ORDERS.length; k++) {
      const key = this.key(n - 1, KEY_ORDERS[k]);
      const list = key === null ? undefined : this.positions[k].get(key);
      if (!list) continue;
      for (let j = list.length - 1, seen = 0; j >= 0 && seen < MAX_OCCURRENCES; j--, seen++) {
        const p = list[j];
        if (visited[p] === stamp || seq[p] !== seq[n - 1]) continue; // keys are hashes: check the token itself
        visited[p] = stamp;
        const next = this.raw[p + 1];
        if (this.exclude.has(next)) continue;
        let len = 1;
        while (len < MAX_MATCH && p - len >= 0 && seq[p - len] === seq[n - 1 - len]) len++;
        const w = MATCH_WEIGHT[len];
        total += w;
        longest = Math.max(longest, len);
        // of the matched tokens seq[n - len .. n - 1], those in the prompt
        reach = Math.max(reach, Math.min(len, Math.max(0, this.promptEnd - (n - len))));
        const c = ids.indexOf(next);
        if (c < 0) {
          ids.push(next);
          mass.push(w);
          from.push(p + 1);
          lens.push(len);
        } else {
          mass[c] += w;
          if (len > lens[c]) {
            from[c] = p + 1; // the source shown is the best match
            lens[c] = len;
          }
        }
      }
    }
    if (total === 0) return null;
    const candidates = ids.map((id, c) => ({ id, p: mass[c] / total, from: from[c] })).sort((a, b) => b.p - a.p);
    const purity = candidates[0].p;
    const echo = reach === 0;
    const t = this.table;
    return {
      candidates,
      length: longest,
      purity,
      echo,
      weight: t.weights[bucket(t.lengthBuckets, longest)][bucket(t.purityBuckets, purity)][echo ? 1 : 0],
    };
  }

  /**
   * What a copy that took the token at `from` would go on to copy: up to `k` of the tokens that
   * followed it in the sequence, ending before any the cache never proposes. A draft for
   * generation to verify (generate.ts); the mixture still decides every token.
   */
  draft(from: number, k: number): number[] {
    const out: number[] = [];
    for (let p = from + 1; p < this.raw.length && out.length < k; p++) {
      if (this.exclude.has(this.raw[p])) break;
      out.push(this.raw[p]);
    }
    return out;
  }

  /** A hash of the k tokens ending at index p, as a map key (null before the sequence's start). */
  private key(p: number, k: number): number | null {
    if (p - k + 1 < 0) return null;
    let h = 0;
    for (let i = p - k + 1; i <= p; i++) h = (Math.imul(h, 0x9e3779b1) + this.seq[i] + 1) | 0;
    return h;
  }
}

/**
 * For each id, the id of the same text without its leading space, where the vocabulary has one
 * (else the id itself): byte-level BPE gives a name a different token after a space.
 */
export function spaceInsensitiveIds(texts: readonly string[]): Int32Array {
  const byText = new Map<string, number>();
  texts.forEach((t, id) => t && !byText.has(t) && byText.set(t, id));
  const out = new Int32Array(texts.length);
  texts.forEach((t, id) => (out[id] = t.length > 1 && t[0] === ' ' ? (byText.get(t.slice(1)) ?? id) : id));
  return out;
}

/** Index of the last lower bound ≤ x. */
export function bucket(bounds: readonly number[], x: number): number {
  let i = 0;
  while (i + 1 < bounds.length && x >= bounds[i + 1]) i++;
  return i;
}

/** A parsed copy_cache.json, or null when it is not a valid table. */
export function parseCopyTable(json: unknown): CopyCacheTable | null {
  if (typeof json !== 'object' || json === null) return null;
  const t = json as Partial<CopyCacheTable>;
  const nums = (a: unknown, n?: number): a is number[] =>
    Array.isArray(a) &&
    a.length > 0 &&
    (n === undefined || a.length === n) &&
    a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (
    !nums(t.lengthBuckets) ||
    !nums(t.purityBuckets) ||
    !Array.isArray(t.weights) ||
    t.weights.length !== t.lengthBuckets.length
  )
    return null;
  const ok = t.weights.every(
    (row) =>
      Array.isArray(row) &&
      row.length === t.purityBuckets!.length &&
      row.every((cell) => nums(cell, 2) && cell.every((w) => w >= 0 && w <= 1)),
  );
  return ok ? { lengthBuckets: t.lengthBuckets, purityBuckets: t.purityBuckets, weights: t.weights } : null;
}
