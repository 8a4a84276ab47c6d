/**
 * The KV cache: per layer, the keys and values of every position run so far, plus the token ids
 * they belong to, so a later request that shares a prefix can keep them (prompt-prefix reuse).
 *
 * Separate caches are [1, kvHeads, seq, headDim]; combined ones are [2, 1, kvHeads, seq, headDim].
 * Either way the sequence axis is second from last, which is all truncation needs to know.
 */
import { GlassboxError } from './errors';
import type { DecoderIo } from './decoderIo';
import { makeTensor, type Tensor } from './ort';

type KvData = Float32Array | Uint16Array; // float16 travels as raw bits in a Uint16Array

export class KvCache {
  /** Token ids whose keys and values are stored, in order. */
  tokens: number[] = [];
  private pasts: Tensor[] = [];
  /** Graph input and output names, in the same order (computed once: every step uses them). */
  private readonly pastNameList: string[];
  private readonly presentNameList: string[];

  constructor(
    private readonly io: DecoderIo,
    private readonly kvHeads: number,
    private readonly headDim: number,
  ) {
    const kv = io.kv;
    this.pastNameList = kv.kind === 'separate' ? interleave(kv.pastKey, kv.pastValue) : kv.past;
    this.presentNameList = kv.kind === 'separate' ? interleave(kv.presentKey, kv.presentValue) : kv.present;
    this.clear();
  }

  get length(): number {
    return this.tokens.length;
  }

  /** The past_* feeds for the next run, in graph input order. */
  feeds(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const names = this.pastNameList;
    for (let i = 0; i < names.length; i++) out[names[i]] = this.pasts[i];
    return out;
  }

  /** Names of the present_* outputs to fetch, in the same order as the feeds. */
  presentNames(): readonly string[] {
    return this.presentNameList;
  }

  /** Takes the presents a run returned; `added` are the ids that run consumed. */
  update(outputs: Record<string, Tensor>, added: readonly number[]): void {
    this.pasts = this.presentNames().map((n) => outputs[n]);
    this.tokens.push(...added);
    const seq = this.pasts[0].dims[this.pasts[0].dims.length - 2];
    if (seq !== this.tokens.length) {
      throw new GlassboxError(
        'INTERNAL',
        `The KV cache holds ${seq} positions but ${this.tokens.length} tokens were fed.`,
        "The model's outputs do not match its inputs; report this with the model folder.",
      );
    }
  }

  /** Keeps the first `n` positions (n ≤ length); the rest are dropped. */
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
    const empty = () =>
      makeTensor(this.io.kvType, this.io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
    this.pasts = this.pastNameList.map(empty);
  }

  /** Bytes held by the cache: what a longer context costs in memory. */
  bytes(): number {
    return this.pasts.reduce((sum, t) => sum + (t.data as KvData).byteLength, 0);
  }
}

function interleave(a: string[], b: string[]): string[] {
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
