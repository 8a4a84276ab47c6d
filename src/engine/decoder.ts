/**
 * A loaded decoder: its ONNX session, tokenizer and input/output roles, and the one operation
 * generation needs: run some tokens on top of a KV cache and return their logits.
 */
import { detectDecoderIo, type DecoderIo, type IdsType } from './decoderIo';
import { GlassboxError } from './errors';
import { halfArrayToFloat32 } from './float16';
import { KvCache } from './kvCache';
import { locateModelFiles, readModelConfig, type LocateOptions, type ModelConfig, type ModelFiles } from './modelFolder';
import { makeTensor, OrtSession, type SessionOptions, type Tensor } from './ort';
import { TextTokenizer } from './tokenizer';

export interface LoadOptions extends LocateOptions, SessionOptions {}

/** Used when neither the config nor the tokenizer says how long a context the model takes. */
const FALLBACK_CONTEXT = 2048;

export class DecoderModel {
  /** The cache kept between requests, so a request that extends the last one reuses its prefix. */
  readonly cache: KvCache;
  readonly contextLength: number;
  readonly eosTokenIds: number[];
  readonly kvHeads: number;
  readonly headDim: number;

  private constructor(
    readonly files: ModelFiles,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    readonly session: OrtSession,
    readonly io: DecoderIo,
    readonly loadMs: number,
  ) {
    const source = files.onnxPath;
    const kvHeads = io.kvHeads ?? config.numKvHeads;
    const headDim = io.headDim ?? config.headDim;
    if (!kvHeads || !headDim) {
      throw new GlassboxError(
        'CONFIG_INVALID',
        `${source}: cannot tell the KV heads and head size (the graph's past inputs have symbolic shapes and there is no config.json or genai_config.json saying num_key_value_heads and head_dim).`,
        'Add the model\'s config.json to the folder.',
      );
    }
    if (config.numLayers !== undefined && config.numLayers !== io.numLayers) {
      throw new GlassboxError('CONFIG_INVALID', `${files.configPath ?? files.genaiConfigPath}: says ${config.numLayers} layers but ${source} has KV caches for ${io.numLayers}.`);
    }
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.cache = new KvCache(io, kvHeads, headDim);
    this.contextLength = config.contextLength ?? FALLBACK_CONTEXT;
    const eos = config.eosTokenIds.length ? config.eosTokenIds : [tokenizer.eosToken && tokenizer.tokenId(tokenizer.eosToken)].filter((x): x is number => x !== undefined);
    this.eosTokenIds = eos;
  }

  /** Loads a model folder; every problem becomes one GlassboxError naming the file at fault. */
  static async load(dir: string, opts: LoadOptions = {}): Promise<DecoderModel> {
    const t0 = performance.now();
    const files = locateModelFiles(dir, opts);
    const config = readModelConfig(files);
    const tokenizer = TextTokenizer.load(files);
    const session = await OrtSession.create(files.onnxPath, opts);
    try {
      const io = detectDecoderIo(session.inputs, session.outputs, files.onnxPath, config.genaiNames);
      return new DecoderModel(files, config, tokenizer, session, io, performance.now() - t0);
    } catch (err) {
      await session.release();
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
    const past = cache.length;
    const n = tokens.length;
    if (past + n > this.contextLength) {
      throw new GlassboxError('PROMPT_TOO_LONG', `${past + n} tokens do not fit the model's context of ${this.contextLength}.`);
    }
    const io = this.io;
    const feeds: Record<string, Tensor> = { [io.inputIds]: intTensor(io.idsType, tokens, [1, n]) };
    if (io.attentionMask) feeds[io.attentionMask] = onesTensor(io.maskType, past + n);
    if (io.positionIds) feeds[io.positionIds] = intTensor(io.positionsType, Array.from({ length: n }, (_, i) => past + i), [1, n]);
    Object.assign(feeds, cache.feeds());
    let out: Record<string, Tensor>;
    try {
      out = await this.session.run(feeds, [io.logits, ...cache.presentNames()]);
    } catch (err) {
      cache.clear(); // a failed step leaves no half-updated cache behind
      throw err;
    }
    cache.update(out, tokens);
    const logits = out[io.logits];
    const vocab = logits.dims[logits.dims.length - 1];
    const data = logits.type === 'float16' ? halfArrayToFloat32(logits.data as Uint16Array) : (logits.data as Float32Array);
    return allPositions ? data : data.slice((n - 1) * vocab, n * vocab);
  }

  /** Logits [tokens.length][vocab] for a fresh sequence, without touching the shared cache. */
  async logits(tokens: readonly number[]): Promise<Float32Array[]> {
    const cache = new KvCache(this.io, this.kvHeads, this.headDim);
    const flat = await this.forward(tokens, cache, true);
    const vocab = flat.length / tokens.length;
    return Array.from({ length: tokens.length }, (_, i) => flat.subarray(i * vocab, (i + 1) * vocab));
  }

  newCache(): KvCache {
    return new KvCache(this.io, this.kvHeads, this.headDim);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function onesTensor(type: IdsType, n: number): Tensor {
  return type === 'int64' ? makeTensor('int64', new BigInt64Array(n).fill(1n), [1, n]) : makeTensor('int32', new Int32Array(n).fill(1), [1, n]);
}

function intTensor(type: IdsType, values: readonly number[], dims: number[]): Tensor {
  return type === 'int64'
    ? makeTensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims)
    : makeTensor('int32', Int32Array.from(values), dims);
}
