/**
 * The engine's front door, used by the worker, the CLI, the benchmarks and the tests: load a model
 * folder, then complete (FIM), explain, generate or tokenize. Requests run one at a time because
 * they share the model's KV cache.
 */
import * as path from 'node:path';
import { readRegularFileSync } from './runtime/regularFile';
import { complete, type CompletionRequest, type CompletionResult, type RequestOptions } from './completion/completion';
import { DEFAULT_COPY_TABLE, parseCopyTable, type CopyCacheTable } from './generation/copyCache';
import { DecoderModel, type LoadOptions } from './runtime/decoder';
import type { GraphCacheState } from './runtime/graphCache';
import { detectFimTemplate, type FimFamily, type FimTemplate } from './completion/fim';
import { generate, type GenerationResult } from './generation/generate';
import { buildExplainPrompt, type ExplainRequest, type ExplainStyle } from './explain/prompts';
import { surprisal, type SurprisalResult } from './explain/surprisal';
import { dependence, type DependenceOptions } from './dependence/dependence';
import type { DependenceRequest, DependenceResult } from './dependence/types';

export type { CompletionRequest, CompletionResult, RequestOptions, TokenProvenance } from './completion/completion';

export interface ExplainResult extends GenerationResult {
  style: ExplainStyle;
  promptText: string;
}

export interface ModelInfo {
  name: string;
  dir: string;
  onnxPath: string;
  modelType?: string;
  numLayers: number;
  kvHeads: number;
  headDim: number;
  vocabSize?: number;
  contextLength: number;
  fimFamily: FimFamily;
  idsType: string;
  kvType: string;
  kvLayout: 'separate' | 'combined';
  loadMs: number;
  /** Whether the optimized graph came from this machine's cache (graphCache.ts). */
  graphCache: GraphCacheState;
}

const DEFAULT_COMPLETION_TOKENS = 64;
/** The copy cache's fitted mixing weights, beside the model (bench/fitCopyCache.ts writes it). */
const COPY_TABLE_FILE = 'copy_cache.json';
const DEFAULT_EXPLAIN_TOKENS = 256;
/** Characters a token can stand for at most, with room to spare (byte-level BPE vocabularies top out far lower). */
const MAX_CHARS_PER_TOKEN = 64;
/** Small models loop in prose ("the the the", "i; i; i;"); 1.2 is CTRL's suggested value. */
const DEFAULT_EXPLAIN_REPETITION_PENALTY = 1.2;

export class Engine {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly model: DecoderModel,
    readonly fim: FimTemplate,
    readonly copyTable: CopyCacheTable,
  ) {}

  static async load(dir: string, opts: LoadOptions = {}): Promise<Engine> {
    const model = await DecoderModel.load(dir, opts);
    return new Engine(model, detectFimTemplate(model.tokenizer), readCopyTable(model.files.dir));
  }

  info(): ModelInfo {
    const m = this.model;
    return {
      name: m.name,
      dir: m.files.dir,
      onnxPath: m.files.onnxPath,
      modelType: m.config.modelType,
      numLayers: m.io.numLayers,
      kvHeads: m.kvHeads,
      headDim: m.headDim,
      vocabSize: m.config.vocabSize,
      contextLength: m.contextLength,
      fimFamily: this.fim.family,
      idsType: m.io.idsType,
      kvType: m.io.kvType,
      kvLayout: m.io.kv.kind,
      loadMs: m.loadMs,
      graphCache: m.graphCache,
    };
  }

  /**
   * Ids and a readable label per token (text, or hex bytes for a partial UTF-8 character), as a
   * completion prompt holds the text: special-token text stays text (encodeText).
   */
  tokenize(text: string): { ids: number[]; tokens: string[] } {
    const ids = this.model.tokenizer.encodeText(text);
    return { ids, tokens: ids.map((id) => this.model.tokenizer.tokenLabel(id)) };
  }

  /** Completion at a cursor: repository context and FIM prompt in the model's own format, copy-aware decoding, guards. */
  complete(req: CompletionRequest): Promise<CompletionResult> {
    return this.exclusive(() => complete(this.model, this.fim, this.copyTable, req));
  }

  /** Explains code with the model's explain format or chat template; streams through onToken. */
  explain(req: ExplainRequest & RequestOptions): Promise<ExplainResult> {
    return this.exclusive(async () => {
      const prompt = buildExplainPrompt(this.model.tokenizer, { ...req, code: this.lastChars(req.code) });
      const maxNewTokens = req.maxNewTokens ?? DEFAULT_EXPLAIN_TOKENS;
      const ids = fitLeft(prompt.ids, this.model.contextLength - Math.min(maxNewTokens, this.model.contextLength / 2));
      const result = await generate(this.model, ids, {
        ...req,
        maxNewTokens,
        repetitionPenalty: req.repetitionPenalty ?? DEFAULT_EXPLAIN_REPETITION_PENALTY,
        stopStrings: [...prompt.stopStrings, ...(req.stopStrings ?? [])],
      });
      return { ...result, style: prompt.style, promptText: prompt.text };
    });
  }

  /** Each token of `code` with its surprisal under the model (and copy cache), and the most surprising words. */
  surprisal(code: string, context = ''): Promise<SurprisalResult> {
    return this.exclusive(() => surprisal(this.model, code, context, this.copyTable));
  }

  /**
   * What a finished completion's suggestion depended on: each span of its prompt out of the model's
   * view in turn, ranked (dependence/). Off the request queue, on a KV cache of its own, so a
   * completion need not wait for a ranking.
   */
  dependence(req: DependenceRequest, opts: DependenceOptions = {}): Promise<DependenceResult> {
    return dependence(this, req, opts);
  }

  /** Plain continuation of text or token ids. Over-long prompts lose their start. */
  generate(
    prompt: string | readonly number[],
    opts: RequestOptions,
  ): Promise<GenerationResult & { cutTokens: number }> {
    return this.exclusive(async () => {
      const ids = typeof prompt === 'string' ? this.model.tokenizer.encode(this.lastChars(prompt)) : [...prompt];
      const maxNewTokens = opts.maxNewTokens ?? DEFAULT_COMPLETION_TOKENS;
      const kept = fitLeft(ids, this.model.contextLength - Math.min(maxNewTokens, this.model.contextLength / 2));
      const result = await generate(this.model, kept, { ...opts, maxNewTokens });
      return { ...result, cutTokens: ids.length - kept.length };
    });
  }

  /**
   * The end of a text that the context can hold, before tokenizing: only the last contextLength
   * tokens are ever kept, and no token is longer than MAX_CHARS_PER_TOKEN characters. A 16 MB
   * single word once took 93 s to tokenize, to keep 2,048 tokens of it.
   */
  private lastChars(text: string): string {
    const max = this.model.contextLength * MAX_CHARS_PER_TOKEN;
    return text.length > max ? text.slice(text.length - max) : text;
  }

  async dispose(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.model.dispose();
  }

  /** Runs requests one after another: they share the KV cache. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The model folder's copy-cache table, or the default when it has none (or an unreadable one). */
function readCopyTable(dir: string): CopyCacheTable {
  try {
    return (
      parseCopyTable(JSON.parse(readRegularFileSync(path.join(dir, COPY_TABLE_FILE), 2 ** 20))) ?? DEFAULT_COPY_TABLE
    );
  } catch {
    return DEFAULT_COPY_TABLE;
  }
}

/** Keeps the last `max` ids (the text nearest the point of generation). */
function fitLeft(ids: number[], max: number): number[] {
  return ids.length > max ? ids.slice(ids.length - Math.floor(max)) : ids;
}
