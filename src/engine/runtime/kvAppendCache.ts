/**
 * The KV cache as a buffer the engine owns and appends to, for a graph rewritten by
 * graph/kvAppend.ts. Per cache one [1, kvHeads, capacity, headDim] array, fed to every run as
 * it is (onnxruntime-node reads a typed array in place) with `glassbox_past_length` saying how
 * many positions are in use; a run returns only its new positions, [1, kvHeads, new, headDim],
 * which are written after the used ones. So a decode step allocates nothing, and dropping
 * positions (a rejected draft, a prompt that changed) is a change of length, not a copy.
 *
 * The capacity starts at INITIAL_CAPACITY positions and doubles up to the context length.
 */
import type { DecoderIo } from './decoderIo';
import { APPENDED_SUFFIX, PAST_LENGTH } from '../onnx/kvAppend';
import { emptyData, KvCache, type KvData } from './kvCache';
import { makeTensor, type Tensor } from './ort';

const INITIAL_CAPACITY = 256;
/** Values per head up to which update() copies in a loop (a few decode rows). */
const SMALL_COPY = 512;

export class AppendKvCache extends KvCache {
  private buffers: KvData[];
  /** Positions each buffer has room for. */
  private capacity = 0;
  private readonly appendedNames: string[];
  /** The feeds: the buffers (remade only when they grow) and the used length, one tensor whose value changes. */
  private feedMap: Record<string, Tensor> = {};
  private readonly lengthData = new BigInt64Array(1);
  private readonly lengthTensor = makeTensor('int64', this.lengthData, [1]);

  constructor(
    io: DecoderIo,
    kvHeads: number,
    headDim: number,
    /** Most positions the cache will ever hold (the context length). */
    private readonly maxPositions: number,
  ) {
    super(io, kvHeads, headDim);
    this.appendedNames = this.presentNameList.map((n) => n + APPENDED_SUFFIX);
    this.buffers = this.pastNameList.map(() => emptyData(io.kvType, 0));
    this.makeFeeds();
  }

  feeds(): Record<string, Tensor> {
    this.lengthData[0] = BigInt(this.length);
    return this.feedMap;
  }

  fetchNames(): readonly string[] {
    return this.appendedNames;
  }

  update(outputs: Record<string, Tensor>, added: readonly number[]): void {
    const n = added.length;
    const at = this.length;
    this.reserve(at + n);
    const { kvHeads, headDim, capacity } = this;
    for (let i = 0; i < this.buffers.length; i++) {
      const fresh = outputs[this.appendedNames[i]];
      const rows = fresh.dims[2];
      if (rows !== n) throw this.mismatch(at + rows);
      const src = fresh.data as KvData;
      const dst = this.buffers[i];
      const width = n * headDim;
      // head h's n new rows go after its `at` used ones; a decode step's one row (headDim values)
      // is copied in a loop, which allocates no view (set() of a subarray made 2 per head)
      for (let h = 0; h < kvHeads; h++) {
        const from = h * width;
        const to = (h * capacity + at) * headDim;
        if (width > SMALL_COPY) dst.set(src.subarray(from, from + width), to);
        else for (let j = 0; j < width; j++) dst[to + j] = src[from + j];
      }
    }
    this.tokens.push(...added);
  }

  truncate(n: number): void {
    if (n < this.length) this.tokens.length = n;
  }

  /** Forgets every position; the buffers stay for the next request. */
  clear(): void {
    this.tokens = [];
  }

  bytes(): number {
    return this.buffers.reduce((sum, b) => sum + b.byteLength, 0);
  }

  /** Room for `positions`, growing every buffer (doubling, up to the context) and keeping what it holds. */
  private reserve(positions: number): void {
    if (positions <= this.capacity) return;
    const grown = Math.max(positions, Math.min(this.maxPositions, Math.max(INITIAL_CAPACITY, 2 * this.capacity)));
    const { kvHeads, headDim, capacity } = this;
    const used = this.length * headDim;
    this.buffers = this.buffers.map((old) => {
      const b = emptyData(this.io.kvType, kvHeads * grown * headDim);
      for (let h = 0; h < kvHeads; h++)
        b.set(old.subarray(h * capacity * headDim, h * capacity * headDim + used), h * grown * headDim);
      return b;
    });
    this.capacity = grown;
    this.makeFeeds();
  }

  private makeFeeds(): void {
    const dims = [1, this.kvHeads, this.capacity, this.headDim];
    this.feedMap = { [PAST_LENGTH]: this.lengthTensor };
    this.pastNameList.forEach((name, i) => (this.feedMap[name] = makeTensor(this.io.kvType, this.buffers[i], dims)));
  }
}
