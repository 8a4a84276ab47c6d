/**
 * The price file: hosted models' list prices in USD per 1M tokens, with where each figure came
 * from and whether anyone checked it on that date. The bundled copy is src/costs/prices.json; a
 * user's override file and the "Update Prices" download use the same schema. Validation names the
 * file, the model and the field, and ignores fields it does not know.
 */
import { isRecord } from '../common/isRecord';

/** Re-exported for litellm.ts, which validates the downloaded file with the same check. */
export { isRecord };

const PRICE_SCHEMA_VERSION = 1;

/** How a vendor's token count is obtained: exactly with an OpenAI encoding, or estimated from characters. */
type TokenCounting = 'o200k_base' | 'cl100k_base' | 'estimate';

interface Provenance {
  url: string;
  /** YYYY-MM-DD when checked; YYYY-MM of the knowledge it came from when not verified. */
  date: string;
  /** True only when someone (or the update command) read the figure from `url` on `date`. */
  verified: boolean;
  note?: string;
}

/** Above `aboveInputTokens` prompt tokens, the whole request is billed at these rates. */
export interface PriceTier {
  aboveInputTokens: number;
  inputPerM: number;
  outputPerM: number;
  cachedInputPerM?: number;
}

interface HostedLatency {
  /** Typical time to first token, ms. */
  ttftMs: number;
  /** Typical output speed once streaming, tokens/s. */
  outputTokensPerSec?: number;
  source: Provenance;
}

export interface ModelPrice {
  id: string;
  name: string;
  vendor: string;
  inputPerM: number;
  outputPerM: number;
  /** Price of prompt tokens read from the vendor's prompt cache; absent: no discount. */
  cachedInputPerM?: number;
  tiers?: PriceTier[];
  /** Tokens. */
  contextWindow: number;
  tokenizer: TokenCounting;
  latency?: HostedLatency;
  source: Provenance;
  /** Keys of this model in LiteLLM's model_prices_and_context_window.json, tried in order. */
  litellm?: string[];
}

export interface PriceFile {
  schemaVersion: number;
  /** Version of the price data (a date), shown in the panel. */
  version: string;
  currency: 'USD';
  note?: string;
  models: ModelPrice[];
}

/** A per-1M-token price above this is taken for a typo (no hosted model is near it). */
export const MAX_PRICE_PER_M = 1000;

export class PriceFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      `${file}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
    );
    this.name = 'PriceFileError';
  }
}

/** Parses and validates a complete price file; throws PriceFileError naming what is wrong. */
export function parsePriceFile(text: string, file: string): PriceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PriceFileError(file, [`not valid JSON (${err instanceof Error ? err.message : String(err)})`]);
  }
  return validatePriceFile(raw, file);
}

export function validatePriceFile(raw: unknown, file: string): PriceFile {
  const problems: string[] = [];
  if (!isRecord(raw)) throw new PriceFileError(file, ['expected a JSON object with "schemaVersion" and "models"']);
  if (raw.schemaVersion !== PRICE_SCHEMA_VERSION) {
    problems.push(
      typeof raw.schemaVersion === 'number' && raw.schemaVersion > PRICE_SCHEMA_VERSION
        ? `schemaVersion ${raw.schemaVersion} is newer than this Glassbox reads (${PRICE_SCHEMA_VERSION})`
        : `"schemaVersion" should be ${PRICE_SCHEMA_VERSION}`,
    );
  }
  if (typeof raw.version !== 'string' || raw.version === '') problems.push('"version" should be a non-empty string');
  if (raw.currency !== 'USD') problems.push('"currency" should be "USD" (the only currency Glassbox prices in)');
  if (!Array.isArray(raw.models) || raw.models.length === 0) problems.push('"models" should be a non-empty array');
  const models: ModelPrice[] = [];
  const seen = new Set<string>();
  if (Array.isArray(raw.models)) {
    raw.models.forEach((m, i) => {
      const model = checkModel(m, `models[${i}]`, problems);
      if (!model) return;
      if (seen.has(model.id)) problems.push(`models[${i}]: id "${model.id}" appears twice`);
      seen.add(model.id);
      models.push(model);
    });
  }
  if (problems.length) throw new PriceFileError(file, problems);
  return {
    schemaVersion: PRICE_SCHEMA_VERSION,
    version: raw.version as string,
    currency: 'USD',
    note: typeof raw.note === 'string' ? raw.note : undefined,
    models,
  };
}

/**
 * Applies an override file: entries whose id is already known may give only the fields they
 * change; new ids must be complete models. Returns the merged list, validated.
 */
export function applyOverride(base: PriceFile, overrideText: string, file: string): PriceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(overrideText);
  } catch (err) {
    throw new PriceFileError(file, [`not valid JSON (${err instanceof Error ? err.message : String(err)})`]);
  }
  if (!isRecord(raw) || !Array.isArray(raw.models))
    throw new PriceFileError(file, ['expected a JSON object with a "models" array']);
  const byId = new Map(base.models.map((m) => [m.id, m]));
  const problems: string[] = [];
  raw.models.forEach((m, i) => {
    if (!isRecord(m) || typeof m.id !== 'string' || m.id === '') {
      problems.push(`models[${i}]: needs an "id"`);
      return;
    }
    const known = byId.get(m.id);
    const merged = known
      ? { ...known, ...m, source: isRecord(m.source) ? m.source : { ...known.source, note: `overridden in ${file}` } }
      : m;
    const model = checkModel(merged, `models[${i}] (${m.id})`, problems);
    if (model) byId.set(model.id, model);
  });
  if (problems.length) throw new PriceFileError(file, problems);
  return {
    ...base,
    version: typeof raw.version === 'string' ? `${base.version} + ${raw.version}` : `${base.version} + override`,
    models: [...byId.values()],
  };
}

function checkModel(m: unknown, where: string, problems: string[]): ModelPrice | undefined {
  if (!isRecord(m)) {
    problems.push(`${where}: expected an object`);
    return undefined;
  }
  const at = typeof m.id === 'string' && m.id ? `${where} (${m.id})` : where;
  const before = problems.length;
  const str = (k: string) => {
    if (typeof m[k] !== 'string' || m[k] === '') problems.push(`${at}: missing "${k}" (a string)`);
    return m[k] as string;
  };
  const price = (k: string, v: unknown = m[k], optional = false): number | undefined => {
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_PRICE_PER_M) {
      problems.push(
        `${at}: ${v === undefined ? 'missing' : 'bad'} "${k}" (USD per 1M tokens, 0 to ${MAX_PRICE_PER_M})`,
      );
    }
    return v as number;
  };
  const id = str('id');
  const name = str('name');
  const vendor = str('vendor');
  const inputPerM = price('inputPerM')!;
  const outputPerM = price('outputPerM')!;
  const cachedInputPerM = price('cachedInputPerM', m.cachedInputPerM, true);
  if (typeof m.contextWindow !== 'number' || !Number.isInteger(m.contextWindow) || m.contextWindow <= 0)
    problems.push(`${at}: missing "contextWindow" (tokens, a positive integer)`);
  const tokenizer = m.tokenizer ?? 'estimate';
  if (tokenizer !== 'o200k_base' && tokenizer !== 'cl100k_base' && tokenizer !== 'estimate')
    problems.push(`${at}: "tokenizer" should be o200k_base, cl100k_base or estimate`);
  const source = checkProvenance(m.source, `${at}.source`, problems);
  const tiers: PriceTier[] = [];
  if (m.tiers !== undefined) {
    if (!Array.isArray(m.tiers)) problems.push(`${at}: "tiers" should be an array`);
    else
      m.tiers.forEach((t, i) => {
        if (!isRecord(t) || typeof t.aboveInputTokens !== 'number' || !(t.aboveInputTokens > 0)) {
          problems.push(`${at}.tiers[${i}]: needs "aboveInputTokens" (a positive number of prompt tokens)`);
          return;
        }
        tiers.push({
          aboveInputTokens: t.aboveInputTokens,
          inputPerM: price(`tiers[${i}].inputPerM`, t.inputPerM)!,
          outputPerM: price(`tiers[${i}].outputPerM`, t.outputPerM)!,
          cachedInputPerM: price(`tiers[${i}].cachedInputPerM`, t.cachedInputPerM, true),
        });
      });
  }
  let latency: HostedLatency | undefined;
  if (m.latency !== undefined) {
    const l = m.latency;
    if (
      !isRecord(l) ||
      typeof l.ttftMs !== 'number' ||
      !(l.ttftMs > 0) ||
      (l.outputTokensPerSec !== undefined && !(typeof l.outputTokensPerSec === 'number' && l.outputTokensPerSec > 0))
    ) {
      problems.push(`${at}: "latency" needs "ttftMs" (> 0) and optionally "outputTokensPerSec" (> 0)`);
    } else {
      const src = checkProvenance(l.source, `${at}.latency.source`, problems);
      latency = { ttftMs: l.ttftMs, outputTokensPerSec: l.outputTokensPerSec as number | undefined, source: src! };
    }
  }
  const litellm = Array.isArray(m.litellm) ? m.litellm.filter((k): k is string => typeof k === 'string') : undefined;
  if (problems.length > before) return undefined;
  return {
    id,
    name,
    vendor,
    inputPerM,
    outputPerM,
    cachedInputPerM,
    tiers: tiers.length ? tiers.sort((a, b) => a.aboveInputTokens - b.aboveInputTokens) : undefined,
    contextWindow: m.contextWindow as number,
    tokenizer: tokenizer as TokenCounting,
    latency,
    source: source!,
    litellm,
  };
}

function checkProvenance(s: unknown, where: string, problems: string[]): Provenance | undefined {
  if (
    !isRecord(s) ||
    typeof s.url !== 'string' ||
    !/^https?:\/\//.test(s.url) ||
    typeof s.date !== 'string' ||
    !/^\d{4}-\d{2}(-\d{2})?$/.test(s.date) ||
    typeof s.verified !== 'boolean'
  ) {
    problems.push(`${where}: needs "url" (http or https), "date" (YYYY-MM or YYYY-MM-DD) and "verified" (true/false)`);
    return undefined;
  }
  return { url: s.url, date: s.date, verified: s.verified, note: typeof s.note === 'string' ? s.note : undefined };
}
