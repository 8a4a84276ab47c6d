/**
 * Turning logits into the next token: logits processors `(ids, logits) => logits` applied in a
 * list, then greedy argmax or seeded sampling. Also the log-softmax that reports each token's
 * logprob and its top alternatives.
 */

/** Rewrites next-token logits in place (or returns new ones); `ids` is the sequence so far. */
export type LogitsProcessor = (ids: readonly number[], logits: Float32Array) => Float32Array;

export const temperature =
  (t: number): LogitsProcessor =>
  (_ids, logits) => {
    for (let i = 0; i < logits.length; i++) logits[i] /= t;
    return logits;
  };

/**
 * CTRL's repetition penalty (Keskar et al. 2019) on the tokens generated so far (`ids` from
 * `from` on): a positive logit is divided by `penalty`, a negative one multiplied, so a token
 * already said becomes less likely whatever its sign. The prompt is left alone: an explanation
 * should be free to name the code's identifiers.
 */
export const repetitionPenalty =
  (penalty: number, from: number): LogitsProcessor =>
  (ids, logits) => {
    const seen = new Set(ids.slice(from));
    for (const id of seen)
      if (id < logits.length) logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
    return logits;
  };

/** Keeps the k largest logits; the rest become -Infinity. */
export const topK =
  (k: number): LogitsProcessor =>
  (_ids, logits) => {
    if (k <= 0 || k >= logits.length) return logits;
    const threshold = kthLargest(logits, k);
    let kept = 0;
    for (let i = 0; i < logits.length; i++) {
      // Ties at the threshold: keep only as many as k allows.
      if (logits[i] > threshold || (logits[i] === threshold && kept < k)) kept++;
      else logits[i] = -Infinity;
    }
    return logits;
  };

/** Nucleus sampling: keeps the smallest set of tokens whose probability reaches p. */
export const topP =
  (p: number): LogitsProcessor =>
  (_ids, logits) => {
    if (p >= 1) return logits;
    const probs = softmax(logits);
    const order = argsortDesc(probs);
    let cum = 0;
    let cut = order.length;
    for (let r = 0; r < order.length; r++) {
      cum += probs[order[r]];
      if (cum >= p) {
        cut = r + 1;
        break;
      }
    }
    for (let r = cut; r < order.length; r++) logits[order[r]] = -Infinity;
    return logits;
  };

/** Applies processors in order; the input array is not modified. */
export function applyProcessors(
  processors: readonly LogitsProcessor[],
  ids: readonly number[],
  logits: Float32Array,
): Float32Array {
  let out: Float32Array = Float32Array.from(logits);
  for (const p of processors) out = p(ids, out);
  return out;
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** log Σ exp(logits), in float64: logprob(i) = logits[i] - logSumExp(logits). */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}

/** log softmax of every entry (for callers that need the whole distribution). */
export function logSoftmax(logits: Float32Array): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** Indices of the `k` largest values, largest first. One pass; O(n) while few values beat the k-th. */
export function topIndices(x: Float32Array | Float64Array, k: number): number[] {
  const best: number[] = [];
  let floor = -Infinity; // the k-th largest value so far, once k are held
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (best.length === k && v <= floor) continue;
    let j = best.length < k ? best.length : k - 1;
    while (j > 0 && x[best[j - 1]] < v) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = i;
    if (best.length === k) floor = x[best[k - 1]];
  }
  return best;
}

function argsortDesc(x: Float32Array): number[] {
  return Array.from(x.keys()).sort((a, b) => x[b] - x[a]);
}

function kthLargest(x: Float32Array, k: number): number {
  return Float32Array.from(x).sort()[x.length - k];
}

/** Deterministic PRNG (mulberry32): the same seed gives the same samples on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws an index from the distribution softmax(logits); -Infinity entries are never drawn. */
export function sampleFromLogits(logits: Float32Array, random: () => number): number {
  const probs = softmax(logits);
  let r = random();
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i];
    if (r < 0) return i;
  }
  // Float rounding left r ≥ 0: return the last token with any mass.
  for (let i = probs.length - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return 0;
}

/**
 * Temperatures below this decode greedily: the distribution is one-hot to float precision anyway,
 * and dividing logits by 1e-39 gives infinities (an empty output that claimed "eos").
 */
export const GREEDY_BELOW = 1e-4;

/** Whether a temperature means greedy decoding (unset, 0 or below GREEDY_BELOW). */
export function isGreedy(temperature: number | undefined): boolean {
  return !temperature || temperature < GREEDY_BELOW;
}
