/**
 * Finds the files of a model folder in the Hugging Face / Optimum / transformers.js layout or the
 * ONNX Runtime GenAI layout (models/README.md), and reads its architecture numbers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GlassboxError } from '../errors';
import { readRegularFileSync } from './regularFile';

/** Largest JSON file of a model folder read, bytes (configs are a few KB). */
const MAX_JSON_BYTES = 16 * 2 ** 20;

/** transformers.js file names for each dtype (`onnx/model{suffix}.onnx`). */
export const DTYPE_SUFFIX: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

export interface ModelFiles {
  dir: string;
  onnxPath: string;
  tokenizerPath: string;
  tokenizerConfigPath?: string;
  configPath?: string;
  genaiConfigPath?: string;
  generationConfigPath?: string;
}

/** GenAI's names for the decoder's inputs and outputs; `%d` stands for the layer index. */
export interface GenAiIoNames {
  inputIds?: string;
  attentionMask?: string;
  positionIds?: string;
  pastKey?: string;
  pastValue?: string;
  past?: string;
  logits?: string;
  presentKey?: string;
  presentValue?: string;
  present?: string;
}

/** Architecture numbers, from config.json or genai_config.json; the graph fills what they lack. */
export interface ModelConfig {
  name: string;
  modelType?: string;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  headDim?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  vocabSize?: number;
  contextLength?: number;
  ropeTheta?: number;
  tiedEmbeddings?: boolean;
  eosTokenIds: number[];
  bosTokenId?: number;
  genaiNames?: GenAiIoNames;
  /** The raw config.json (or genai_config.json) object, for the explorers. */
  raw: Record<string, unknown>;
}

export interface LocateOptions {
  /** A file name relative to the folder, when the folder holds several .onnx files. */
  onnxFile?: string;
}

function exists(file: string): boolean {
  return fs.existsSync(file);
}

/** Reads a JSON file, or throws an error naming the file and the parse problem. */
/**
 * What is wrong with a JSON text, without quoting it: V8's message quotes the text, and a
 * config.json linked to /etc/passwd put its first line into the message.
 */
function jsonProblem(err: Error): string {
  if (err.message === 'expected a JSON object') return err.message;
  const at = /position (\d+)/.exec(err.message);
  return at ? `a syntax error at character ${at[1]}` : 'a syntax error';
}

export function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readRegularFileSync(file, MAX_JSON_BYTES);
  } catch (err) {
    throw new GlassboxError('CONFIG_INVALID', `Cannot read ${file}: ${(err as Error).message}.`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new GlassboxError(
      'CONFIG_INVALID',
      `${file} is not valid JSON: ${jsonProblem(err as Error)}.`,
      'Fix or replace the file.',
    );
  }
}

/** Finds the model's files; throws one error that names what was expected and what was found. */
export function locateModelFiles(dir: string, opts: LocateOptions = {}): ModelFiles {
  const abs = path.resolve(dir);
  if (!exists(abs) || !fs.statSync(abs).isDirectory()) {
    throw new GlassboxError('MODEL_NOT_FOUND', `Model folder not found: ${abs}.`, 'Select a model folder that exists.');
  }
  const at = (name: string) => (exists(path.join(abs, name)) ? path.join(abs, name) : undefined);
  const files = {
    dir: abs,
    configPath: at('config.json'),
    genaiConfigPath: at('genai_config.json'),
    generationConfigPath: at('generation_config.json'),
    tokenizerConfigPath: at('tokenizer_config.json'),
  };
  const tokenizerPath = at('tokenizer.json');
  if (!tokenizerPath) {
    throw new GlassboxError(
      'TOKENIZER_MISSING',
      `No tokenizer.json in ${abs} (found: ${listing(abs)}).`,
      'Glassbox needs a Hugging Face tokenizer.json next to the model.',
    );
  }
  return { ...files, tokenizerPath, onnxPath: findOnnx(abs, files, opts) };
}

function listing(dir: string): string {
  const names = fs.readdirSync(dir);
  return names.length ? names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '') : 'nothing';
}

/** Lists the .onnx files a folder offers, relative to it (root first, then onnx/). */
export function listOnnxFiles(dir: string): string[] {
  const found: string[] = [];
  for (const sub of ['', 'onnx']) {
    const d = path.join(dir, sub);
    if (!exists(d) || !fs.statSync(d).isDirectory()) continue;
    for (const name of fs.readdirSync(d).sort()) {
      if (name.endsWith('.onnx')) found.push(sub ? `${sub}/${name}` : name);
    }
  }
  return found;
}

/** The .onnx file a folder's decoder lives in: the one named, GenAI's filename, the only one, or the config's dtype. */
export function findOnnx(
  dir: string,
  files: Omit<ModelFiles, 'onnxPath' | 'tokenizerPath'>,
  opts: LocateOptions,
): string {
  if (opts.onnxFile) {
    const p = insideFolder(dir, opts.onnxFile, 'The model file setting');
    if (!exists(p))
      throw new GlassboxError('ONNX_MISSING', `Model file not found: ${p}.`, notShippedHint(dir, opts.onnxFile));
    return p;
  }
  if (files.genaiConfigPath) {
    const genai = readJson(files.genaiConfigPath);
    const name = (genai.model as { decoder?: { filename?: string } } | undefined)?.decoder?.filename;
    if (typeof name !== 'string') {
      throw new GlassboxError(
        'CONFIG_INVALID',
        `${files.genaiConfigPath} has no model.decoder.filename (expected the decoder's .onnx file name).`,
      );
    }
    const p = insideFolder(dir, name, files.genaiConfigPath);
    if (!exists(p))
      throw new GlassboxError('ONNX_MISSING', `${files.genaiConfigPath} names ${name}, but ${p} does not exist.`);
    return p;
  }
  const candidates = listOnnxFiles(dir);
  if (candidates.length === 0) {
    throw new GlassboxError(
      'ONNX_MISSING',
      `No .onnx file in ${dir} or ${path.join(dir, 'onnx')} (found: ${listing(dir)}).`,
      'Export the model to ONNX or select another folder.',
    );
  }
  if (candidates.length === 1) return path.join(dir, candidates[0]);
  const dtype = files.configPath ? preferredDtype(readJson(files.configPath)) : undefined;
  if (dtype !== undefined && dtype in DTYPE_SUFFIX) {
    const want = `model${DTYPE_SUFFIX[dtype]}.onnx`;
    const hit = candidates.find((c) => path.basename(c) === want);
    if (hit) return path.join(dir, hit);
  }
  throw new GlassboxError(
    'ONNX_AMBIGUOUS',
    `${dir} holds several ONNX files (${candidates.join(', ')}) and config.json does not pick one.`,
    'Choose one (the model file setting, or "transformers.js_config": {"dtype": …} in config.json).',
  );
}

/** `dir`/`name`, refused when the name leads out of the folder (`../../etc/passwd`, an absolute path). */
function insideFolder(dir: string, name: string, namedBy: string): string {
  const p = path.resolve(dir, name);
  const rel = path.relative(path.resolve(dir), p);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
    throw new GlassboxError(
      'CONFIG_INVALID',
      `${namedBy} names ${JSON.stringify(name)}, which is outside the model folder ${dir}.`,
      'A model folder may only name files inside itself: choose a file in the folder.',
    );
  return p;
}

/**
 * A variant the model's quantization table lists but the folder lacks was left out of the package
 * (the embedded model ships its default variant only): say how to get it.
 */
function notShippedHint(dir: string, onnxFile: string): string {
  const plain = "Check glassbox.modelFile, or clear it to use the model's default variant.";
  const table = path.join(dir, 'quantization.json');
  if (!exists(table)) return plain;
  const variants = (readJson(table).variants ?? []) as { file?: string; default?: boolean }[];
  if (!variants.some((v) => v.file === onnxFile.replace(/\\/g, '/'))) return plain;
  const shipped = variants.find((v) => v.default)?.file;
  return `Glassbox ships only this model's default variant${shipped ? ` (${shipped})` : ''}; clear glassbox.modelFile to use it, or build the others from the repository with models/recipe/build_all.sh export quantize.`;
}

function preferredDtype(config: Record<string, unknown>): string | undefined {
  const tjs = config['transformers.js_config'] as { dtype?: unknown } | undefined;
  return typeof tjs?.dtype === 'string' ? tjs.dtype : undefined;
}

function num(...values: unknown[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) return v;
  return undefined;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** Reads the architecture numbers from whichever config the folder has (names differ by family). */
export function readModelConfig(files: ModelFiles): ModelConfig {
  const name = path.basename(files.dir);
  if (files.genaiConfigPath) return checkedSizes(readGenAiConfig(files.genaiConfigPath, name), files.genaiConfigPath);
  if (!files.configPath) return { name, eosTokenIds: [], raw: {} };
  const c = readJson(files.configPath);
  const gen = files.generationConfigPath ? readJson(files.generationConfigPath) : {};
  const numHeads = num(c.num_attention_heads, c.n_head, c.num_heads);
  const hiddenSize = num(c.hidden_size, c.n_embd, c.d_model);
  const eos = ids(c.eos_token_id);
  return checkedSizes(
    {
      name,
      modelType: typeof c.model_type === 'string' ? c.model_type : undefined,
      numLayers: num(c.num_hidden_layers, c.n_layer, c.num_layers),
      numHeads,
      numKvHeads: num(c.num_key_value_heads, c.multi_query === true ? 1 : undefined, numHeads),
      headDim: num(c.head_dim, hiddenSize && numHeads ? hiddenSize / numHeads : undefined),
      hiddenSize,
      intermediateSize: num(
        c.intermediate_size,
        c.n_inner,
        hiddenSize && (c.model_type === 'gpt2' ? 4 * hiddenSize : undefined),
      ),
      vocabSize: num(c.vocab_size),
      contextLength: num(c.max_position_embeddings, c.n_positions, c.n_ctx, c.seq_length),
      ropeTheta: num(c.rope_theta),
      tiedEmbeddings: typeof c.tie_word_embeddings === 'boolean' ? c.tie_word_embeddings : undefined,
      eosTokenIds: eos.length ? eos : ids(gen.eos_token_id),
      bosTokenId: num(c.bos_token_id, gen.bos_token_id),
      raw: c,
    },
    files.configPath,
  );
}

/**
 * Largest size the engine accepts per field: far above any decoder Glassbox can run on a laptop,
 * far below what would make it allocate gigabytes or overflow a typed array from a config alone.
 */
const SIZE_LIMITS: [keyof ModelConfig, string, number][] = [
  ['contextLength', 'the context length (max_position_embeddings)', 2 ** 20],
  ['vocabSize', 'vocab_size', 2 ** 21],
  ['numLayers', 'the number of layers', 1024],
  ['numHeads', 'the number of attention heads', 1024],
  ['numKvHeads', 'the number of key/value heads', 1024],
  ['headDim', 'the head size', 4096],
  ['hiddenSize', 'the hidden size', 2 ** 17],
  ['intermediateSize', 'the intermediate size', 2 ** 19],
];

/** The config, once every size in it is a whole number from 1 to its limit. */
function checkedSizes(config: ModelConfig, file: string): ModelConfig {
  for (const [key, what, max] of SIZE_LIMITS) {
    const v = config[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
      throw new GlassboxError(
        'CONFIG_INVALID',
        `${file}: ${what} is ${String(v)}; expected a whole number from 1 to ${max.toLocaleString('en')}.`,
        'The model folder is damaged or not a decoder Glassbox can run: fix its config, or choose another model.',
      );
  }
  return config;
}

function readGenAiConfig(file: string, name: string): ModelConfig {
  const g = readJson(file);
  const model = (g.model ?? {}) as Record<string, unknown>;
  const dec = (model.decoder ?? {}) as Record<string, unknown>;
  const inputs = (dec.inputs ?? {}) as Record<string, unknown>;
  const outputs = (dec.outputs ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    name,
    modelType: str(model.type),
    numLayers: num(dec.num_hidden_layers),
    numHeads: num(dec.num_attention_heads),
    numKvHeads: num(dec.num_key_value_heads, dec.num_attention_heads),
    headDim: num(dec.head_size),
    hiddenSize: num(dec.hidden_size),
    vocabSize: num(model.vocab_size),
    contextLength: num(model.context_length),
    eosTokenIds: ids(model.eos_token_id),
    bosTokenId: num(model.bos_token_id),
    genaiNames: {
      inputIds: str(inputs.input_ids),
      attentionMask: str(inputs.attention_mask),
      positionIds: str(inputs.position_ids),
      pastKey: str(inputs.past_key_names),
      pastValue: str(inputs.past_value_names),
      past: str(inputs.past_names),
      logits: str(outputs.logits),
      presentKey: str(outputs.present_key_names),
      presentValue: str(outputs.present_value_names),
      present: str(outputs.present_names),
    },
    raw: g,
  };
}
