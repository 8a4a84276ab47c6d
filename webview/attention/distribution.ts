/**
 * The final next-token distribution under temperature, top-k and top-p, recomputed in the
 * webview from the model's logits at the selected position (the same order of operations as the
 * engine's logits processors: temperature, then top-k, then top-p, then renormalise).
 */

export interface Sampling {
  temperature: number;
  /** 0: off */
  topK: number;
  /** 1: off */
  topP: number;
}

export interface Bar {
  id: number;
  prob: number;
}

/** The `show` most likely tokens after the processors, and how many tokens stay possible. */
export function processedDistribution(logits: Float32Array, s: Sampling, show: number): { bars: Bar[]; kept: number } {
  const t = Math.max(1e-3, s.temperature);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp((logits[i] - max) / t);
    sum += p[i];
  }
  // Sorting the whole vocabulary is only needed when top-p reaches past the best few hundred.
  let order = topOrder(p, Math.max(show, s.topK, 256));
  let kept = s.topK > 0 ? Math.min(s.topK, logits.length) : logits.length;
  if (s.topP < 1) {
    let cum = 0;
    let n = 0;
    for (; n < order.length && cum < s.topP * sum; n++) cum += p[order[n]];
    if (cum < s.topP * sum && order.length < logits.length) {
      order = topOrder(p, logits.length);
      for (; n < order.length && cum < s.topP * sum; n++) cum += p[order[n]];
    }
    kept = Math.min(kept, Math.max(1, n));
  }
  let keptSum = 0;
  if (kept === logits.length) keptSum = sum;
  else {
    if (order.length < kept) order = topOrder(p, kept);
    for (let i = 0; i < kept; i++) keptSum += p[order[i]];
  }
  const bars = order.slice(0, Math.min(show, kept)).map((id) => ({ id, prob: p[id] / keptSum }));
  return { bars, kept };
}

/** Indices of the n largest entries, largest first. */
function topOrder(p: Float64Array, n: number): number[] {
  if (n >= p.length) return Array.from(p.keys()).sort((a, b) => p[b] - p[a]);
  const idx: number[] = [];
  let floor = -Infinity;
  for (let i = 0; i < p.length; i++) {
    if (idx.length === n && p[i] <= floor) continue;
    idx.push(i);
    if (idx.length > 2 * n) {
      idx.sort((a, b) => p[b] - p[a]);
      idx.length = n;
      floor = p[idx[n - 1]];
    }
  }
  return idx.sort((a, b) => p[b] - p[a]).slice(0, n);
}
