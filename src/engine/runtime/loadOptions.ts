/** What DecoderModel.load takes: where the files are, the session's options, and the load-time rewrites. */
import type { Int4AccuracyLevel } from '../onnx/matMulNBits';
import type { LocateOptions } from './modelFolder';
import type { SessionOptions } from './ort';

export interface LoadOptions extends LocateOptions, SessionOptions {
  /**
   * Compute generation's logits for the last position only (an in-memory graph rewrite; default
   * true). Calls that want every position's logits then use a second session, made on demand.
   */
  lastPositionLogits?: boolean;
  /** With the last-position rewrite, also compute each step's log Σ exp and top ids in the graph (logitsSummary.ts; default true). */
  logitsSummary?: boolean;
  /**
   * With the last-position rewrite, runs return only their new keys and values and the cache is a
   * buffer the engine appends to (graph/kvAppend.ts; default true).
   */
  appendKv?: boolean;
  /**
   * Folder for this machine's optimized graphs (graphCache.ts). The first load of a model saves
   * its optimized graph there; later loads skip graph optimization. Default: no cache.
   */
  graphCacheDir?: string;
  /** Files up to this size are decoded whole for the rewrite, larger ones read as a skeleton (default 64 MB). */
  maxInlineRewriteBytes?: number;
  /** With the rewrite, MatMulNBits' `accuracy_level` (onnx/matMulNBits.ts; default: as the file says). */
  int4AccuracyLevel?: Int4AccuracyLevel;
}
