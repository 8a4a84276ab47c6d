/**
 * A loaded decoder: its ONNX session, tokenizer and input/output roles, and the one operation
 * generation needs: run some tokens on top of a KV cache and return their logits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectDecoderIo, fileIo, kvPairs, type DecoderIo, type IdsType } from './decoderIo';
import { GlassboxError } from '../errors';
import { halfArrayToFloat32 } from '../onnx/float16';
import { GraphCacheEntry, type GraphCacheState } from './graphCache';
import { LOGITS_TO_KEEP, lastPositionLogits } from '../onnx/lastPositionLogits';
import { addLogitsSummary, SUMMARY_OUTPUTS } from '../onnx/logitsSummary';
import { encodeModelProto, onnx, readModelProto, valueInfoType } from '../onnx/onnxFile';
import { appendOnlyKv } from '../onnx/kvAppend';
import { readModelSkeleton } from '../onnx/skeleton';
import { setInt4Accuracy } from '../onnx/matMulNBits';
import type { LoadOptions } from './loadOptions';
import { AppendKvCache } from './kvAppendCache';
import { PresentKvCache, type KvCache } from './kvCache';
import { locateModelFiles, readModelConfig, type ModelConfig, type ModelFiles } from './modelFolder';
import { checkOnnxFile, makeTensor, OrtSession, type IoInfo, type Tensor } from './ort';
import type { StageClock } from './stageClock';
import { TextTokenizer } from './tokenizer';

export type { LoadOptions };

/**
 * Files larger than this are rewritten from their skeleton (onnx/skeleton.ts: the graph with its
 * weights left in the file) instead of decoded whole: a model of any size gets the last-position
 * logits, the summary and the appended KV cache, without a copy of its weights in JavaScript.
 */
const MAX_INLINE_REWRITE_BYTES = 64 * 1024 * 1024;
/** Graphs larger than this are not copied into the graph cache (a second copy of a big model's weights on disk). */
const MAX_CACHED_BYTES = 64 * 1024 * 1024;

/** Used when neither the config nor the tokenizer says how long a context the model takes. */
/** Fewer positions than this leave no room for a prompt and a completion. */
const MIN_CONTEXT = 16;
const FALLBACK_CONTEXT = 2048;

/** One step's next-token logits, and the graph's summary of them when it computes one (logitsSummary.ts). */
export interface StepLogits {
  /** [vocab], the last position's; empty when the run asked for the summary only. */
  logits: Float32Array;
  /** log Σ exp(logits), from the graph. */
  logSumExp?: number;
  /** The graph's top ids, most likely first (ties: lower id first). */
  topIds?: number[];
  /** Their logits, in the same order. */
  topLogits?: number[];
}

const EMPTY = new Float32Array(0);

/** Where a run's stages are timed, and which run stage it is. */
interface RunTiming {
  clock: StageClock;
  run: 'run_prefill' | 'run_decode';
  /**
   * Fetch the graph's summary (log Σ exp, top ids and logits) without the 8,192 logits, where the
   * graph has one: what plain greedy decoding needs (32 KB less to copy out of the runtime a step).
   */
  summaryOnly?: boolean;
}

export class DecoderModel {
  /** The cache kept between requests, so a request that extends the last one reuses its prefix. */
  readonly cache: KvCache;
  readonly contextLength: number;
  readonly eosTokenIds: number[];
  readonly kvHeads: number;
  readonly headDim: number;

  /** The session with every position's logits (the file as it is), when `session` was rewritten. */
  private fullSession: Promise<OrtSession> | undefined;
  private ones: BigInt64Array | Int32Array | undefined;
  /** What a generation step fetches with the logits summary: the same list every step. */
  private summaryFetches: string[] | undefined;
  /** The same without the logits (RunTiming.summaryOnly). */
  private leanFetches: string[] | undefined;
  /** Whether `session` also outputs the logits' top ids and log Σ exp (logitsSummary.ts). */
  readonly summarizesLogits: boolean;

  private constructor(
    readonly files: ModelFiles,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    /** The session generation runs; its logits may cover the last position only. */
    readonly session: OrtSession,
    readonly io: DecoderIo,
    readonly loadMs: number,
    private readonly options: LoadOptions,
    /** Whether `session`'s logits are [batch, 1, vocab]. */
    readonly lastPositionOnly: boolean,
    /** Whether the session came from the graph cache ('hit'), filled it ('written'), or neither. */
    readonly graphCache: GraphCacheState,
  ) {
    const source = files.onnxPath;
    const kvHeads = io.kvHeads ?? config.numKvHeads;
    const headDim = io.headDim ?? config.headDim;
    if (!kvHeads || !headDim) {
      throw new GlassboxError(
        'CONFIG_INVALID',
        `${source}: cannot tell the KV heads and head size (the graph's past inputs have symbolic shapes and there is no config.json or genai_config.json saying num_key_value_heads and head_dim).`,
        "Add the model's config.json to the folder.",
      );
    }
    if (config.numLayers !== undefined && config.numLayers !== io.numLayers) {
      throw new GlassboxError(
        'CONFIG_INVALID',
        `${files.configPath ?? files.genaiConfigPath}: says ${config.numLayers} layers but ${source} has KV caches for ${io.numLayers}.`,
      );
    }
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.summarizesLogits = Object.values(SUMMARY_OUTPUTS).every((n) => session.outputNames.includes(n));
    if (config.contextLength !== undefined && config.contextLength < MIN_CONTEXT) {
      throw new GlassboxError(
        'CONFIG_INVALID',
        `${files.configPath ?? files.genaiConfigPath}: the context length (max_position_embeddings) is ${config.contextLength}; a decoder for code needs at least ${MIN_CONTEXT} positions.`,
        "Fix the model's config.json.",
      );
    }
    this.contextLength = config.contextLength ?? FALLBACK_CONTEXT;
    this.cache = this.newCache();
    const eos = config.eosTokenIds.length
      ? config.eosTokenIds
      : [tokenizer.eosToken && tokenizer.tokenId(tokenizer.eosToken)].filter((x): x is number => x !== undefined);
    this.eosTokenIds = eos;
  }

  /** Loads a model folder; every problem becomes one GlassboxError naming the file at fault. */
  static async load(dir: string, opts: LoadOptions = {}): Promise<DecoderModel> {
    const t0 = performance.now();
    const files = locateModelFiles(dir, opts);
    const config = readModelConfig(files);
    const tokenizer = TextTokenizer.load(files);
    checkOnnxFile(files.onnxPath);
    const stat = fs.statSync(files.onnxPath);
    const rewrite = opts.lastPositionLogits !== false;
    const inline = stat.size <= (opts.maxInlineRewriteBytes ?? MAX_INLINE_REWRITE_BYTES);
    const entry =
      rewrite &&
      opts.logitsSummary !== false &&
      opts.appendKv !== false &&
      stat.size <= MAX_CACHED_BYTES &&
      opts.graphCacheDir
        ? GraphCacheEntry.for(opts.graphCacheDir, files.onnxPath, stat, opts.optimization ?? 'all')
        : undefined;
    const make = (session: OrtSession, io: DecoderIo, lastPositionOnly: boolean, graphCache: GraphCacheState) =>
      new DecoderModel(
        files,
        config,
        tokenizer,
        session,
        io,
        performance.now() - t0,
        opts,
        lastPositionOnly,
        graphCache,
      );

    const cached = entry && (await openCached(entry, opts, files.onnxPath, config.genaiNames));
    if (cached) return make(cached.session, cached.io, cached.lastPositionOnly, 'hit');

    // Read the graph's inputs and outputs from the protobuf (whole when small, else its skeleton) and
    // create one session from the rewritten bytes. Without the rewrite, from a session of the file.
    const proto = !rewrite ? undefined : inline ? readModelProto(files.onnxPath) : readModelSkeleton(files.onnxPath);
    let session: OrtSession | undefined;
    let scratch: string | undefined;
    try {
      const graphIo = proto ? protoIo(proto) : undefined;
      if (!graphIo) session = await OrtSession.create(files.onnxPath, opts);
      const io = detectDecoderIo(
        graphIo?.inputs ?? session!.inputs,
        graphIo?.outputs ?? session!.outputs,
        files.onnxPath,
        config.genaiNames,
      );
      let appendKv = false;
      if (proto && opts.int4AccuracyLevel !== undefined) setInt4Accuracy(proto, opts.int4AccuracyLevel);
      const rewritten =
        proto && lastPositionLogits(proto, io.logits)
          ? (opts.logitsSummary !== false && addLogitsSummary(proto, io.logits),
            (appendKv = opts.appendKv !== false && appendOnlyKv(proto, kvPairs(io))),
            encodeModelProto(proto))
          : undefined;
      // Weights in external files would be copied into the saved graph: those models are not cached.
      scratch = entry && proto && !hasExternalData(proto) ? entry.scratchPath() : undefined;
      session ??= rewritten
        ? await OrtSession.create(
            rewritten,
            { ...opts, externalDataDir: path.dirname(files.onnxPath), saveOptimizedTo: scratch },
            files.onnxPath,
          )
        : await OrtSession.create(files.onnxPath, { ...opts, saveOptimizedTo: scratch });
      const graphCache: GraphCacheState = !entry
        ? 'off'
        : scratch && entry.commit(scratch, rewritten !== undefined)
          ? 'written'
          : 'failed';
      // the rewrite added the keep input, which the graph read before it did not have
      return make(
        session,
        rewritten ? { ...io, logitsToKeep: LOGITS_TO_KEEP, ...(appendKv ? { appendKv } : {}) } : io,
        rewritten !== undefined,
        graphCache,
      );
    } catch (err) {
      await session?.release();
      if (scratch) entry?.discard(scratch);
      throw err;
    }
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * Runs `tokens` after what `cache` holds and appends their keys and values to it.
   * Returns logits [tokens.length, vocab] flattened when `allPositions`, else the last row [vocab].
   */
  async forward(tokens: readonly number[], cache: KvCache, allPositions = false): Promise<Float32Array> {
    const rows = await this.run(tokens, cache, allPositions ? tokens.length : 1);
    if (rows.length === 1) return rows[0].logits;
    const vocab = rows[0].logits.length;
    const flat = new Float32Array(rows.length * vocab);
    rows.forEach((r, i) => flat.set(r.logits, i * vocab));
    return flat;
  }

  /**
   * forward() for generation: the last position's logits with the graph's summary of them when it
   * has one, and the feeds, the run (as `timing.run`) and the outputs timed on `timing.clock`.
   */
  async step(tokens: readonly number[], cache: KvCache, timing?: RunTiming): Promise<StepLogits> {
    return (await this.run(tokens, cache, 1, timing))[0];
  }

  /**
   * step() with the logits of every fed position, in order: what verifying a draft needs (row i
   * is the next-token distribution after tokens[0..i]). Only where `verifiesDrafts`.
   */
  steps(tokens: readonly number[], cache: KvCache, timing?: RunTiming): Promise<StepLogits[]> {
    return this.run(tokens, cache, tokens.length, timing);
  }

  /** Whether steps() runs on the generation session (no second session is made for it). */
  get verifiesDrafts(): boolean {
    return !this.lastPositionOnly || this.io.logitsToKeep !== undefined;
  }

  /** Runs `tokens` on `cache`; the logits of the last `keep` positions, one row each. */
  private async run(
    tokens: readonly number[],
    cache: KvCache,
    keep: number,
    timing?: RunTiming,
  ): Promise<StepLogits[]> {
    let t = performance.now();
    const lap = (stage: 'feeds' | 'run_prefill' | 'run_decode' | 'outputs') => {
      const now = performance.now();
      timing?.clock.add(stage, now - t);
      t = now;
    };
    const past = cache.length;
    const n = tokens.length;
    if (past + n > this.contextLength) {
      throw new GlassboxError(
        'PROMPT_TOO_LONG',
        `${past + n} tokens do not fit the model's context of ${this.contextLength}.`,
      );
    }
    const io = this.io;
    const feeds: Record<string, Tensor> = { [io.inputIds]: intTensor(io.idsType, tokens, [1, n]) };
    if (io.attentionMask) feeds[io.attentionMask] = this.mask(past + n);
    if (io.positionIds) feeds[io.positionIds] = positionsTensor(io.positionsType, past, n);
    Object.assign(feeds, cache.feeds());
    let out: Record<string, Tensor>;
    // a rewritten session without the keep input gives the last position only: the file's own for more
    const session = keep > 1 && !this.verifiesDrafts ? await this.full() : this.session;
    if (session === this.session && io.logitsToKeep)
      feeds[io.logitsToKeep] = makeTensor('int64', BigInt64Array.of(BigInt(keep)), [1]);
    const summary = session === this.session && this.summarizesLogits;
    const lean = summary && keep === 1 && timing?.summaryOnly === true;
    const fetches = lean
      ? (this.leanFetches ??= [...cache.fetchNames(), ...Object.values(SUMMARY_OUTPUTS)])
      : summary
        ? (this.summaryFetches ??= [...this.fetches(cache), ...Object.values(SUMMARY_OUTPUTS)])
        : this.fetches(cache);
    lap('feeds');
    try {
      out = await session.run(feeds, fetches);
    } catch (err) {
      cache.clear(); // a failed step leaves no half-updated cache behind
      throw err;
    }
    lap(timing?.run ?? 'run_decode');
    cache.update(out, tokens);
    const result: StepLogits[] = [];
    const topK = summary ? out[SUMMARY_OUTPUTS.topIds].dims.at(-1)! : 0;
    // [batch, rows, K] and [batch, rows] (batch 1); rows is n, or `keep` after the last-position rewrite
    const rows = summary ? out[SUMMARY_OUTPUTS.logSumExp].dims.at(-1)! : out[io.logits].dims.at(-2)!;
    const logits = lean ? undefined : out[io.logits];
    const vocab = logits ? logits.dims[logits.dims.length - 1] : 0;
    const data = !logits
      ? EMPTY
      : logits.type === 'float16'
        ? halfArrayToFloat32(logits.data as Uint16Array)
        : (logits.data as Float32Array);
    for (let r = rows - keep; r < rows; r++) {
      // views, not copies: the runtime hands every run's outputs over in new buffers
      const row: StepLogits = { logits: data.subarray(r * vocab, (r + 1) * vocab) };
      if (summary) {
        row.logSumExp = (out[SUMMARY_OUTPUTS.logSumExp].data as Float32Array)[r];
        // plain loops: no view objects, no callbacks (this runs after every run)
        const ids = out[SUMMARY_OUTPUTS.topIds].data as BigInt64Array;
        const values = out[SUMMARY_OUTPUTS.topLogits].data as Float32Array;
        row.topIds = new Array<number>(topK);
        row.topLogits = new Array<number>(topK);
        for (let k = 0; k < topK; k++) {
          row.topIds[k] = Number(ids[r * topK + k]);
          row.topLogits[k] = values[r * topK + k];
        }
      }
      result.push(row);
    }
    lap('outputs');
    return result;
  }

  private fetches(cache: KvCache): string[] {
    return [this.io.logits, ...cache.fetchNames()];
  }

  /** Logits [tokens.length][vocab] for a fresh sequence, without touching the shared cache. */
  async logits(tokens: readonly number[]): Promise<Float32Array[]> {
    const cache = this.newCache();
    const flat = await this.forward(tokens, cache, true);
    const vocab = flat.length / tokens.length;
    return Array.from({ length: tokens.length }, (_, i) => flat.subarray(i * vocab, (i + 1) * vocab));
  }

  /** A mask of n ones [1, n]: a view of one buffer as long as the context, not a new array each step. */
  private mask(n: number): Tensor {
    this.ones ??=
      this.io.maskType === 'int64'
        ? new BigInt64Array(this.contextLength).fill(1n)
        : new Int32Array(this.contextLength).fill(1);
    return makeTensor(this.io.maskType, this.ones.subarray(0, n), [1, n]);
  }

  /**
   * A cache for this model's generation session, or (`forFile`) for a session of the file as it
   * is (attention capture's instrumented copy).
   */
  newCache(forFile = false): KvCache {
    return this.io.appendKv && !forFile
      ? new AppendKvCache(this.io, this.kvHeads, this.headDim, this.contextLength)
      : new PresentKvCache(fileIo(this.io), this.kvHeads, this.headDim);
  }

  async dispose(): Promise<void> {
    await this.session.release();
    if (this.fullSession) await (await this.fullSession).release();
  }

  private full(): Promise<OrtSession> {
    this.fullSession ??= OrtSession.create(this.files.onnxPath, this.options);
    return this.fullSession;
  }
}

/** A session from the cached optimized graph, or undefined (a miss, or a graph the runtime refused: dropped). */
async function openCached(
  entry: GraphCacheEntry,
  opts: LoadOptions,
  source: string,
  genaiNames: ModelConfig['genaiNames'],
) {
  const hit = entry.lookup();
  if (!hit) return undefined;
  let session: OrtSession | undefined;
  try {
    session = await OrtSession.create(entry.graphPath, { ...opts, optimization: 'disabled' }, source);
    const io = detectDecoderIo(session.inputs, session.outputs, source, genaiNames);
    return { session, io, lastPositionOnly: hit.lastPositionOnly };
  } catch {
    await session?.release();
    entry.discard();
    return undefined;
  }
}

function hasExternalData(model: onnx.ModelProto): boolean {
  return (model.graph?.initializer ?? []).some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
}

/** The graph's declared inputs (initializers excluded, for old IR versions) and outputs. */
function protoIo(model: onnx.ModelProto): { inputs: IoInfo[]; outputs: IoInfo[] } {
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const info = (v: onnx.IValueInfoProto): IoInfo => {
    const t = valueInfoType(v);
    return { name: v.name ?? '', type: t.dtype as IoInfo['type'], shape: t.shape ?? [] };
  };
  return { inputs: (g.input ?? []).filter((v) => !inits.has(v.name)).map(info), outputs: (g.output ?? []).map(info) };
}

/** Position ids [1, n] from `first`. */
function positionsTensor(type: IdsType, first: number, n: number): Tensor {
  if (type === 'int32')
    return makeTensor(
      'int32',
      Int32Array.from({ length: n }, (_, i) => first + i),
      [1, n],
    );
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(first + i);
  return makeTensor('int64', ids, [1, n]);
}

function intTensor(type: IdsType, values: readonly number[], dims: number[]): Tensor {
  return type === 'int64'
    ? makeTensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        dims,
      )
    : makeTensor('int32', Int32Array.from(values), dims);
}
