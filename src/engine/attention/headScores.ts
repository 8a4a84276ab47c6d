/**
 * Automatic head labels. Each score is the average attention mass a head puts on one kind of
 * target, over the query rows where that target is meaningful; A[t][k] is the probability query
 * t gives key k (rows sum to 1, k ≤ t).
 *
 * - previous-token: mean over t ≥ 1 of A[t][t-1].
 * - first-token sink: mean over t ≥ 1 of A[t][0] (t = 0 has nowhere else to look).
 * - local window: mean over t ≥ 2W of Σ A[t][k] for k in [t-W+1, t], W = 8 (the query and the
 *   7 tokens before it); rows with t < 2W are skipped because there the window is half the context.
 * - induction-like: over queries t whose token appeared before, at some j < t-1, the mean of
 *   Σ A[t][j+1] over those earlier occurrences j: attention to the token that followed the
 *   previous occurrence of the current token (Olsson et al. 2022's induction pattern).
 *
 * A head gets the label whose score clears its threshold by the largest factor; otherwise `mixed`.
 * Thresholds sit well above what uniform attention scores (1/(t+1) per key).
 */
import type { HeadKind, HeadScores, HeadStat } from './types';

const LOCAL_WINDOW = 8;
const THRESHOLDS: [HeadKind, keyof HeadScores, number][] = [
  ['previous-token', 'previousToken', 0.4],
  ['first-token sink', 'sink', 0.5],
  ['local window', 'local', 0.6],
  ['induction-like', 'induction', 0.25],
];
/** Induction needs this many query rows with an earlier occurrence before it is judged. */
const MIN_INDUCTION_ROWS = 4;

/** Streaming accumulators for every (layer, head); fed one probability row at a time. */
export class HeadScoreAccumulator {
  private readonly sums: Float64Array; // [layer][head][4]
  private readonly counts = new Float64Array(4); // rows that count, per score (same for every head)
  private readonly targets: Int32Array[]; // per query: the keys j+1 after earlier occurrences

  constructor(
    private readonly layers: number,
    private readonly heads: number,
    ids: readonly number[],
  ) {
    this.sums = new Float64Array(layers * heads * 4);
    this.targets = inductionTargets(ids);
  }

  /** One row of layer `l`, head `h`, query `t`: probabilities over keys 0..t. */
  add(l: number, h: number, t: number, row: ArrayLike<number>, rowOffset = 0): void {
    const s = (l * this.heads + h) * 4;
    if (t >= 1) {
      this.sums[s] += row[rowOffset + t - 1];
      this.sums[s + 1] += row[rowOffset];
    }
    if (t >= 2 * LOCAL_WINDOW) {
      let local = 0;
      for (let k = t - LOCAL_WINDOW + 1; k <= t; k++) local += row[rowOffset + k];
      this.sums[s + 2] += local;
    }
    const targets = this.targets[t];
    if (targets.length > 0) {
      let mass = 0;
      for (const k of targets) mass += row[rowOffset + k];
      this.sums[s + 3] += mass;
    }
    if (l === 0 && h === 0) {
      if (t >= 1) this.counts[0]++;
      if (t >= 2 * LOCAL_WINDOW) this.counts[2]++;
      if (targets.length > 0) this.counts[3]++;
    }
  }

  result(): HeadStat[] {
    const out: HeadStat[] = [];
    const mean = (sum: number, n: number) => (n > 0 ? sum / n : 0);
    for (let l = 0; l < this.layers; l++) {
      for (let h = 0; h < this.heads; h++) {
        const s = (l * this.heads + h) * 4;
        const scores: HeadScores = {
          previousToken: mean(this.sums[s], this.counts[0]),
          sink: mean(this.sums[s + 1], this.counts[0]),
          local: mean(this.sums[s + 2], this.counts[2]),
          induction: this.counts[3] >= MIN_INDUCTION_ROWS ? mean(this.sums[s + 3], this.counts[3]) : 0,
        };
        out.push({ layer: l, head: h, scores, ...labelFor(scores) });
      }
    }
    return out;
  }
}

/** The label whose score beats its threshold by the largest factor, else `mixed`. */
function labelFor(scores: HeadScores): { label: HeadKind; score: number } {
  let best: { label: HeadKind; score: number } = { label: 'mixed', score: 0 };
  let bestRatio = 1;
  for (const [label, key, threshold] of THRESHOLDS) {
    const ratio = scores[key] / threshold;
    if (ratio >= bestRatio) {
      bestRatio = ratio;
      best = { label, score: scores[key] };
    }
  }
  return best;
}

/** For each query t, the positions j+1 (≤ t-1) following earlier occurrences j of ids[t]. */
export function inductionTargets(ids: readonly number[]): Int32Array[] {
  const seen = new Map<number, number[]>();
  return ids.map((id, t) => {
    const earlier = seen.get(id) ?? [];
    const targets = earlier.filter((j) => j + 1 < t).map((j) => j + 1);
    earlier.push(t);
    seen.set(id, earlier);
    return Int32Array.from(targets);
  });
}

/** Scores and labels for full matrices [layer][head][T][T] (tests and small captures). */
export function headStatsOf(matrices: Float32Array[], heads: number, ids: readonly number[]): HeadStat[] {
  const T = ids.length;
  const acc = new HeadScoreAccumulator(matrices.length, heads, ids);
  matrices.forEach((m, l) => {
    for (let h = 0; h < heads; h++) for (let t = 0; t < T; t++) acc.add(l, h, t, m, (h * T + t) * T);
  });
  return acc.result();
}
