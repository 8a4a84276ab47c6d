/**
 * The engine's front door, used by the worker, the CLI, the benchmarks and the tests: load a model
 * folder, then complete (FIM), explain, generate or tokenize. Requests run one at a time because
 * they share the model's KV cache.
 */
import { completionRule, trimAgainstSuffix } from './completionText';
import { DecoderModel, type LoadOptions } from './decoder';
import { GlassboxError } from './errors';
import type { GraphCacheState } from './graphCache';
import { buildFimPrompt, detectFimTemplate, type FimFamily, type FimTemplate } from './fim';
import { generate, type GenerateOptions, type GenerationResult } from './generate';
import { buildExplainPrompt, type ExplainRequest, type ExplainStyle } from './prompts';

export type RequestOptions = Omit<GenerateOptions, 'maxNewTokens'> & { maxNewTokens?: number };

export interface CompletionRequest extends RequestOptions {
  prefix: string;
  suffix: string;
  /** Most prompt tokens (default: what the context leaves after maxNewTokens). */
  budgetTokens?: number;
  prefixShare?: number;
  /** Default: multi-line when only whitespace stands right of the cursor. */
  multiline?: boolean;
  /** Line/block stopping and suffix trimming (default true; benchmarks turn it off for fixed lengths). */
  shaping?: boolean;
}

/** `text` is trimmed against the suffix; `tokens` and `steps` are what the model generated. */
export interface CompletionResult extends GenerationResult {
  fimFamily: FimFamily;
  /** The prompt the model saw, decoded from its ids (special tokens included): for hosted-API token counts. */
  promptText: string;
  prompt: { tokens: number; prefixTokens: number; suffixTokens: number; cutPrefix: number; cutSuffix: number };
}

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
const DEFAULT_EXPLAIN_TOKENS = 256;
/** Small models loop in prose ("the the the", "i; i; i;"); 1.2 is CTRL's suggested value. */
const DEFAULT_EXPLAIN_REPETITION_PENALTY = 1.2;

export class Engine {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly model: DecoderModel,
    readonly fim: FimTemplate,
  ) {}

  static async load(dir: string, opts: LoadOptions = {}): Promise<Engine> {
    const model = await DecoderModel.load(dir, opts);
    return new Engine(model, detectFimTemplate(model.tokenizer));
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

  /** Ids and a readable label per token (text, or hex bytes for a partial UTF-8 character). */
  tokenize(text: string): { ids: number[]; tokens: string[] } {
    const ids = this.model.tokenizer.encode(text);
    return { ids, tokens: ids.map((id) => this.model.tokenizer.tokenLabel(id)) };
  }

  /** Completion at a cursor: FIM prompt in the model's own format, cut to the budget. */
  complete(req: CompletionRequest): Promise<CompletionResult> {
    return this.exclusive(async () => {
      const maxNewTokens = req.maxNewTokens ?? DEFAULT_COMPLETION_TOKENS;
      const budget = Math.min(req.budgetTokens ?? Infinity, this.model.contextLength - maxNewTokens);
      if (budget < 8) throw new GlassboxError('PROMPT_TOO_LONG', `maxNewTokens ${maxNewTokens} leaves no room for a prompt in a context of ${this.model.contextLength}.`);
      const prompt = buildFimPrompt(this.model.tokenizer, this.fim, { prefix: req.prefix, suffix: req.suffix, budgetTokens: budget, prefixShare: req.prefixShare });
      const base = { fimFamily: prompt.family, promptText: this.model.tokenizer.decode(prompt.ids), prompt: { tokens: prompt.ids.length, prefixTokens: prompt.prefixTokens, suffixTokens: prompt.suffixTokens, cutPrefix: prompt.cutPrefix, cutSuffix: prompt.cutSuffix } };
      if (prompt.ids.length === 0) return { ...base, ...emptyResult() }; // empty file, no FIM: nothing to continue
      const stopTokenIds = req.stopTokenIds ?? [...new Set([...this.model.eosTokenIds, ...prompt.stopTokenIds])];
      const shape = {
        linePrefix: req.prefix.slice(req.prefix.lastIndexOf('\n') + 1),
        multiline: req.multiline ?? req.suffix.split('\n')[0].trim() === '',
      };
      const shaping = req.shaping ?? true;
      const textRules = [...(shaping ? [completionRule(shape)] : []), ...(req.textRules ?? [])];
      const result = await generate(this.model, prompt.ids, { ...req, maxNewTokens, stopTokenIds, textRules });
      // U+FFFD here means the model produced bytes that are not UTF-8: never insert that into code.
      const text = result.text.replaceAll('\uFFFD', '');
      return { ...base, ...result, text: shaping ? trimAgainstSuffix(text, req.suffix) : text };
    });
  }

  /** Explains code with the model's explain format or chat template; streams through onToken. */
  explain(req: ExplainRequest & RequestOptions): Promise<ExplainResult> {
    return this.exclusive(async () => {
      const prompt = buildExplainPrompt(this.model.tokenizer, req);
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

  /** Plain continuation of text or token ids. Over-long prompts lose their start. */
  generate(prompt: string | readonly number[], opts: RequestOptions): Promise<GenerationResult & { cutTokens: number }> {
    return this.exclusive(async () => {
      const ids = typeof prompt === 'string' ? this.model.tokenizer.encode(prompt) : [...prompt];
      const maxNewTokens = opts.maxNewTokens ?? DEFAULT_COMPLETION_TOKENS;
      const kept = fitLeft(ids, this.model.contextLength - Math.min(maxNewTokens, this.model.contextLength / 2));
      const result = await generate(this.model, kept, { ...opts, maxNewTokens });
      return { ...result, cutTokens: ids.length - kept.length };
    });
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

/** Keeps the last `max` ids (the text nearest the point of generation). */
function fitLeft(ids: number[], max: number): number[] {
  return ids.length > max ? ids.slice(ids.length - Math.floor(max)) : ids;
}

function emptyResult(): GenerationResult {
  return { text: '', tokens: [], logprobs: [], steps: [], stopReason: 'max_tokens', timings: { prefillMs: 0, decodeMs: 0, promptTokens: 0, reusedTokens: 0, generatedTokens: 0 } };
}
