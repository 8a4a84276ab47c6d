/**
 * Attention probabilities for fused operators, recomputed in the worker from what the op read:
 * softmax(Q·Kᵀ·scale + causal mask) per query head, with KV heads repeated for GQA (query head h
 * uses KV head ⌊h / (heads / kvHeads)⌋, as ONNX Runtime and Hugging Face's repeat_kv do).
 */
import type { FusedSite } from './graphScan';
import type { RotaryTables } from './instrument';

interface FusedInputs {
  /** Q for this step's queries, as the op's input (see FusedSite.queryRank / packedHeads). */
  q: Float32Array;
  qDims: readonly number[];
  /** Present K [1, kvHeads, keys, headDim] (RoPE applied). */
  k: Float32Array;
  kDims: readonly number[];
  /** Absolute position of this step's first query. */
  past: number;
}

/**
 * Calls `sink(head, row, t)` for every head and query t = past..past+n-1 with the probabilities
 * over keys 0..keys-1 (zeros after t). `row` is reused between calls.
 */
export function fusedRows(
  site: FusedSite,
  rotary: RotaryTables | undefined,
  x: FusedInputs,
  sink: (head: number, row: Float32Array, t: number) => void,
): void {
  const [, kvHeads, keys, headDim] = x.kDims;
  const numHeads = site.numHeads || (site.queryRank === 4 ? x.qDims[1] : kvHeads);
  const n = site.queryRank === 4 ? x.qDims[2] : x.qDims[1];
  const group = numHeads / (site.kvHeads || kvHeads);
  const scale = site.scale > 0 ? site.scale : 1 / Math.sqrt(headDim);
  const rowStride = site.packedHeads ? site.packedHeads * headDim : numHeads * headDim; // 3-D layout
  const q = new Float32Array(headDim);
  const row = new Float32Array(keys);
  for (let h = 0; h < numHeads; h++) {
    const kv = Math.floor(h / group);
    const kBase = kv * keys * headDim;
    for (let r = 0; r < n; r++) {
      const t = x.past + r;
      const qOff = site.queryRank === 4 ? (h * n + r) * headDim : r * rowStride + h * headDim;
      for (let i = 0; i < headDim; i++) q[i] = x.q[qOff + i];
      if (rotary) applyRope(q, rotary, t, site.rotary!.interleaved);
      const first = site.window >= 0 ? Math.max(0, t - site.window) : 0;
      let max = -Infinity;
      row.fill(0);
      for (let j = first; j <= t && j < keys; j++) {
        let s = 0;
        const kOff = kBase + j * headDim;
        for (let i = 0; i < headDim; i++) s += q[i] * x.k[kOff + i];
        s *= scale;
        if (site.softcap > 0) s = site.softcap * Math.tanh(s / site.softcap);
        row[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = first; j <= t && j < keys; j++) {
        const e = Math.exp(row[j] - max);
        row[j] = e;
        sum += e;
      }
      for (let j = first; j <= t && j < keys; j++) row[j] /= sum;
      sink(h, row, t);
    }
  }
}

/** RoPE at position `t` on the first 2·half dimensions: rotate-half pairs (i, i+half), or (2i, 2i+1) interleaved. */
function applyRope(v: Float32Array, tables: RotaryTables, t: number, interleaved: boolean): void {
  const half = tables.half;
  const base = t * half;
  for (let i = 0; i < half; i++) {
    const c = tables.cos[base + i];
    const s = tables.sin[base + i];
    const a = interleaved ? 2 * i : i;
    const b = interleaved ? 2 * i + 1 : i + half;
    const x1 = v[a];
    const x2 = v[b];
    v[a] = x1 * c - x2 * s;
    v[b] = x2 * c + x1 * s;
  }
}
