/**
 * Choosing the next token when generation has more to go on than the model's logits: the copy
 * cache's mixture (copyCache.ts) and token healing's constraint (fimPrompt.ts), for greedy
 * decoding. Also records where each chosen token came from, for the glass box.
 */
import type { CachePrediction } from './copyCache';
import type { TextTokenizer } from '../runtime/tokenizer';

/** Where a generated token came from. */
export interface TokenSource {
  /** 'cache' when the cache's share of the chosen token's probability was larger than the model's. */
  kind: 'model' | 'cache';
  /** λ, the cache's weight in the mixture at this step (0 when the cache had nothing). */
  weight: number;
  /** Probability of the token under the distribution that chose it (the mixture). */
  p: number;
  /** Prompt or output index of the token the cache copied, for kind 'cache'. */
  from?: number;
  /** Match length behind the copy, tokens. */
  match?: number;
}

const VOCAB_TEXTS = new WeakMap<TextTokenizer, string[]>();

/** The text of every id ('' for special tokens), computed once per tokenizer. */
export function vocabularyTexts(tokenizer: TextTokenizer): string[] {
  let texts = VOCAB_TEXTS.get(tokenizer);
  if (!texts) {
    const n = tokenizer.vocabSize;
    texts = new Array<string>(n);
    for (let id = 0; id < n; id++) texts[id] = tokenizer.specialIds.has(id) ? '' : tokenizer.tokenText(id);
    VOCAB_TEXTS.set(tokenizer, texts);
  }
  return texts;
}

interface VocabIndex {
  /** Ids of the non-empty texts that decode on their own, sorted by text (UTF-16 order). */
  sortedIds: number[];
  /** Text → ids with that text. */
  byText: Map<string, number[]>;
}

const INDEXES = new WeakMap<readonly string[], VocabIndex>();

/**
 * The vocabulary sorted by text, built once per vocabulary: the tokens that start with a string
 * are one run of it, found by binary search (a healing step read a list of up to thousands of
 * texts that share the first character before: a space starts most of a code vocabulary).
 */
function vocabIndex(vocab: readonly string[]): VocabIndex {
  let index = INDEXES.get(vocab);
  if (!index) {
    const byText = new Map<string, number[]>();
    const sortedIds: number[] = [];
    vocab.forEach((t, id) => {
      if (!t || t.includes('\uFFFD')) return;
      sortedIds.push(id);
      const same = byText.get(t);
      if (same) same.push(id);
      else byText.set(t, [id]);
    });
    sortedIds.sort((a, b) => (vocab[a] < vocab[b] ? -1 : vocab[a] > vocab[b] ? 1 : a - b));
    INDEXES.set(vocab, (index = { sortedIds, byText }));
  }
  return index;
}

/** The run [lo, hi) of `index.sortedIds` whose texts start with `prefix`: two binary searches. */
function runStartingWith(vocab: readonly string[], index: VocabIndex, prefix: string): [number, number] {
  const ids = index.sortedIds;
  let [lo, hi] = [0, ids.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (vocab[ids[mid]] < prefix) lo = mid + 1;
    else hi = mid;
  }
  // the texts that start with `prefix` are one run from lo (sorted order)
  let [a, b] = [lo, ids.length];
  while (a < b) {
    const mid = (a + b) >> 1;
    if (vocab[ids[mid]].startsWith(prefix)) a = mid + 1;
    else b = mid;
  }
  return [lo, a];
}

/** The ids one step may choose from: membership, and the model's best of them, without listing them. */
export interface AllowedIds {
  has(id: number): boolean;
  /** The allowed id with the highest logit (the lowest id among equal logits); -1 when none is allowed. */
  best(logits: Float32Array): number;
  /** Every allowed id, ascending. */
  list(): number[];
}

/** AllowedIds over a list of ids. */
export function allowedOf(ids: readonly number[]): AllowedIds {
  const set = new Set(ids);
  const sorted = [...set].sort((a, b) => a - b);
  return {
    has: (id) => set.has(id),
    best: (logits) => bestOf(logits, sorted, 0, sorted.length, []),
    list: () => sorted.slice(),
  };
}

/** The id of `run[lo, hi)` and `extra` with the highest logit, the lowest id among equals; -1 for none. */
function bestOf(
  logits: Float32Array,
  run: readonly number[],
  lo: number,
  hi: number,
  extra: readonly number[],
): number {
  let best = -1;
  const consider = (id: number) => {
    if (best < 0 || logits[id] > logits[best] || (logits[id] === logits[best] && id < best)) best = id;
  };
  for (let i = lo; i < hi; i++) consider(run[i]);
  for (const id of extra) consider(id);
  return best;
}

/**
 * Token healing's constraint: the output must start with `text`. Allowed are the tokens that start
 * with the text left to match (and complete it), the first token of that text's own tokenization,
 * and runs of whitespace within it: a model may not spell "directi" as d·i·r·e·c·t·i, which no
 * tokenizer would produce.
 *
 * A rest that starts with a space or a common letter allows thousands of tokens (a space starts
 * most of a code vocabulary): the allowed set is a run of the vocabulary sorted by text plus a few
 * extra ids, never a list sorted and hashed per step (that was 0.26 ms a healing step on a 2-core
 * EPYC, most of a warm request's token choice).
 */
export class HealingConstraint {
  private allowed: AllowedIds | null = null;
  /** The rest's own tokens while they are known (the prompt's, as the rest is consumed token by token). */
  private own: number[];

  constructor(
    private rest: string,
    private readonly vocab: readonly string[],
    private readonly tokenizer: TextTokenizer,
    ownIds: readonly number[] = [],
  ) {
    this.own = vocab.length > 0 && ownIds.map((id) => vocab[id] ?? '').join('') === rest ? [...ownIds] : [];
  }

  get active(): boolean {
    return this.rest.length > 0;
  }

  /** Ids that keep the output consistent with the healed text, ascending. */
  allowedIds(): number[] {
    return this.allowedSet().list();
  }

  /** The same ids as a set. */
  allowedSet(): AllowedIds {
    if (this.allowed) return this.allowed;
    const index = vocabIndex(this.vocab);
    const rest = this.rest;
    const [lo, hi] = runStartingWith(this.vocab, index, rest);
    // whitespace is tokenized by what follows it ("   " + " return"), so any run of it that fits is fine
    const extra: number[] = [];
    const leading = rest.length - rest.trimStart().length;
    for (let k = 1; k <= Math.min(leading, rest.length - 1); k++)
      extra.push(...(index.byText.get(rest.slice(0, k)) ?? []));
    const first = this.own[0] ?? this.tokenizer.encode(rest)[0];
    const inRun = (id: number) => {
      const t = this.vocab[id];
      return t !== undefined && t !== '' && !t.includes('\uFFFD') && t.startsWith(rest);
    };
    if (first !== undefined && !inRun(first) && !extra.includes(first)) extra.push(first);
    const run = index.sortedIds;
    return (this.allowed = {
      has: (id) => inRun(id) || extra.includes(id),
      best: (logits) => bestOf(logits, run, lo, hi, extra),
      list: () => [...run.slice(lo, hi), ...extra].sort((a, b) => a - b),
    });
  }

  /** Consumes the chosen token's text. */
  advance(tokenText: string): void {
    this.rest = this.rest.slice(Math.min(this.rest.length, tokenText.length));
    this.own = this.own.length > 0 && this.vocab[this.own[0]] === tokenText ? this.own.slice(1) : [];
    this.allowed = null;
  }
}

interface Choice {
  id: number;
  source: TokenSource;
}

/**
 * The greedy choice under p = (1 − λ)·p_model + λ·p_cache, among `allowed` ids when given.
 * `best` is the model's own argmax (over all ids); `lse` is log Σ exp(logits).
 */
export function chooseGreedy(
  logits: Float32Array,
  lse: number,
  best: number,
  cache: CachePrediction | null,
  allowed: AllowedIds | null,
): Choice {
  const constrained = allowed ? allowed.best(logits) : -1;
  const modelBest = constrained >= 0 ? constrained : best;
  const pModel = (id: number) => Math.exp(logits[id] - lse);
  const lambda = cache?.weight ?? 0;
  const pCache = (id: number) => cache?.candidates.find((c) => c.id === id)?.p ?? 0;
  let choice = modelBest;
  let pBest = (1 - lambda) * pModel(modelBest) + lambda * pCache(modelBest);
  let from: { from: number } | undefined;
  if (cache) {
    for (const c of cache.candidates) {
      if (allowed && !allowed.has(c.id)) continue;
      const p = (1 - lambda) * pModel(c.id) + lambda * c.p;
      if (p > pBest) {
        choice = c.id;
        pBest = p;
      }
    }
    from = cache.candidates.find((c) => c.id === choice);
  }
  const cacheShare = lambda * pCache(choice);
  const kind = cacheShare > (1 - lambda) * pModel(choice) ? 'cache' : 'model';
  return {
    id: choice,
    source: {
      kind,
      weight: lambda,
      p: pBest,
      ...(kind === 'cache' && from ? { from: from.from, match: cache!.length } : {}),
    },
  };
}
