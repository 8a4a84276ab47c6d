/**
 * How much memory a model needs to run: its weights as ONNX Runtime holds them, the KV cache for
 * the context Glassbox uses, and working memory for a prefill (logits and attention scores).
 * An estimate to show before loading, not a measurement.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { locateModelFiles, readModelConfig } from '../engine';
import { formatBytes } from './errors';
import { unsafeRepoPath } from './safePath';

/** The architecture numbers the estimate needs (config.json names in comments). */
export interface ArchNumbers {
  numLayers: number; // num_hidden_layers
  numHeads: number; // num_attention_heads
  kvHeads: number; // num_key_value_heads
  headDim: number; // hidden_size / num_attention_heads, or head_dim
  vocabSize: number; // vocab_size
}

export interface MemoryEstimate {
  weightsBytes: number;
  kvCacheBytes: number;
  /** Logits and attention scores of one prefill, plus ONNX Runtime's own arena. */
  workBytes: number;
  totalBytes: number;
  contextTokens: number;
}

/** ONNX Runtime and the worker thread before any tensor, bytes. */
const RUNTIME_OVERHEAD = 150 * 1024 * 1024;
/** Pre-packed weights and allocator slack on top of the file size. */
const WEIGHTS_FACTOR = 1.1;

/**
 * weights × 1.1 + KV cache (2 · layers · kvHeads · headDim · context · bytes per value)
 * + prefill work (context · vocab · 4 for logits, heads · context² · 4 for one layer's scores) + 150 MB.
 */
export function estimateMemory(
  weightBytes: number,
  arch: Partial<ArchNumbers>,
  contextTokens: number,
  kvBytesPerValue: 2 | 4 = 4,
): MemoryEstimate {
  const t = contextTokens;
  const kvCacheBytes = 2 * (arch.numLayers ?? 0) * (arch.kvHeads ?? 0) * (arch.headDim ?? 0) * t * kvBytesPerValue;
  const logits = t * (arch.vocabSize ?? 0) * 4;
  const scores = (arch.numHeads ?? arch.kvHeads ?? 0) * t * t * 4;
  const workBytes = logits + scores + RUNTIME_OVERHEAD;
  const weightsBytes = Math.round(weightBytes * WEIGHTS_FACTOR);
  return {
    weightsBytes,
    kvCacheBytes,
    workBytes,
    totalBytes: weightsBytes + kvCacheBytes + workBytes,
    contextTokens: t,
  };
}

/** "≈ 1.3 GB (weights 0.9 GB, KV cache 96 MB at 1,088 tokens, working memory 0.3 GB)". */
export function describeEstimate(e: MemoryEstimate): string {
  return `≈ ${formatBytes(e.totalBytes)} (weights ${formatBytes(e.weightsBytes)}, KV cache ${formatBytes(e.kvCacheBytes)} at ${e.contextTokens.toLocaleString('en-US')} tokens, working memory ${formatBytes(e.workBytes)})`;
}

/** fp16 caches for fp16 / q4f16 exports, fp32 otherwise (what transformers.js exports use). */
export function kvBytesForFile(onnxFile: string): 2 | 4 {
  return /(^|[_-])(fp16|q4f16|f16)(\.|_|-|$)/i.test(path.basename(onnxFile)) ? 2 : 4;
}

/** External data files that belong to an .onnx (model.onnx_data, model.onnx.data, model.onnx_data_1, …). */
export function isExternalDataOf(onnxFile: string, candidate: string): boolean {
  if (unsafeRepoPath(candidate) || path.posix.dirname(onnxFile) !== path.posix.dirname(candidate)) return false;
  const base = path.posix.basename(onnxFile);
  const name = path.posix.basename(candidate);
  return name !== base && (name.startsWith(`${base}_data`) || name.startsWith(`${base}.data`));
}

/** The estimate for a model folder on disk (weights from file sizes, numbers from its config). */
export function estimateFolderMemory(dir: string, onnxFile: string | undefined, contextTokens: number): MemoryEstimate {
  const files = locateModelFiles(dir, { onnxFile });
  const config = readModelConfig(files);
  const onnxDir = path.dirname(files.onnxPath);
  const rel = path.basename(files.onnxPath);
  let weights = fs.statSync(files.onnxPath).size;
  for (const name of fs.readdirSync(onnxDir)) {
    if (isExternalDataOf(rel, name)) weights += fs.statSync(path.join(onnxDir, name)).size;
  }
  const context = Math.min(contextTokens, config.contextLength ?? contextTokens);
  const arch: Partial<ArchNumbers> = {
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    kvHeads: config.numKvHeads,
    headDim: config.headDim,
    vocabSize: config.vocabSize,
  };
  return estimateMemory(weights, arch, context, kvBytesForFile(rel));
}
