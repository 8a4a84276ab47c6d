/**
 * Choosing the next token when generation has more to go on than the model's logits: the copy
 * cache's mixture (copyCache.ts) and token healing's constraint (fimPrompt.ts), for greedy
 * decoding. Also records where each chosen token came from, for the glass box.
 */
import type { CachePrediction } from './copyCache';
import type { TextTokenizer } from './tokenizer';

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

/** Ids of the tokens whose text starts with `prefix`. */
function idsStartingWith(vocab: readonly string[], index: VocabIndex, prefix: string): number[] {
  const ids = index.sortedIds;
  let [lo, hi] = [0, ids.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (vocab[ids[mid]] < prefix) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < ids.length && vocab[ids[i]].startsWith(prefix); i++) out.push(ids[i]);
  return out;
}

/**
 * Token healing's constraint: the output must start with `text`. Allowed are the tokens that start
 * with the text left to match (and complete it), the first token of that text's own tokenization,
 * and runs of whitespace within it: a model may not spell "directi" as d·i·r·e·c·t·i, which no
 * tokenizer would produce.
 */
export class HealingConstraint {
  private allowed: number[] | null = null;
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

  /** Ids that keep the output consistent with the healed text. */
  allowedIds(): number[] {
    if (this.allowed) return this.allowed;
    const index = vocabIndex(this.vocab);
    const out = idsStartingWith(this.vocab, index, this.rest);
    // whitespace is tokenized by what follows it ("   " + " return"), so any run of it that fits is fine
    const leading = this.rest.length - this.rest.trimStart().length;
    for (let k = 1; k <= Math.min(leading, this.rest.length - 1); k++)
      out.push(...(index.byText.get(this.rest.slice(0, k)) ?? []));
    out.sort((a, b) => a - b);
    const first = this.own[0] ?? this.tokenizer.encode(this.rest)[0];
    if (first !== undefined && !out.includes(first)) out.push(first);
    return (this.allowed = out);
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
  allowed: readonly number[] | null,
): Choice {
  let modelBest = best;
  if (allowed) {
    modelBest = allowed[0] ?? best;
    for (const id of allowed) if (logits[id] > logits[modelBest]) modelBest = id;
  }
  const pModel = (id: number) => Math.exp(logits[id] - lse);
  const lambda = cache?.weight ?? 0;
  const pCache = (id: number) => cache?.candidates.find((c) => c.id === id)?.p ?? 0;
  let choice = modelBest;
  let pBest = (1 - lambda) * pModel(modelBest) + lambda * pCache(modelBest);
  let from: { from: number } | undefined;
  if (cache) {
    const allowedSet = allowed ? new Set(allowed) : null;
    for (const c of cache.candidates) {
      if (allowedSet && !allowedSet.has(c.id)) continue;
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
