/**
 * Known small code models published as ONNX on the Hugging Face hub: data only. Repository ids,
 * file paths and architecture numbers were written from memory of the hub (no network here), and
 * sizes are approximate; `verified` says which entries were checked against a real listing. The
 * quick pick re-reads every entry's files from the hub's listing API when it opens (resolve.ts),
 * downloads use the hub's sizes and hashes, and a size that differs by more than
 * SIZE_TOLERANCE is shown as "changed on the hub".
 */
import type { ArchNumbers } from './memory';

export interface CatalogueVariant {
  /** Short name, part of the install folder: "q4", "q4f16", "int8", "fp16", "fp32". */
  id: string;
  /** In words, for the list: "int4 (MatMulNBits), fp32 activations". */
  quantization: string;
  /** The decoder, relative to the repository (or `subfolder`). External data next to it is fetched too. */
  onnx: string;
  /** Approximate size of the decoder plus its external data, bytes. */
  approxBytes: number;
}

export interface CatalogueEntry {
  repo: string;
  revision: string;
  title: string;
  /** Parameters, for the list ("0.5B"). */
  params: string;
  licence: string;
  /** The tokenizer has fill-in-the-middle tokens (fim.ts picks the family from them). */
  fim: boolean;
  /** tokenizer_config.json has a chat_template (Explain renders it). */
  chat: boolean;
  arch: ArchNumbers & { contextLength: number };
  /** Files every variant needs; a trailing "?" marks files that may be absent. */
  files: string[];
  /** The model folder inside the repository, when it is not the root (GenAI repos). */
  subfolder?: string;
  variants: CatalogueVariant[];
  /** 'memory': written from memory, not yet checked against the hub; 'exact': checked. */
  verified: 'memory' | 'exact';
  /** Why Glassbox's engine cannot run it yet; undefined when it can (as far as is known). */
  unsupported?: string;
  /** Only listed when the hub is a local test hub (127.0.0.1 / localhost). */
  testOnly?: boolean;
  notes?: string;
}

/** Hub sizes further than this from the catalogue's count as changed. */
export const SIZE_TOLERANCE = 0.15;

const MB = 1024 * 1024;
const TRANSFORMERS_JS_FILES = [
  'config.json',
  'generation_config.json?',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json?',
];

export const CATALOGUE: CatalogueEntry[] = [
  {
    repo: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
    revision: 'main',
    title: 'Qwen2.5-Coder 0.5B Instruct',
    params: '0.5B',
    licence: 'Apache-2.0',
    fim: true,
    chat: true,
    arch: { numLayers: 24, numHeads: 14, kvHeads: 2, headDim: 64, vocabSize: 151936, contextLength: 32768 },
    files: TRANSFORMERS_JS_FILES,
    variants: [
      {
        id: 'q4f16',
        quantization: 'int4 (MatMulNBits), fp16 activations and cache',
        onnx: 'onnx/model_q4f16.onnx',
        approxBytes: 480 * MB,
      },
      {
        id: 'q4',
        quantization: 'int4 (MatMulNBits), fp32 activations',
        onnx: 'onnx/model_q4.onnx',
        approxBytes: 790 * MB,
      },
      {
        id: 'int8',
        quantization: 'int8 (dynamic quantization)',
        onnx: 'onnx/model_quantized.onnx',
        approxBytes: 500 * MB,
      },
      { id: 'fp16', quantization: 'fp16', onnx: 'onnx/model_fp16.onnx', approxBytes: 990 * MB },
    ],
    verified: 'memory',
    notes:
      "transformers.js export (Optimum names, GQA 14/2 heads). FIM works with the Instruct model's tokenizer; the base model completes better.",
  },
  {
    repo: 'onnx-community/Qwen2.5-Coder-1.5B-Instruct',
    revision: 'main',
    title: 'Qwen2.5-Coder 1.5B Instruct',
    params: '1.5B',
    licence: 'Apache-2.0',
    fim: true,
    chat: true,
    arch: { numLayers: 28, numHeads: 12, kvHeads: 2, headDim: 128, vocabSize: 151936, contextLength: 32768 },
    files: TRANSFORMERS_JS_FILES,
    variants: [
      {
        id: 'q4f16',
        quantization: 'int4 (MatMulNBits), fp16 activations and cache',
        onnx: 'onnx/model_q4f16.onnx',
        approxBytes: 1150 * MB,
      },
      {
        id: 'q4',
        quantization: 'int4 (MatMulNBits), fp32 activations',
        onnx: 'onnx/model_q4.onnx',
        approxBytes: 1750 * MB,
      },
    ],
    verified: 'memory',
  },
  {
    repo: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    revision: 'main',
    title: 'SmolLM2 135M Instruct',
    params: '135M',
    licence: 'Apache-2.0',
    fim: false,
    chat: true,
    arch: { numLayers: 30, numHeads: 9, kvHeads: 3, headDim: 64, vocabSize: 49152, contextLength: 8192 },
    files: TRANSFORMERS_JS_FILES,
    variants: [
      {
        id: 'int8',
        quantization: 'int8 (dynamic quantization)',
        onnx: 'onnx/model_quantized.onnx',
        approxBytes: 140 * MB,
      },
      {
        id: 'q4',
        quantization: 'int4 (MatMulNBits), fp32 activations',
        onnx: 'onnx/model_q4.onnx',
        approxBytes: 175 * MB,
      },
      { id: 'fp16', quantization: 'fp16', onnx: 'onnx/model_fp16.onnx', approxBytes: 270 * MB },
    ],
    verified: 'memory',
    notes: 'General small model with some code; no FIM tokens, so completions continue the prefix only.',
  },
  {
    repo: 'HuggingFaceTB/SmolLM2-360M-Instruct',
    revision: 'main',
    title: 'SmolLM2 360M Instruct',
    params: '360M',
    licence: 'Apache-2.0',
    fim: false,
    chat: true,
    arch: { numLayers: 32, numHeads: 15, kvHeads: 5, headDim: 64, vocabSize: 49152, contextLength: 8192 },
    files: TRANSFORMERS_JS_FILES,
    variants: [
      {
        id: 'int8',
        quantization: 'int8 (dynamic quantization)',
        onnx: 'onnx/model_quantized.onnx',
        approxBytes: 370 * MB,
      },
      {
        id: 'q4',
        quantization: 'int4 (MatMulNBits), fp32 activations',
        onnx: 'onnx/model_q4.onnx',
        approxBytes: 390 * MB,
      },
      { id: 'fp16', quantization: 'fp16', onnx: 'onnx/model_fp16.onnx', approxBytes: 725 * MB },
    ],
    verified: 'memory',
  },
  {
    repo: 'microsoft/Phi-3-mini-4k-instruct-onnx',
    revision: 'main',
    title: 'Phi-3 mini 4k Instruct (ONNX Runtime GenAI)',
    params: '3.8B',
    licence: 'MIT',
    fim: false,
    chat: true,
    arch: { numLayers: 32, numHeads: 32, kvHeads: 32, headDim: 96, vocabSize: 32064, contextLength: 4096 },
    subfolder: 'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4',
    files: [
      'genai_config.json',
      'config.json?',
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json?',
      'added_tokens.json?',
    ],
    variants: [
      {
        id: 'int4-cpu',
        quantization: 'int4 (MatMulNBits, RTN block 32), external data',
        onnx: 'phi3-mini-4k-instruct-cpu-int4-rtn-block-32-acc-level-4.onnx',
        approxBytes: 2720 * MB,
      },
    ],
    verified: 'memory',
    notes: 'Larger: GenAI layout with GroupQueryAttention and an .onnx.data file of about 2.7 GB.',
  },
  {
    repo: 'Xenova/tiny_starcoder_py',
    revision: 'main',
    title: 'tiny_starcoder_py (164M, Python)',
    params: '164M',
    licence: 'BigCode OpenRAIL-M',
    fim: true,
    chat: false,
    arch: { numLayers: 20, numHeads: 12, kvHeads: 1, headDim: 64, vocabSize: 49152, contextLength: 8192 },
    files: TRANSFORMERS_JS_FILES,
    variants: [
      {
        id: 'int8',
        quantization: 'int8 (dynamic quantization)',
        onnx: 'onnx/decoder_model_merged_quantized.onnx',
        approxBytes: 170 * MB,
      },
    ],
    verified: 'memory',
    unsupported:
      'its gpt_bigcode export keeps keys and values in one past_key_values.N.key_value tensor and has a use_cache_branch input; the engine reads separate key/value or past_N caches.',
  },
  {
    repo: 'Xenova/deepseek-coder-1.3b-instruct',
    revision: 'main',
    title: 'DeepSeek-Coder 1.3B Instruct',
    params: '1.3B',
    licence: 'DeepSeek License',
    fim: true,
    chat: true,
    arch: { numLayers: 24, numHeads: 16, kvHeads: 16, headDim: 128, vocabSize: 32256, contextLength: 16384 },
    files: TRANSFORMERS_JS_FILES,
    variants: [
      {
        id: 'int8',
        quantization: 'int8 (dynamic quantization)',
        onnx: 'onnx/model_quantized.onnx',
        approxBytes: 1350 * MB,
      },
    ],
    verified: 'memory',
    notes:
      'File names unverified: older Xenova exports name the decoder decoder_model_merged(_quantized).onnx, which the engine cannot feed (use_cache_branch). The hub check shows which files exist.',
  },
  {
    // Glassbox's own random-weights test model, served by the fake hub in the tests.
    repo: 'glassbox-test/test-tiny',
    revision: 'main',
    title: 'Glassbox test-tiny (test hub)',
    params: '0.1M',
    licence: 'MIT',
    fim: true,
    chat: false,
    arch: { numLayers: 2, numHeads: 4, kvHeads: 2, headDim: 16, vocabSize: 512, contextLength: 512 },
    files: ['config.json', 'generation_config.json?', 'tokenizer.json', 'tokenizer_config.json'],
    variants: [{ id: 'fp32', quantization: 'fp32', onnx: 'onnx/model.onnx', approxBytes: 697302 }],
    verified: 'exact',
    testOnly: true,
  },
];

/** The entries to offer: test-only ones only when the hub is on this machine. */
export function catalogueFor(hubIsLoopback: boolean): CatalogueEntry[] {
  return CATALOGUE.filter((e) => !e.testOnly || hubIsLoopback);
}
