/**
 * The KV cache: per layer, the keys and values of every position run so far, plus the token ids
 * they belong to, so a later request that shares a prefix can keep them (prompt-prefix reuse).
 *
 * Two kinds, one per way a graph can hand its caches back:
 * - PresentKvCache, for a graph as exported: separate caches are [1, kvHeads, seq, headDim],
 *   combined ones [2, 1, kvHeads, seq, headDim]; either way the sequence axis is second from
 *   last, which is all truncation needs to know.
 * - AppendKvCache (kvAppendCache.ts), for a graph rewritten by graph/kvAppend.ts: the cache is
 *   the engine's own buffer and a run returns only its new positions.
 */
import { GlassboxError } from '../errors';
import type { DecoderIo } from './decoderIo';
import { makeTensor, type Tensor } from './ort';

export type KvData = Float32Array | Uint16Array; // float16 travels as raw bits in a Uint16Array

/** The KV cache's contract with a decoder step: what to feed, what to fetch, what to keep. */
export abstract class KvCache {
  /** Token ids whose keys and values are stored, in order. */
  tokens: number[] = [];
  /** Graph input names of the caches, in the order `feeds` and `fetchNames` pair them. */
  protected readonly pastNameList: string[];
  protected readonly presentNameList: string[];

  constructor(
    protected readonly io: DecoderIo,
    protected readonly kvHeads: number,
    protected readonly headDim: number,
  ) {
    const kv = io.kv;
    this.pastNameList = kv.kind === 'separate' ? interleave(kv.pastKey, kv.pastValue) : kv.past;
    this.presentNameList = kv.kind === 'separate' ? interleave(kv.presentKey, kv.presentValue) : kv.present;
  }

  get length(): number {
    return this.tokens.length;
  }

  /** The cache's feeds for the next run. */
  abstract feeds(): Record<string, Tensor>;
  /** Names of the outputs a run must fetch for `update`. */
  abstract fetchNames(): readonly string[];
  /** Takes what a run returned; `added` are the ids that run consumed. */
  abstract update(outputs: Record<string, Tensor>, added: readonly number[]): void;
  /** Keeps the first `n` positions (n ≤ length); the rest are dropped. */
  abstract truncate(n: number): void;
  abstract clear(): void;
  /** Bytes held by the cache: what a longer context costs in memory. */
  abstract bytes(): number;

  protected mismatch(held: number): GlassboxError {
    return new GlassboxError(
      'INTERNAL',
      `The KV cache holds ${held} positions but ${this.tokens.length} tokens were fed.`,
      "The model's outputs do not match its inputs; report this with the model folder.",
    );
  }
}

/** A cache for the graph as exported: every run returns the whole present, which becomes the next past. */
export class PresentKvCache extends KvCache {
  private pasts: Tensor[] = [];

  constructor(io: DecoderIo, kvHeads: number, headDim: number) {
    super(io, kvHeads, headDim);
    this.clear();
  }

  feeds(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const names = this.pastNameList;
    for (let i = 0; i < names.length; i++) out[names[i]] = this.pasts[i];
    return out;
  }

  fetchNames(): readonly string[] {
    return this.presentNameList;
  }

  update(outputs: Record<string, Tensor>, added: readonly number[]): void {
    this.pasts = this.presentNameList.map((n) => outputs[n]);
    this.tokens.push(...added);
    const seq = this.pasts[0].dims[this.pasts[0].dims.length - 2];
    if (seq !== this.tokens.length) throw this.mismatch(seq);
  }

  truncate(n: number): void {
    if (n >= this.length) return;
    if (n === 0) return this.clear();
    this.pasts = this.pasts.map((t) => sliceSeq(t, n));
    this.tokens.length = n;
  }

  clear(): void {
    this.tokens = [];
    const dims =
      this.io.kv.kind === 'separate' ? [1, this.kvHeads, 0, this.headDim] : [2, 1, this.kvHeads, 0, this.headDim];
    const empty = () => makeTensor(this.io.kvType, emptyData(this.io.kvType, 0), dims);
    this.pasts = this.pastNameList.map(empty);
  }

  bytes(): number {
    return this.pasts.reduce((sum, t) => sum + (t.data as KvData).byteLength, 0);
  }
}

export function emptyData(type: DecoderIo['kvType'], n: number): KvData {
  return type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

export function interleave(a: string[], b: string[]): string[] {
  return a.flatMap((x, i) => [x, b[i]]);
}

/**
 * The first `n` positions along the sequence axis (second from last), packed in place at the
 * front of the same buffer: the cache owns it (the runtime hands every run's outputs over in new
 * buffers), and a new 4.6 MB array per truncation was garbage for the collector.
 */
function sliceSeq(t: Tensor, n: number): Tensor {
  const dims = t.dims;
  const seq = dims[dims.length - 2];
  const headDim = dims[dims.length - 1];
  const blocks = dims.slice(0, -2).reduce((a, b) => a * b, 1); // e.g. 2 * batch * kvHeads
  const data = t.data as KvData;
  // block b moves from b·seq to b·n (rows of headDim): never forward, so it never overwrites a block still to move
  for (let b = 1; b < blocks; b++) data.copyWithin(b * n * headDim, b * seq * headDim, b * seq * headDim + n * headDim);
  const dst = data.subarray(0, blocks * n * headDim);
  const newDims = [...dims.slice(0, -2), n, headDim];
  return makeTensor(t.type, dst, newDims);
}
