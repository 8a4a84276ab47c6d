/**
 * Teacher-forced scoring of a suggestion with one span of its prompt out of the model's view. Runs
 * the graph with feeds of its own (an attention mask with holes, position ids that skip) on the
 * public pieces of DecoderModel: its session, its input/output roles and a KV cache of its own
 * (the generation cache, whose token ids promise unablated keys and values, is never touched).
 *
 * The prompt before a span is the same with or without it, so the cache is cut back to the span's
 * start and only the rest is run again: spans are scored from the last one to the first, each
 * from the cache the one before it left (cut back further). After a ranking the cache is cut
 * back to where it is still clean, so the next ranking of a prompt with the same start reuses it.
 */
import { GlassboxError } from '../errors';
import { halfArrayToFloat32 } from '../onnx/float16';
import type { DecoderModel } from '../runtime/decoder';
import { fileIo, type DecoderIo } from '../runtime/decoderIo';
import type { KvCache } from '../runtime/kvCache';
import { makeTensor, OrtSession, type Tensor } from '../runtime/ort';

/** Rows of next-token logits, one per scored token: row k predicts generated token k. */
export type Rows = Float32Array[];

export class AblationScorer {
  /** Positions of `cache` whose keys and values are those of the plain prompt (no span removed). */
  private clean = 0;
  /** Model runs and tokens run since the last `resetCounts` (for the timings). */
  runs = 0;
  tokensRun = 0;

  private constructor(
    readonly model: DecoderModel,
    private readonly session: OrtSession,
    private readonly io: DecoderIo,
    private readonly cache: KvCache,
    /** Whether the session takes glassbox_logits_to_keep (else it returns every position's logits). */
    private readonly keepInput: string | undefined,
  ) {}

  /**
   * The scorer for a model: on its generation session when that returns the logits of several
   * positions (the last-position rewrite with its keep input), else on a session of the file.
   */
  static async create(model: DecoderModel): Promise<AblationScorer> {
    if (model.verifiesDrafts) {
      const keep = model.io.logitsToKeep;
      return new AblationScorer(model, model.session, model.io, model.newCache(), keep);
    }
    const session = await OrtSession.create(model.files.onnxPath);
    return new AblationScorer(model, session, fileIo(model.io), model.newCache(true), undefined);
  }

  /** Whether the graph takes an attention mask at all. */
  get hasMask(): boolean {
    return this.io.attentionMask !== undefined;
  }

  /**
   * Rows for `seq` (the prompt, then every scored token but the last) with nothing removed: the
   * last `keep` positions' logits. Reuses the clean start the cache holds.
   */
  async baseline(seq: readonly number[], keep: number): Promise<Rows> {
    let shared = 0;
    const held = this.cache.tokens;
    const most = Math.min(this.clean, seq.length - keep);
    while (shared < most && held[shared] === seq[shared]) shared++;
    this.cache.truncate(shared);
    const rows = await this.run(seq.slice(shared), null, keep);
    this.clean = seq.length;
    return rows;
  }

  /**
   * Rows for `seq` with tokens [start, end) masked: every position keeps its place, and no later
   * token attends to the span (the cache is cut back to `start`, which must be ≤ the start of
   * the span scored before).
   */
  async masked(seq: readonly number[], start: number, end: number, keep: number): Promise<Rows> {
    this.cutTo(start);
    const mask = new Uint8Array(seq.length).fill(1);
    mask.fill(0, start, end);
    return this.run(seq.slice(start), mask, keep);
  }

  /**
   * Rows for `seq` with tokens [start, end) left out: the tokens after the span run at positions
   * `end − start` lower. The token before the span is run again (its row may be the first one
   * scored); a span at the very start gets `startToken` in its place for the same reason.
   */
  async deleted(seq: readonly number[], start: number, end: number, keep: number, startToken: number): Promise<Rows> {
    const from = Math.max(0, start - 1);
    this.cutTo(from);
    const head = start > 0 ? [seq[start - 1]] : [startToken];
    return this.run([...head, ...seq.slice(end)], null, keep);
  }

  /** Runs `seq` on a fresh cache with `mask` (one byte per position, 0: masked); the last row. */
  async probe(seq: readonly number[], mask: Uint8Array | null): Promise<Float32Array> {
    this.cutTo(0);
    return (await this.run(seq, mask, 1))[0];
  }

  private cutTo(n: number): void {
    this.cache.truncate(Math.min(n, this.cache.length));
    this.clean = Math.min(this.clean, this.cache.length);
  }

  /**
   * One run of `tokens` after what the cache holds. `mask` covers the cached positions and the
   * new ones (null: all ones); positions follow on from the cache's length.
   */
  private async run(tokens: readonly number[], mask: Uint8Array | null, keep: number): Promise<Rows> {
    const io = this.io;
    const past = this.cache.length;
    const n = tokens.length;
    if (past + n > this.model.contextLength)
      throw new GlassboxError(
        'PROMPT_TOO_LONG',
        `${past + n} tokens do not fit the model's context of ${this.model.contextLength}.`,
      );
    const feeds: Record<string, Tensor> = { [io.inputIds]: ints(io.idsType, n, (i) => tokens[i]) };
    if (io.attentionMask) feeds[io.attentionMask] = ints(io.maskType, past + n, (i) => (mask ? mask[i] : 1));
    if (io.positionIds) feeds[io.positionIds] = ints(io.positionsType, n, (i) => past + i);
    if (this.keepInput) feeds[this.keepInput] = makeTensor('int64', BigInt64Array.of(BigInt(keep)), [1]);
    Object.assign(feeds, this.cache.feeds());
    let out: Record<string, Tensor>;
    try {
      out = await this.session.run(feeds, [io.logits, ...this.cache.fetchNames()]);
    } catch (err) {
      this.cache.clear();
      this.clean = 0;
      throw err;
    }
    this.cache.update(out, tokens);
    this.runs++;
    this.tokensRun += n;
    const logits = out[io.logits];
    const dims = logits.dims;
    const vocab = dims[dims.length - 1];
    const rows = dims[dims.length - 2];
    const data =
      logits.type === 'float16' ? halfArrayToFloat32(logits.data as Uint16Array) : (logits.data as Float32Array);
    const first = rows - Math.min(keep, rows);
    return Array.from({ length: rows - first }, (_, r) => data.subarray((first + r) * vocab, (first + r + 1) * vocab));
  }
}

/** An int64 or int32 tensor [1, n]. */
function ints(type: 'int64' | 'int32', n: number, value: (i: number) => number): Tensor {
  if (type === 'int32')
    return makeTensor(
      'int32',
      Int32Array.from({ length: n }, (_, i) => value(i)),
      [1, n],
    );
  const a = new BigInt64Array(n);
  for (let i = 0; i < n; i++) a[i] = BigInt(value(i));
  return makeTensor('int64', a, [1, n]);
}

/**
 * Whether the graph really applies its attention mask in the middle of a sequence: with one
 * position masked, the token there must not matter (two different tokens give the same last row)
 * and masking must matter (the row differs from the unmasked one). A graph that ignores the mask
 * fails the second; one that reads the mask only as a length (GroupQueryAttention's seqlens_k,
 * which then drops the last keys instead) fails the first.
 */
export async function maskIsApplied(scorer: AblationScorer, ids: readonly number[], other: number): Promise<boolean> {
  if (!scorer.hasMask || ids.length < 4) return false;
  const hole = 1;
  const mask = new Uint8Array(ids.length).fill(1);
  mask[hole] = 0;
  const swapped = [...ids];
  swapped[hole] = other === ids[hole] ? other + 1 : other;
  const a = await scorer.probe(ids, mask);
  const b = await scorer.probe(swapped, mask);
  const plain = await scorer.probe(ids, null);
  const scale = 1 + maxAbs(plain);
  const tol = 1e-3 * scale;
  return maxDiff(a, b) <= tol && maxDiff(a, plain) > 10 * tol && a.every(Number.isFinite);
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
