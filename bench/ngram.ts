/**
 * The n-gram baseline for `npm run eval`: an interpolated Kneser–Ney 4-gram over token ids
 * (Chen & Goodman 1998, one discount per order D = n1 / (n1 + 2·n2)), trained on the same tokens as
 * the transformer (models/recipe/data/tokens/train.bin, files separated by <|endoftext|>).
 *
 * Counts live in sorted typed arrays: an n-gram (t1..tn) is the key Σ tᵢ·V^(n−i), exact in a
 * float64 while V^4 ≤ 2^53 (V = 8192 gives 2^52). All continuations of a context are one
 * contiguous key range, found by binary search.
 *   order 4: raw counts c(abcd)
 *   order 3: continuation counts N1+(·bcd) = distinct a before bcd; likewise orders 2 and 1
 * p(w|abc) = max(c(abcw) − D4, 0)/c(abc·) + D4·N1+(abc·)/c(abc·) · p(w|bc), down to the
 * unigram continuation distribution, itself mixed with the uniform distribution.
 */

interface Level {
  keys: Float64Array; // sorted unique n-gram keys
  counts: Uint32Array; // count (order 4) or continuation count (orders 1–3) per key
  cum: Float64Array; // cum[i] = Σ counts[0..i)
  discount: number;
}

/** Sorted unique keys of `keys` (sorted in place) and how often each occurs. */
function uniqueCounts(keys: Float64Array): { keys: Float64Array; counts: Uint32Array } {
  keys.sort();
  let n = 0;
  for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[i - 1]) n++;
  const u = new Float64Array(n);
  const c = new Uint32Array(n);
  let j = -1;
  for (let i = 0; i < keys.length; i++) {
    if (i === 0 || keys[i] !== keys[i - 1]) u[++j] = keys[i];
    c[j]++;
  }
  return { keys: u, counts: c };
}

function makeLevel(keys: Float64Array, counts: Uint32Array): Level {
  const cum = new Float64Array(counts.length + 1);
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < counts.length; i++) {
    cum[i + 1] = cum[i] + counts[i];
    if (counts[i] === 1) n1++;
    else if (counts[i] === 2) n2++;
  }
  const discount = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.75;
  return { keys, counts, cum, discount };
}

/** First index with keys[i] >= x. */
function lowerBound(keys: Float64Array, x: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The continuations of one context at one order: index range [from, to) into the level. */
interface Span {
  level: Level;
  from: number;
  to: number;
  total: number; // Σ counts over the span
  base: number; // key of (context, 0)
}

export class KneserNey4 {
  private constructor(
    readonly vocab: number,
    private readonly levels: Level[], // index 0..3 = orders 1..4 (order 1 keyed by the token itself)
    private readonly unigram: Float64Array, // p1(w)
  ) {
    this.scratch = new Float64Array(vocab);
  }

  private readonly scratch: Float64Array; // argmax's dense distribution, reused

  /** Counts over `tokens` (uint16 ids, files separated by EOT). Takes a few seconds per 10M tokens. */
  static train(tokens: Uint16Array, vocab: number): KneserNey4 {
    const V = vocab;
    const n = tokens.length;
    const k4 = new Float64Array(Math.max(0, n - 3));
    for (let i = 0; i + 3 < n; i++) k4[i] = ((tokens[i] * V + tokens[i + 1]) * V + tokens[i + 2]) * V + tokens[i + 3];
    const u4 = uniqueCounts(k4);
    const levels: Level[] = new Array(4);
    levels[3] = makeLevel(u4.keys, u4.counts);
    // continuation counts: each distinct n-gram type adds one to its (n−1)-token suffix
    let types = u4.keys;
    for (let order = 3; order >= 1; order--) {
      const mod = V ** order;
      const suffixes = new Float64Array(types.length);
      for (let i = 0; i < types.length; i++) suffixes[i] = types[i] % mod;
      const u = uniqueCounts(suffixes);
      levels[order - 1] = makeLevel(u.keys, u.counts);
      types = u.keys;
    }
    const l1 = levels[0];
    const total = l1.cum[l1.counts.length];
    const unigram = new Float64Array(V).fill((l1.discount * l1.counts.length) / total / V);
    for (let i = 0; i < l1.keys.length; i++) unigram[l1.keys[i]] += Math.max(l1.counts[i] - l1.discount, 0) / total;
    return new KneserNey4(V, levels, unigram);
  }

  /** Continuation spans for the contexts (c), (b,c), (a,b,c) of `ctx` (its last 3 ids), lowest order first. */
  private spans(ctx: readonly number[]): Span[] {
    const V = this.vocab;
    const out: Span[] = [];
    let key = 0;
    for (let k = 1; k <= 3 && k <= ctx.length; k++) {
      key += ctx[ctx.length - k] * V ** (k - 1); // context of length k as a number
      const level = this.levels[k];
      const base = key * V;
      const from = lowerBound(level.keys, base);
      const to = lowerBound(level.keys, base + V);
      if (to === from) break; // unseen context: higher orders are unseen too
      out.push({ level, from, to, total: level.cum[to] - level.cum[from], base });
    }
    return out;
  }

  /** p(w | ctx) for one token. */
  prob(ctx: readonly number[], w: number): number {
    let p = this.unigram[w];
    for (const s of this.spans(ctx)) {
      const i = lowerBound(s.level.keys, s.base + w);
      const c = i < s.to && s.level.keys[i] === s.base + w ? s.level.counts[i] : 0;
      p = Math.max(c - s.level.discount, 0) / s.total + ((s.level.discount * (s.to - s.from)) / s.total) * p;
    }
    return p;
  }

  /** The most probable next token after ctx. */
  argmax(ctx: readonly number[]): number {
    const spans = this.spans(ctx);
    // p(w) = Σ_k (Π_{j>k} β_j)·α_k(w) + (Π_j β_j)·p1(w): dense p1 term, then the sparse terms
    const betas = spans.map((s) => (s.level.discount * (s.to - s.from)) / s.total);
    const p = this.scratch;
    let coef = betas.reduce((a, b) => a * b, 1);
    for (let w = 0; w < this.vocab; w++) p[w] = coef * this.unigram[w];
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k];
      coef = betas.slice(k + 1).reduce((a, b) => a * b, 1);
      for (let i = s.from; i < s.to; i++)
        p[s.level.keys[i] - s.base] += (coef * Math.max(s.level.counts[i] - s.level.discount, 0)) / s.total;
    }
    let best = 0;
    for (let w = 1; w < this.vocab; w++) if (p[w] > p[best]) best = w;
    return best;
  }

  /** Distinct n-grams per order (1..4), for the report. */
  get sizes(): number[] {
    return this.levels.map((l) => l.keys.length);
  }
}
