/**
 * The arithmetic: what one served request would have cost on a hosted model, what it cost
 * locally, and where the two cross. Prices are USD per 1M tokens; times are ms.
 */
import type { UsageEntry } from './ledger';
import type { ModelPrice, PriceTier } from './priceFile';
import type { CostSettings } from './settings';
import { tokensFor } from './tokenCounts';

export const DAYS_PER_MONTH = 365.25 / 12;
const MS_PER_HOUR = 3_600_000;

/**
 * The team's own model server per month: its hourly price for every hour, busy or idle (a rented
 * GPU bills by the hour; an owned one is paid for whether it works or not). 0 when none is set.
 */
export function serverMonthly(s: CostSettings): number {
  return s.serverHourlyPrice * 24 * DAYS_PER_MONTH;
}

/** Tokens one request bills on a hosted model. */
interface HostedUsage {
  input: number;
  /** Part of `input` read from the vendor's prompt cache. */
  cachedInput: number;
  output: number;
  /** False when either count is a chars-per-token estimate. */
  exact: boolean;
}

interface Rates {
  inputPerM: number;
  outputPerM: number;
  cachedInputPerM: number;
  /** The long-context tier that applies, if any. */
  tier?: PriceTier;
}

/**
 * The tokens `e` would bill on `model`: the vendor's count of the same prompt and output text.
 * With `assumeCaching`, the share of the prompt the local model reused from its KV cache is
 * billed as cached input (a vendor's prompt cache would hold the same prefix).
 */
export function hostedUsage(
  model: Pick<ModelPrice, 'tokenizer'>,
  e: Pick<UsageEntry, 'prompt' | 'output' | 'promptTokens' | 'reusedTokens'>,
  assumeCaching = false,
): HostedUsage {
  const input = tokensFor(model, e.prompt);
  const output = tokensFor(model, e.output);
  const reusedShare = assumeCaching && e.promptTokens > 0 ? Math.min(1, e.reusedTokens / e.promptTokens) : 0;
  return {
    input: input.tokens,
    cachedInput: Math.round(input.tokens * reusedShare),
    output: output.tokens,
    exact: input.exact && output.exact,
  };
}

/** Rates for a request with `inputTokens` prompt tokens: past a tier's threshold, its rates apply to the whole request. */
export function ratesFor(
  model: Pick<ModelPrice, 'inputPerM' | 'outputPerM' | 'cachedInputPerM' | 'tiers'>,
  inputTokens: number,
): Rates {
  let tier: PriceTier | undefined;
  for (const t of model.tiers ?? [])
    if (inputTokens > t.aboveInputTokens && (!tier || t.aboveInputTokens > tier.aboveInputTokens)) tier = t;
  const base = tier ?? model;
  // No cached price: cached tokens cost the same as any input token.
  return {
    inputPerM: base.inputPerM,
    outputPerM: base.outputPerM,
    cachedInputPerM: base.cachedInputPerM ?? base.inputPerM,
    tier,
  };
}

/** USD for one request. */
export function requestCost(
  model: Pick<ModelPrice, 'inputPerM' | 'outputPerM' | 'cachedInputPerM' | 'tiers'>,
  u: HostedUsage,
): number {
  const r = ratesFor(model, u.input);
  return ((u.input - u.cachedInput) * r.inputPerM + u.cachedInput * r.cachedInputPerM + u.output * r.outputPerM) / 1e6;
}

/** Time the model spent computing for a request (prefill + decode), ms. */
export function generationMs(e: Pick<UsageEntry, 'prefillMs' | 'decodeMs'>): number {
  return e.prefillMs + e.decodeMs;
}

/** Electricity for `ms` of generation: W × h ÷ 1000 × USD/kWh. */
export function electricityCost(ms: number, s: Pick<CostSettings, 'watts' | 'electricityPrice'>): number {
  return ((s.watts * (ms / MS_PER_HOUR)) / 1000) * s.electricityPrice;
}

/** Hardware amortization per month: price × α ÷ lifetime in months. */
export function hardwareMonthly(
  s: Pick<CostSettings, 'hardwarePrice' | 'hardwareShare' | 'hardwareLifetimeMonths'>,
): number {
  return (s.hardwarePrice * s.hardwareShare) / s.hardwareLifetimeMonths;
}

/**
 * Requests per day at which local (fixed monthly + per request) costs the same as hosted (per
 * request): fixed ÷ (days × (hosted − local)). Undefined when hosted is never dearer per request;
 * 0 when there is no fixed cost (local is cheaper at any volume).
 */
export function breakEvenRequestsPerDay(
  fixedMonthly: number,
  localPerRequest: number,
  hostedPerRequest: number,
  daysPerMonth: number,
): number | undefined {
  const margin = hostedPerRequest - localPerRequest;
  if (!(margin > 0)) return undefined;
  return fixedMonthly / (daysPerMonth * margin);
}

/** Nearest-rank percentile (p in 0..1) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** `n` points from `from` to `to`, evenly spaced on a log scale. */
export function logSpace(from: number, to: number, n: number): number[] {
  const a = Math.log10(from);
  const b = Math.log10(to);
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}
