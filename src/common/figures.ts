/**
 * The derived figures of the architecture explorer and their formulas, from CostInputs. Pure
 * arithmetic with no imports beyond types: the webview recomputes them as the user moves the
 * context-length slider or edits the bandwidth, and the unit tests check them.
 *
 * FLOPs follow Kaplan et al. (2020): a forward pass costs 2 FLOPs per parameter that multiplies
 * the token (every linear layer and the LM head; embedding lookups and norms are negligible), plus
 * attention over the context: QKᵀ and AV cost 2·d_attn FLOPs each per context position, per layer,
 * where d_attn = query heads × head dim.
 */
import type { CostInputs } from './architectureTypes';

export interface Figure {
  value: number | null;
  /** The formula with this model's numbers filled in, for the tooltip. */
  formula: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function attnWidth(c: CostInputs): number | null {
  return c.queryHeads !== null && c.headDim !== null ? c.queryHeads * c.headDim : null;
}

/** KV-cache bytes one token adds: 2 (K and V) × layers × KV heads × head dim × bytes per element. */
export function kvBytesPerToken(c: CostInputs): Figure {
  const f = `2 (K,V) × ${c.layers ?? 'L'} layers × ${c.kvHeads ?? 'n_kv'} KV heads × ${c.headDim ?? 'd_head'} head dim × ${c.kvBytesPerElement} B (${c.kvDtype})`;
  if (c.layers === null || c.kvHeads === null || c.headDim === null) return { value: null, formula: f };
  return { value: 2 * c.layers * c.kvHeads * c.headDim * c.kvBytesPerElement, formula: f };
}

/** KV-cache bytes for `tokens` of context (batch 1). */
export function kvCacheBytes(c: CostInputs, tokens: number): Figure {
  const per = kvBytesPerToken(c);
  return { value: per.value === null ? null : per.value * tokens, formula: `${per.formula} × ${fmt(tokens)} tokens` };
}

/** FLOPs to generate one token with `context` tokens already in the cache. */
export function flopsPerGeneratedToken(c: CostInputs, context: number): Figure {
  const d = attnWidth(c);
  const f = `2 × ${fmt(c.matmulParams)} matmul params + 4 × ${c.layers ?? 'L'} layers × ${d ?? 'd_attn'} (heads × head dim) × ${fmt(context)} context`;
  if (d === null || c.layers === null) return { value: 2 * c.matmulParams, formula: `${f} (attention term unknown)` };
  return { value: 2 * c.matmulParams + 4 * c.layers * d * context, formula: f };
}

/** FLOPs per token of a `prompt`-token prefill (causal: position i attends to i+1 tokens, on average (T+1)/2). */
export function flopsPerPromptToken(c: CostInputs, prompt: number): Figure {
  const d = attnWidth(c);
  const f = `2 × ${fmt(c.matmulParams)} matmul params + 2 × ${c.layers ?? 'L'} layers × ${d ?? 'd_attn'} × (${fmt(prompt)} + 1)`;
  if (d === null || c.layers === null) return { value: 2 * c.matmulParams, formula: `${f} (attention term unknown)` };
  return { value: 2 * c.matmulParams + 2 * c.layers * d * (prompt + 1), formula: f };
}

/**
 * Upper bound on decode speed when memory bandwidth is the limit: every generated token reads all
 * weights and the whole KV cache once.
 */
export function decodeTokensPerSecondBound(c: CostInputs, bandwidthGBs: number, context: number): Figure {
  const kv = kvCacheBytes(c, context).value;
  const f = `${bandwidthGBs} GB/s ÷ (${c.memoryBytes === null ? 'weight bytes' : fmt(c.memoryBytes) + ' B weights'} + ${kv === null ? 'KV bytes' : fmt(kv) + ' B KV cache'})`;
  if (c.memoryBytes === null || kv === null || bandwidthGBs <= 0) return { value: null, formula: f };
  return { value: (bandwidthGBs * 1e9) / (c.memoryBytes + kv), formula: f };
}

/** Bytes in memory while generating at `context`: weights as held + KV cache. */
export function memoryAtContext(c: CostInputs, context: number): Figure {
  const kv = kvCacheBytes(c, context).value;
  const f = `${c.memoryBytes === null ? 'weights' : fmt(c.memoryBytes) + ' B weights'} + ${kv === null ? 'KV cache' : fmt(kv) + ' B KV cache'} (activations not included)`;
  return { value: c.memoryBytes === null || kv === null ? null : c.memoryBytes + kv, formula: f };
}

export function formatBytes(n: number | null): string {
  if (n === null) return 'unknown';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

/** 1234567 → "1.23M"; small numbers stay exact. */
export function formatCount(n: number | null): string {
  if (n === null) return 'unknown';
  const abs = Math.abs(n);
  if (abs < 10_000) return fmt(n);
  for (const [div, suffix] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ] as const) {
    if (abs >= div) return `${(n / div).toFixed(n / div >= 100 ? 0 : n / div >= 10 ? 1 : 2)}${suffix}`;
  }
  return fmt(n);
}
