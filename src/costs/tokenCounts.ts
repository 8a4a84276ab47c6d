/**
 * Token counts per vendor. OpenAI's are exact: gpt-tokenizer's o200k_base / cl100k_base run on
 * the same text the local model saw. Other vendors' tokenizers are not public (or not available
 * offline), so their counts are estimated from characters and flagged as estimates.
 */
import type { ModelPrice } from './priceFile';

type OpenAiEncoding = 'o200k_base' | 'cl100k_base';

/** What the ledger keeps about a text instead of the text itself. */
export interface TextCounts {
  chars: number;
  /** Exact counts; absent when they could not be computed in time (then estimated). */
  o200k?: number;
  cl100k?: number;
}

/**
 * Characters of code per o200k_base token, fitted by scripts/calibrate-chars-per-token.js on
 * prompt-sized windows (4,000 chars) of ~2,000 code files from this repository and node_modules
 * (.ts/.js/.py). On held-out files the estimate is off by a median 8% per prompt and 10% per
 * 200-char completion (p90: 27% and 30%); summed over many requests, by about 2%.
 */
export const CODE_CHARS_PER_TOKEN = 4.1;

/** The stated error of an estimate, for the UI. */
export const ESTIMATE_ERROR =
  'estimate: characters ÷ 4.1 (fitted on code against o200k_base). Per request typically ±8–10% (p90 ±30%), about ±2% summed over many requests; the vendor’s own tokenizer may differ further (not measurable offline).';

type Counter = (text: string) => number;
const counters = new Map<OpenAiEncoding, Counter>();

/** Exact OpenAI token count; special-token text such as <|fim_prefix|> counts as plain text. */
export function countOpenAi(text: string, encoding: OpenAiEncoding): number {
  let count = counters.get(encoding);
  if (!count) {
    // Loaded on first use: each encoding is megabytes of ranks (hence the separate worker bundle).
    const mod = (
      encoding === 'o200k_base'
        ? require('gpt-tokenizer/encoding/o200k_base')
        : require('gpt-tokenizer/encoding/cl100k_base')
    ) as {
      countTokens(text: string, opts?: { disallowedSpecial?: Set<string> }): number;
    };
    const plain = { disallowedSpecial: new Set<string>() };
    count = (t) => mod.countTokens(t, plain);
    counters.set(encoding, count);
  }
  return count(text);
}

/** Both exact counts, as stored in the ledger. */
export function countText(text: string): TextCounts {
  return { chars: text.length, o200k: countOpenAi(text, 'o200k_base'), cl100k: countOpenAi(text, 'cl100k_base') };
}

export function estimateTokens(chars: number): number {
  return Math.round(chars / CODE_CHARS_PER_TOKEN);
}

/** The count a model's vendor would bill for this text, and whether it is exact. */
export function tokensFor(
  model: Pick<ModelPrice, 'tokenizer'>,
  counts: TextCounts,
): { tokens: number; exact: boolean } {
  const exact =
    model.tokenizer === 'o200k_base' ? counts.o200k : model.tokenizer === 'cl100k_base' ? counts.cl100k : undefined;
  return exact !== undefined ? { tokens: exact, exact: true } : { tokens: estimateTokens(counts.chars), exact: false };
}
