/**
 * Fill-in-the-middle prompts. The template is chosen from the special tokens the model's
 * tokenizer has; a model without FIM tokens gets a prefix-only prompt. Prompts are assembled
 * from token ids (never by pasting special-token text into the document) and cut to a budget:
 * the prefix loses its start (in steps, so the start stays put while the user types), the
 * suffix its end.
 */
import type { TextTokenizer } from './tokenizer';

export type FimFamily = 'glassbox' | 'qwen' | 'starcoder' | 'deepseek' | 'codellama' | 'none';

/**
 * PSM: `<pre> prefix <suf> suffix <mid>`. SPM (Bavarian et al. 2022, the variant where prefix and
 * middle are contiguous): `<pre> <suf> suffix <mid> prefix`. With SPM a keystroke at the cursor
 * only changes the end of the prompt, so the KV cache keeps everything before it (the suffix
 * included); PSM re-runs the whole suffix on every keystroke. Only models trained on SPM get it.
 */
export type FimOrder = 'psm' | 'spm';

export interface FimTemplate {
  family: FimFamily;
  order: FimOrder;
  prefix?: number;
  suffix?: number;
  middle?: number;
  /** Prepended to the prompt (e.g. CodeLlama's BOS). */
  bos?: number;
  /** Tokens that end a completion for this family, besides the model's EOS. */
  stopTokenIds: number[];
}

interface FamilySpec {
  family: Exclude<FimFamily, 'none'>;
  tokens: [prefix: string, suffix: string, middle: string];
  /** A token only this family has, to tell families that share FIM token names apart. */
  marker?: string;
  order: FimOrder;
  stops: string[];
}

// Order matters: Glassbox and Qwen2.5-Coder share FIM token names; Glassbox has <|explain|>.
const FAMILIES: FamilySpec[] = [
  { family: 'glassbox', tokens: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'], marker: '<|explain|>', order: 'spm', stops: ['<|endoftext|>', '<|file_sep|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>'] },
  { family: 'qwen', order: 'psm', tokens: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'], stops: ['<|endoftext|>', '<|file_sep|>', '<|fim_pad|>', '<|repo_name|>', '<|im_end|>', '<|fim_prefix|>'] },
  { family: 'starcoder', order: 'psm', tokens: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'], stops: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_pad>'] },
  { family: 'deepseek', order: 'psm', tokens: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'], stops: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>'] },
  { family: 'codellama', order: 'psm', tokens: ['▁<PRE>', '▁<SUF>', '▁<MID>'], stops: ['▁<EOT>', '</s>'] },
];

/** Picks the FIM template the tokenizer's vocabulary supports. */
export function detectFimTemplate(tokenizer: TextTokenizer): FimTemplate {
  for (const spec of FAMILIES) {
    const [p, s, m] = spec.tokens.map((t) => tokenizer.tokenId(t));
    if (p === undefined || s === undefined || m === undefined) continue;
    if (spec.marker && tokenizer.tokenId(spec.marker) === undefined) continue;
    const bos = spec.family === 'codellama' && tokenizer.bosToken ? tokenizer.tokenId(tokenizer.bosToken) : undefined;
    return { family: spec.family, order: spec.order, prefix: p, suffix: s, middle: m, bos, stopTokenIds: idsOf(tokenizer, spec.stops) };
  }
  return { family: 'none', order: 'psm', stopTokenIds: [] };
}

function idsOf(tokenizer: TextTokenizer, tokens: string[]): number[] {
  return tokens.map((t) => tokenizer.tokenId(t)).filter((id): id is number => id !== undefined);
}

/** Prefix tokens are dropped from the left in multiples of this. */
export const PREFIX_CUT_STEP = 64;

export interface FimRequest {
  prefix: string;
  suffix: string;
  /** Most prompt tokens, special tokens included. */
  budgetTokens: number;
  /** Share of the budget for the prefix when both sides are long (default 0.85). */
  prefixShare?: number;
}

export interface FimPrompt {
  ids: number[];
  family: FimFamily;
  prefixTokens: number;
  suffixTokens: number;
  /** Tokens cut from the start of the prefix and the end of the suffix to fit the budget. */
  cutPrefix: number;
  cutSuffix: number;
  stopTokenIds: number[];
}

/** Builds the FIM (or prefix-only) prompt for a cursor position within a token budget. */
export function buildFimPrompt(tokenizer: TextTokenizer, template: FimTemplate, req: FimRequest): FimPrompt {
  const prefixIds = tokenizer.encode(req.prefix);
  const hasFim = template.family !== 'none';
  const suffixIds = hasFim ? tokenizer.encode(req.suffix) : [];
  const specials = hasFim ? 3 + (template.bos !== undefined ? 1 : 0) : 0;
  const budget = Math.max(1, req.budgetTokens - specials);
  // Split the budget; whichever side needs less than its share gives the rest to the other.
  let suffixBudget = hasFim ? Math.floor(budget * (1 - (req.prefixShare ?? 0.85))) : 0;
  suffixBudget = Math.max(suffixBudget, budget - prefixIds.length);
  const keepSuffix = Math.min(suffixIds.length, suffixBudget);
  let keepPrefix = Math.min(prefixIds.length, budget - keepSuffix);
  if (keepPrefix < prefixIds.length) {
    // Cut in steps of PREFIX_CUT_STEP tokens, so that typing at the cursor keeps the prompt's
    // start (and the KV cache of everything after it) for the next 64 tokens of growth.
    const cut = Math.ceil((prefixIds.length - keepPrefix) / PREFIX_CUT_STEP) * PREFIX_CUT_STEP;
    keepPrefix = Math.max(0, prefixIds.length - cut);
  }
  const p = prefixIds.slice(prefixIds.length - keepPrefix);
  const s = suffixIds.slice(0, keepSuffix);
  const bos = template.bos !== undefined ? [template.bos] : [];
  const ids = !hasFim
    ? p
    : template.order === 'spm'
      ? [...bos, template.prefix!, template.suffix!, ...s, template.middle!, ...p]
      : [...bos, template.prefix!, ...p, template.suffix!, ...s, template.middle!];
  return {
    ids,
    family: template.family,
    prefixTokens: p.length,
    suffixTokens: s.length,
    cutPrefix: prefixIds.length - keepPrefix,
    cutSuffix: suffixIds.length - keepSuffix,
    stopTokenIds: template.stopTokenIds,
  };
}
