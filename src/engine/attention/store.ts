/**
 * Where captured probability rows go, one row (layer, head, query) at a time, under the memory
 * budget.
 *
 * Budget policy: full float32 storage costs layers × heads × T² × 4 bytes, plus layers × T² × 4
 * for the head means that rollout reads.
 * - If both fit the budget: keep everything (`full`).
 * - Else if the head means fit together with per-head rows of the selected query tokens: keep
 *   those (`mean`; rollout, mean and the head grid still cover every token).
 * - Else keep only the per-head rows of the selected query tokens (`rows`; no rollout), as many
 *   query rows as the budget allows.
 * Head-grid thumbnails (one byte per pixel, at most THUMB_BUDGET_BYTES) and head scores are
 * streamed from every row in every mode, so they always describe the whole capture.
 */
import { MAX_THUMB_SIZE, THUMB_BUDGET_BYTES, type Storage } from './types';

interface StoragePlan {
  storage: Storage;
  /** Query positions with per-head rows (every position for `full`). */
  queries: number[];
  bytes: number;
  notice?: string;
}

const MB = 1024 * 1024;

/** Applies the budget policy above. `queries` are the selected positions, ascending. */
export function planStorage(layers: number, heads: number, T: number, queries: number[], budget: number): StoragePlan {
  const full = layers * heads * T * T * 4;
  const means = layers * T * T * 4;
  const perQuery = layers * heads * T * 4;
  const mb = (b: number) => `${Math.round(b / MB)} MB`;
  if (full + means <= budget)
    return { storage: 'full', queries: Array.from({ length: T }, (_, i) => i), bytes: full + means };
  const over = `all ${layers} layers × ${heads} heads × ${T}² would take ${mb(full)}, over the ${mb(budget)} budget`;
  if (means + perQuery * queries.length <= budget) {
    return {
      storage: 'mean',
      queries,
      bytes: means + perQuery * queries.length,
      notice: `${cap(over)}: per-head rows kept for the ${queries.length} selected token(s); head means for every token.`,
    };
  }
  const fit = Math.max(1, Math.floor(budget / perQuery));
  const kept = queries.length > fit ? queries.slice(queries.length - fit) : queries;
  const dropped = queries.length - kept.length;
  return {
    storage: 'rows',
    queries: kept,
    bytes: perQuery * kept.length,
    notice: `${cap(over)}, and so would the head means for rollout (${mb(means)}): only the rows of ${kept.length} selected token(s) are kept${dropped ? ` (${dropped} earlier selections dropped)` : ''}; rollout is off. Select fewer tokens to see more.`,
  };
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

/** Thumbnail side: one pixel per token pair up to 512, smaller when many heads share the budget. */
function thumbSize(layers: number, heads: number, T: number): number {
  return Math.max(16, Math.min(MAX_THUMB_SIZE, T, Math.floor(Math.sqrt(THUMB_BUDGET_BYTES / (layers * heads)))));
}

/** Value above which a probability quantizes past byte v (thumbnails store round(255·√p)). */
const ABOVE = Float32Array.from({ length: 256 }, (_, v) => ((v + 0.5) / 255) ** 2);

export class AttentionStore {
  readonly heads: Float32Array[];
  readonly means: Float32Array[] | null;
  readonly thumbs: Uint8Array[];
  readonly size: number;
  private readonly slot: Int32Array; // position → query slot, -1 when not stored
  private readonly colBin: Int32Array;
  private readonly q: number;

  constructor(
    layers: number,
    private readonly numHeads: number,
    private readonly T: number,
    readonly plan: StoragePlan,
  ) {
    this.q = plan.queries.length;
    this.slot = new Int32Array(T).fill(-1);
    plan.queries.forEach((p, i) => (this.slot[p] = i));
    const rows = plan.storage === 'full' ? T : this.q;
    this.heads = Array.from({ length: layers }, () => new Float32Array(numHeads * rows * T));
    this.means = plan.storage === 'rows' ? null : Array.from({ length: layers }, () => new Float32Array(T * T));
    this.size = thumbSize(layers, numHeads, T);
    this.thumbs = Array.from({ length: layers }, () => new Uint8Array(numHeads * this.size * this.size));
    this.colBin = Int32Array.from({ length: T }, (_, k) => Math.floor((k * this.size) / T));
  }

  get bytes(): number {
    const f = (a: ArrayBufferView[] | null) => (a ?? []).reduce((s, x) => s + x.byteLength, 0);
    return f(this.heads) + f(this.means) + f(this.thumbs);
  }

  /** Row of layer l, head h, query t: `keys` probabilities starting at row[offset]. */
  add(l: number, h: number, t: number, row: Float32Array, offset: number, keys: number): void {
    const T = this.T;
    const n = Math.min(keys, T);
    const src = row.subarray(offset, offset + n);
    const slot = this.plan.storage === 'full' ? t : this.slot[t];
    if (slot >= 0) this.heads[l].set(src, (h * (this.plan.storage === 'full' ? T : this.q) + slot) * T);
    if (this.means) {
      const m = this.means[l];
      const base = t * T;
      const w = 1 / this.numHeads;
      for (let k = 0; k < n; k++) m[base + k] += src[k] * w;
    }
    const S = this.size;
    const thumb = this.thumbs[l];
    const rowBase = (h * S + Math.floor((t * S) / T)) * S;
    const bins = this.colBin;
    for (let k = 0; k < n; k++) {
      const p = src[k];
      const i = rowBase + bins[k];
      if (p > ABOVE[thumb[i]]) thumb[i] = Math.min(255, Math.round(255 * Math.sqrt(p)));
    }
  }
}
