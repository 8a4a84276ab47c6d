/**
 * Fill-in-the-middle templates: which special tokens a model's tokenizer has decides its family
 * and layout (fimPrompt.ts assembles the prompt).
 */
import type { TextTokenizer } from '../runtime/tokenizer';

export type FimFamily = 'glassbox' | 'qwen' | 'starcoder' | 'deepseek' | 'codellama' | 'none';

/**
 * PSM: `<pre> prefix <suf> suffix <mid>`. SPM (Bavarian et al. 2022, the variant where prefix and
 * middle are contiguous): `<pre> <suf> suffix <mid> prefix`. With SPM a keystroke at the cursor
 * only changes the end of the prompt, so the KV cache keeps everything before it (the suffix
 * included); PSM re-runs the whole suffix on every keystroke. Only models trained on SPM get it.
 */
type FimOrder = 'psm' | 'spm';

export interface FimTemplate {
  family: FimFamily;
  order: FimOrder;
  prefix?: number;
  suffix?: number;
  middle?: number;
  /** Prepended to the prompt (e.g. CodeLlama's BOS). */
  bos?: number;
  /** The token that starts a file in repository-level prompts (`<|file_sep|>`), when the family has one. */
  fileSep?: number;
  /** Tokens that end a completion for this family, besides the model's EOS. */
  stopTokenIds: number[];
}

interface FamilySpec {
  family: Exclude<FimFamily, 'none'>;
  tokens: [prefix: string, suffix: string, middle: string];
  /** A token only this family has, to tell families that share FIM token names apart. */
  marker?: string;
  fileSep?: string;
  order: FimOrder;
  stops: string[];
}

// Order matters: Glassbox and Qwen2.5-Coder share FIM token names; Glassbox has <|explain|>.
const FAMILIES: FamilySpec[] = [
  {
    family: 'glassbox',
    tokens: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
    marker: '<|explain|>',
    fileSep: '<|file_sep|>',
    order: 'spm',
    stops: ['<|endoftext|>', '<|file_sep|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|fim_pad|>'],
  },
  {
    family: 'qwen',
    order: 'psm',
    fileSep: '<|file_sep|>',
    tokens: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
    stops: ['<|endoftext|>', '<|file_sep|>', '<|fim_pad|>', '<|repo_name|>', '<|im_end|>', '<|fim_prefix|>'],
  },
  {
    family: 'starcoder',
    order: 'psm',
    fileSep: '<file_sep>',
    tokens: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
    stops: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_pad>'],
  },
  {
    family: 'deepseek',
    order: 'psm',
    tokens: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
    stops: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>'],
  },
  { family: 'codellama', order: 'psm', tokens: ['▁<PRE>', '▁<SUF>', '▁<MID>'], stops: ['▁<EOT>', '</s>'] },
];

/** Picks the FIM template the tokenizer's vocabulary supports. */
export function detectFimTemplate(tokenizer: TextTokenizer): FimTemplate {
  for (const spec of FAMILIES) {
    const [p, s, m] = spec.tokens.map((t) => tokenizer.tokenId(t));
    if (p === undefined || s === undefined || m === undefined) continue;
    if (spec.marker && tokenizer.tokenId(spec.marker) === undefined) continue;
    const bos = spec.family === 'codellama' && tokenizer.bosToken ? tokenizer.tokenId(tokenizer.bosToken) : undefined;
    const fileSep = spec.fileSep ? tokenizer.tokenId(spec.fileSep) : undefined;
    return {
      family: spec.family,
      order: spec.order,
      prefix: p,
      suffix: s,
      middle: m,
      bos,
      fileSep,
      stopTokenIds: idsOf(tokenizer, spec.stops),
    };
  }
  return { family: 'none', order: 'psm', stopTokenIds: [] };
}

function idsOf(tokenizer: TextTokenizer, tokens: string[]): number[] {
  return tokens.map((t) => tokenizer.tokenId(t)).filter((id): id is number => id !== undefined);
}

/**
 * A FIM prompt as text, for a model server that tokenizes special-token text itself (Ollama's
 * `raw`, an OpenAI-compatible server that ignores `suffix`): the family's tokens around prefix and
 * suffix. The family is the template's, or guessed from the model's name.
 */
export function rawFimPrompt(family: Exclude<FimFamily, 'none' | 'glassbox'>, prefix: string, suffix: string): string {
  const spec = FAMILIES.find((f) => f.family === family)!;
  const [p, s, m] = spec.tokens.map((t) => t.replace(/^▁/, ' '));
  if (family === 'codellama') return `<PRE> ${prefix} <SUF>${suffix} <MID>`;
  return spec.order === 'psm' ? `${p}${prefix}${s}${suffix}${m}` : `${p}${s}${suffix}${m}${prefix}`;
}

/** Stop strings that end a raw FIM completion of `family` (its special tokens as text). */
export function rawFimStops(family: Exclude<FimFamily, 'none' | 'glassbox'>): string[] {
  return FAMILIES.find((f) => f.family === family)!.stops.map((t) => t.replace(/^▁/, ''));
}

/** The FIM family a server's model name suggests ("qwen2.5-coder:7b", "bigcode/starcoder2-3b"), if any. */
export function fimFamilyOfModelName(name: string): Exclude<FimFamily, 'none' | 'glassbox'> | undefined {
  const n = name.toLowerCase();
  if (/qwen/.test(n)) return 'qwen';
  if (/starcoder|santacoder/.test(n)) return 'starcoder';
  if (/deepseek-?coder/.test(n)) return 'deepseek';
  if (/code-?llama/.test(n)) return 'codellama';
  return undefined;
}
