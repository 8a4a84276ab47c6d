/**
 * The per-click work on a capture: one query's rows for every layer and head, their mean and max
 * across heads, its attention-rollout row, and the line view's edges. Pure functions on typed
 * arrays (the extension host runs them; bench/attention.ts times them).
 */
import type { AttentionCapture } from './types';

export type CaptureData = Pick<
  AttentionCapture,
  'numLayers' | 'numHeads' | 'seqLen' | 'storage' | 'queries' | 'heads' | 'means'
>;

interface QueryView {
  position: number;
  /** [layer][head][T] */
  heads: Float32Array;
  /** [layer][T]: mean over heads */
  mean: Float32Array;
  /** [layer][T]: max over heads */
  max: Float32Array;
  /** Rollout row [T]; null when not asked for, or when the head means were not kept. */
  rollout: Float32Array | null;
}

/** Index of position q's rows in `heads` (q itself for full storage), or -1 when not recorded. */
function rowSlot(c: CaptureData, q: number): number {
  if (c.storage === 'full') return q >= 0 && q < c.seqLen ? q : -1;
  return c.queries.indexOf(q);
}

/**
 * Everything the views repaint when query q is selected; null when q's rows were not recorded.
 * Rollout (L·q²/2 multiply-adds, the bulk of the work) only when `withRollout`.
 */
export function queryView(c: CaptureData, q: number, withRollout = true): QueryView | null {
  const slot = rowSlot(c, q);
  if (slot < 0) return null;
  const { numLayers: L, numHeads: H, seqLen: T } = c;
  const rows = c.storage === 'full' ? T : c.queries.length;
  const heads = new Float32Array(L * H * T);
  const mean = new Float32Array(L * T);
  const max = new Float32Array(L * T);
  const n = q + 1; // causal: keys after q are zero
  for (let l = 0; l < L; l++) {
    const src = c.heads[l];
    const m = mean.subarray(l * T, l * T + n);
    const x = max.subarray(l * T, l * T + n);
    for (let h = 0; h < H; h++) {
      const row = src.subarray((h * rows + slot) * T, (h * rows + slot) * T + n);
      heads.set(row, (l * H + h) * T);
      for (let k = 0; k < n; k++) {
        m[k] += row[k];
        if (row[k] > x[k]) x[k] = row[k];
      }
    }
    for (let k = 0; k < n; k++) m[k] /= H;
  }
  return { position: q, heads, mean, max, rollout: withRollout && c.means ? rolloutRow(c.means, T, q) : null };
}

const rowSumCache = new WeakMap<Float32Array, Float32Array>();

function rowSums(m: Float32Array, T: number): Float32Array {
  let sums = rowSumCache.get(m);
  if (!sums) {
    sums = new Float32Array(T);
    for (let j = 0; j < T; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += m[j * T + k];
      sums[j] = s;
    }
    rowSumCache.set(m, sums);
  }
  return sums;
}

/**
 * Attention rollout (Abnar & Zuidema 2020) with the residual identity: Ã_l = 0.5·A_l + 0.5·I,
 * rows renormalised, A_l the head-mean attention of layer l; R = Ã_L ⋯ Ã_1. Returns row q of R,
 * computed as e_q·Ã_L⋯Ã_1 (vector–matrix products: L·q²/2 multiply-adds, no T³ product).
 */
export function rolloutRow(means: readonly Float32Array[], T: number, q: number): Float32Array {
  let v = new Float32Array(T);
  v[q] = 1;
  for (let l = means.length - 1; l >= 0; l--) {
    const a = means[l];
    const sums = rowSums(a, T);
    const next = new Float32Array(T);
    for (let j = 0; j <= q; j++) {
      const vj = v[j];
      if (vj === 0) continue;
      const c = vj / (sums[j] + 1); // (0.5·A + 0.5·I) / (0.5·Σ + 0.5)
      const base = j * T;
      for (let k = 0; k <= j; k++) next[k] += c * a[base + k];
      next[j] += c;
    }
    v = next;
  }
  return v;
}

interface LineEdges {
  layer: number;
  start: number;
  end: number;
  threshold: number;
  /** Per edge: query, key, head and weight; the heaviest first. */
  query: Int32Array;
  key: Int32Array;
  head: Int32Array;
  weight: Float32Array;
  /** Edges above the threshold before the cap. */
  total: number;
}

/**
 * Lines for the line view: for queries and keys in [start, end) of `layer`, every weight ≥
 * threshold (one head, or all when head < 0), keeping the heaviest `maxEdges`. Queries without
 * recorded rows (outside the budget) have no lines.
 */
export function lineEdges(
  c: CaptureData,
  layer: number,
  head: number,
  start: number,
  end: number,
  threshold: number,
  maxEdges = 4000,
): LineEdges {
  const { numHeads: H, seqLen: T } = c;
  const none = { layer, start, end, threshold, query: new Int32Array(0), key: new Int32Array(0) };
  // a message from the view is checked here, where the capture's shape is known (layer 99 threw)
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.heads.length || !Number.isInteger(head) || head >= H)
    return { ...none, head: new Int32Array(0), weight: new Float32Array(0), total: 0 };
  start = Math.max(0, Math.floor(start));
  end = Math.min(T, Math.floor(end));
  const rows = c.storage === 'full' ? T : c.queries.length;
  // the heaviest maxEdges only: at threshold 0 over every head a 1,000-token capture has millions
  // of edges, and keeping them all took seconds and hundreds of MB
  let found: { q: number; k: number; h: number; w: number }[] = [];
  let floor = threshold;
  let total = 0;
  const src = c.heads[layer];
  for (let q = start; q < end; q++) {
    const slot = rowSlot(c, q);
    if (slot < 0) continue;
    for (let h = head < 0 ? 0 : head; h < (head < 0 ? H : head + 1); h++) {
      const base = (h * rows + slot) * T;
      for (let k = start; k <= q; k++) {
        const w = src[base + k];
        if (w < threshold) continue;
        total++;
        if (w < floor) continue;
        found.push({ q, k, h, w });
        if (found.length >= 2 * maxEdges) {
          found.sort((a, b) => b.w - a.w);
          found = found.slice(0, maxEdges);
          floor = found[found.length - 1].w;
        }
      }
    }
  }
  found.sort((a, b) => b.w - a.w);
  const kept = found.slice(0, maxEdges);
  return {
    layer,
    start,
    end,
    threshold,
    query: Int32Array.from(kept, (e) => e.q),
    key: Int32Array.from(kept, (e) => e.k),
    head: Int32Array.from(kept, (e) => e.h),
    weight: Float32Array.from(kept, (e) => e.w),
    total,
  };
}
