/**
 * What an attention capture asks for and what it returns. The result crosses the worker boundary
 * by structured clone, so large parts are typed arrays (transferred, not copied).
 */

/** Default memory budget for stored attention, bytes (full T×T×heads×layers float32 must fit). */
export const DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024;
/** Most tokens one capture covers; longer inputs keep their last tokens. */
export const MAX_CAPTURE_TOKENS = 2048;
/** Largest head-grid thumbnail side, pixels: one pixel per token pair up to here, max-pooled beyond. */
export const MAX_THUMB_SIZE = 512;
/** Budget for all thumbnails together, bytes (one byte per pixel); shrinks the side for big models. */
export const THUMB_BUDGET_BYTES = 32 * 1024 * 1024;
/** Top tokens per layer in the logit lens. */
export const LENS_TOP_K = 5;
/** Labels sent for the final distribution's best tokens (the sliders never show more). */
export const FINAL_TOP_LABELS = 64;

export interface CaptureParams {
  /** Text (tokenized without special tokens added) or token ids. */
  prompt: string | number[];
  /** Ids appended after the prompt: the tokens the model generated. */
  generated?: number[];
  /**
   * Positions (in the full input, before any cut; negative counts from the end) whose rows are
   * always recorded and whose logit lens is computed. Default: the last prompt token and every
   * generated token.
   */
  queries?: number[];
  budgetBytes?: number;
  /** Tokens kept (the last ones). Default min(2048, the model's context). */
  maxTokens?: number;
  /** Query tokens per forward step; default keeps each step's attention outputs near 64 MB. */
  chunkTokens?: number;
  /** Called after each forward step with the fraction done (tests use it to cancel halfway). */
  onProgress?: (done: number) => void;
}

/** Which way attention was found in the graph. */
export type CaptureMethod = { kind: 'softmax'; nodes: string[] } | { kind: 'fused'; op: string; nodes: string[] };

/**
 * How much of T×T was kept (see the budget policy in capture.ts):
 * - `full`: every layer, head, query and key;
 * - `mean`: per-head rows only for `queries`, plus each layer's head-mean T×T (rollout works);
 * - `rows`: per-head rows only for `queries`; no rollout.
 */
export type Storage = 'full' | 'mean' | 'rows';

export type HeadKind = 'previous-token' | 'first-token sink' | 'local window' | 'induction-like' | 'mixed';

export interface HeadScores {
  previousToken: number;
  sink: number;
  local: number;
  induction: number;
}

export interface HeadStat {
  layer: number;
  head: number;
  scores: HeadScores;
  label: HeadKind;
  /** The score behind the label (0 for mixed). */
  score: number;
}

export interface LogitLens {
  /** Positions (in the kept sequence) that have lens rows, ascending. */
  positions: number[];
  /** One per residual stream: the embeddings, then the output of each layer. */
  layerNames: string[];
  k: number;
  /** [positions][layers + 1][k] */
  topIds: Int32Array;
  topProbs: Float32Array;
  vocab: number;
  /** The model's own logits at those positions, [positions][vocab]. */
  final: Float32Array;
  /** Display labels for every id in topIds and the final distribution's best ids. */
  labels: Record<number, string>;
}

export interface AttentionCapture {
  model: string;
  method: CaptureMethod;
  numLayers: number;
  numHeads: number;
  /** Tokens kept (T). */
  seqLen: number;
  ids: number[];
  /** Display label per token (hex bytes for a partial UTF-8 character). */
  labels: string[];
  /** Text each token contributes, for mapping tokens back to source code. */
  pieces: string[];
  special: boolean[];
  /** Tokens of the input cut from its start (position p here is p + cut there). */
  cut: number;
  inputTokens: number;
  /** First position holding a generated token (seqLen when none). */
  generatedFrom: number;
  storage: Storage;
  /** Positions with per-head rows: every position for `full`. */
  queries: number[];
  /** Per layer: `full` [heads][T][T]; otherwise [heads][queries][T]. */
  heads: Float32Array[];
  /** Per layer head-mean [T][T]; for `full` and `mean`. */
  means: Float32Array[] | null;
  thumbs: { size: number; layers: Uint8Array[] };
  headStats: HeadStat[];
  lens: LogitLens | { unavailable: string };
  notices: string[];
  budgetBytes: number;
  storedBytes: number;
  timings: { totalMs: number; runMs: number; steps: number };
}

/** Every typed-array buffer in a capture, for a zero-copy postMessage. */
export function captureBuffers(c: AttentionCapture): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [...c.heads, ...(c.means ?? []), ...c.thumbs.layers];
  if ('topIds' in c.lens) arrays.push(c.lens.topIds, c.lens.topProbs, c.lens.final);
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) seen.add(a.buffer);
  return [...seen];
}
