/**
 * "Update Prices": downloads LiteLLM's model_prices_and_context_window.json (MIT), only when the
 * user asks, and maps its entries onto the models in the bundled price file. Prices there are USD
 * per token; ours are per 1M. Entries for models we do not list are ignored, as are fields we do
 * not read. Anything wrong (URL, network, status, size, JSON, schema) throws a PriceUpdateError,
 * and the caller keeps the prices it had.
 */
import { readCapped } from '../net/capped';
import { CodedError } from '../net/codedError';
import { getFollowingRedirects, isSecureUrl } from '../net/get';
import type { NetOptions } from '../net/http';
import {
  MAX_PRICE_PER_M,
  isRecord,
  validatePriceFile,
  type ModelPrice,
  type PriceFile,
  type PriceTier,
} from './priceFile';

type UpdateFailure = 'url' | 'network' | 'http' | 'timeout' | 'cancelled' | 'size' | 'json' | 'schema';

export class PriceUpdateError extends CodedError<UpdateFailure> {
  override name = 'PriceUpdateError';
  /** What failed (the code). */
  get reason(): UpdateFailure {
    return this.code;
  }
}

export interface UpdateResult {
  prices: PriceFile;
  /** Model ids whose prices now come from the download. */
  updated: string[];
  /** Model ids LiteLLM has no entry for (bundled prices kept). */
  missing: string[];
  /** Entries that were present but malformed (bundled prices kept), with why. */
  skipped: string[];
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Proxy and TLS settings, as the model downloads use them. */
  net?: NetOptions;
  /** Whole download, ms. */
  timeoutMs?: number;
  maxBytes?: number;
  now?: Date;
}

/** Fewer entries with prices than this: not LiteLLM's file. */
const MIN_PRICED_ENTRIES = 10;

export function checkPricesUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PriceUpdateError('url', `"${url}" is not a URL.`);
  }
  if (isSecureUrl(u)) return u; // plain http only to this machine (tests, a local mirror)
  throw new PriceUpdateError('url', `Prices are downloaded over https only (got ${u.protocol}//${u.host}).`);
}

/** Downloads and maps LiteLLM's prices onto `base`; throws PriceUpdateError on any failure. */
export async function fetchLiteLlmPrices(url: string, base: PriceFile, opts: FetchOptions = {}): Promise<UpdateResult> {
  const target = checkPricesUrl(url);
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const insecure = () =>
    new PriceUpdateError(
      'url',
      'The price download was redirected to a plain http address; prices are downloaded over https only (glassbox.costs.pricesUrl).',
    );
  const failure = (err: unknown): PriceUpdateError => {
    if (opts.signal?.aborted) return new PriceUpdateError('cancelled', 'The price update was cancelled.');
    if (timeout.aborted)
      return new PriceUpdateError(
        'timeout',
        `No complete answer from ${target.host} within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s.`,
      );
    return new PriceUpdateError(
      'network',
      `Could not reach ${target.host}: ${err instanceof Error ? err.message : String(err)}.`,
    );
  };
  let text: string;
  try {
    // every redirect hop is checked again: https, and the configured host only
    const res = await getFollowingRedirects(target, {
      headers: { accept: 'application/json' },
      signal,
      net: opts.net,
      // the file's address is the user's choice, a redirect's is not
      allow: (to, from) => {
        if (!isSecureUrl(to)) throw insecure();
        if (!from || to.host === from.host) return;
        throw new PriceUpdateError(
          'url',
          `The price download at ${from.host} was redirected to ${to.host}; Glassbox follows redirects only within ${from.host}. Set glassbox.costs.pricesUrl to the file's final https:// address if you trust it.`,
        );
      },
      tooManyRedirects: () => new PriceUpdateError('http', `Too many redirects fetching ${target.href}.`),
      networkError: failure,
    });
    if (res.status !== 200) {
      res.body.resume();
      throw new PriceUpdateError(
        'http',
        `${target.host} answered HTTP ${res.status}${res.body.statusMessage ? ` ${res.body.statusMessage}` : ''} for ${target.pathname}.`,
      );
    }
    const length = Number(res.headers['content-length']);
    if (length > maxBytes) {
      res.body.destroy();
      throw new PriceUpdateError('size', `The price file is ${length} bytes, more than the ${maxBytes} allowed.`);
    }
    text = (
      await readCapped(
        res.body,
        maxBytes,
        () => new PriceUpdateError('size', `The price file is over ${maxBytes} bytes.`),
      )
    ).toString('utf8');
  } catch (err) {
    throw err instanceof PriceUpdateError ? err : failure(err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PriceUpdateError(
      'json',
      `The download is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
  return mapLiteLlm(raw, base, target.toString(), opts.now ?? new Date());
}

/** Maps LiteLLM entries onto `base`'s models; models without a usable entry keep their prices. */
function mapLiteLlm(raw: unknown, base: PriceFile, url: string, now: Date): UpdateResult {
  if (!isRecord(raw))
    throw new PriceUpdateError(
      'schema',
      "The download is not a JSON object of model entries, as LiteLLM's price file is.",
    );
  const priced = Object.values(raw).filter((v) => isRecord(v) && typeof v.input_cost_per_token === 'number').length;
  if (priced < MIN_PRICED_ENTRIES) {
    throw new PriceUpdateError(
      'schema',
      `The download does not look like LiteLLM's price file: ${priced} entries have a numeric "input_cost_per_token".`,
    );
  }
  const date = now.toISOString().slice(0, 10);
  const updated: string[] = [];
  const missing: string[] = [];
  const skipped: string[] = [];
  const models = base.models.map((m): ModelPrice => {
    const key = (m.litellm ?? []).find((k) => isRecord(raw[k]));
    if (!key) {
      missing.push(m.id);
      return m;
    }
    const e = raw[key] as Record<string, unknown>;
    const problems: string[] = [];
    const perM = (field: string, required: boolean): number | undefined => {
      const v = e[field];
      if (v === undefined || v === null) {
        if (required) problems.push(`no "${field}"`);
        return undefined;
      }
      const x = typeof v === 'number' ? v * 1e6 : NaN;
      if (!Number.isFinite(x) || x < 0 || x > MAX_PRICE_PER_M) {
        problems.push(`bad "${field}" (${JSON.stringify(v)})`);
        return undefined;
      }
      return Math.round(x * 1e6) / 1e6; // 2.5e-6 × 1e6 is not exactly 2.5 in floating point
    };
    const inputPerM = perM('input_cost_per_token', true);
    const outputPerM = perM('output_cost_per_token', true);
    const cachedInputPerM = perM('cache_read_input_token_cost', false);
    const tiers: PriceTier[] = [];
    for (const threshold of [128_000, 200_000]) {
      const k = threshold / 1000;
      const input = perM(`input_cost_per_token_above_${k}k_tokens`, false);
      const output = perM(`output_cost_per_token_above_${k}k_tokens`, false);
      if (input !== undefined && output !== undefined) {
        tiers.push({
          aboveInputTokens: threshold,
          inputPerM: input,
          outputPerM: output,
          cachedInputPerM: perM(`cache_read_input_token_cost_above_${k}k_tokens`, false),
        });
      }
    }
    if (problems.length || inputPerM === undefined || outputPerM === undefined) {
      skipped.push(`${m.id} (LiteLLM "${key}": ${problems.join(', ')})`);
      return m;
    }
    const window = [e.max_input_tokens, e.max_tokens].find(
      (v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0,
    );
    updated.push(m.id);
    const kept = [
      cachedInputPerM === undefined && m.cachedInputPerM !== undefined ? 'cached-input price' : '',
      !tiers.length && m.tiers ? 'long-context tiers' : '',
    ].filter(Boolean);
    return {
      ...m,
      inputPerM,
      outputPerM,
      cachedInputPerM: cachedInputPerM ?? m.cachedInputPerM,
      tiers: tiers.length ? tiers : m.tiers,
      contextWindow: window ?? m.contextWindow,
      source: {
        url,
        date,
        verified: true,
        note: `LiteLLM entry "${key}" (community-maintained, MIT), downloaded by "Glassbox: Update Prices".${kept.length ? ` ${kept.join(' and ')} from the bundled table.` : ''}`,
      },
    };
  });
  if (updated.length === 0)
    throw new PriceUpdateError(
      'schema',
      `None of the ${base.models.length} models Glassbox prices has a usable entry in the download.`,
    );
  const prices = validatePriceFile(
    {
      ...base,
      version: `LiteLLM ${date}`,
      note: `Prices of ${updated.length} models from ${url} on ${date}; the rest from the bundled table (${base.version}).`,
      models,
    },
    url,
  );
  return { prices, updated, missing, skipped };
}
