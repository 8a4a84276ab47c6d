/**
 * The completion prompt: repository snippets, then the file's path, then the fill-in-the-middle
 * part in the model's own format. Assembled from token ids (special-token text is never pasted
 * into the document) and cut to a token budget:
 *
 *   <|file_sep|>src/util.ts\n{snippet}…<|file_sep|>src/app.ts\n<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}
 *
 * (Glassbox's SPM order; PSM families put the prefix before the suffix.) Snippets and the path
 * need a file-separator token, as StarCoder2 and Qwen2.5-Coder were trained with; other families
 * get the FIM part alone. The snippets take at most a share of the budget; the prefix loses its
 * start (in steps, so the start stays put while the user types), the suffix its end. Everything
 * a keystroke at the cursor does not change comes first, so the KV cache of the previous request
 * covers all but the last few tokens.
 */
import type { ContextSnippet } from '../context/snippetIndex';
import type { FimFamily, FimTemplate } from './fim';
import type { TextTokenizer } from '../runtime/tokenizer';

/** Prefix tokens are dropped from the left in multiples of this. */
export const PREFIX_CUT_STEP = 64;
/** Default share of the budget the snippets may take. */
export const DEFAULT_CONTEXT_SHARE = 0.35;

interface FimRequest {
  prefix: string;
  suffix: string;
  /** Most prompt tokens, special tokens included. */
  budgetTokens: number;
  /** Share of the FIM part's budget for the prefix when both sides are long (default 0.85). */
  prefixShare?: number;
  /** The file's path (workspace-relative, `/`), shown before its text. */
  path?: string;
  /** 0-based line of the prefix's first character in the file (for provenance). */
  startLine?: number;
  /** Repository snippets, most relevant last. */
  snippets?: readonly ContextSnippet[];
  /** Most of the budget the snippets may take (default DEFAULT_CONTEXT_SHARE). */
  contextShare?: number;
  /**
   * Token healing: leave the tokens of the prefix's last word (or punctuation or space run) out of
   * the prompt and return their text, which the completion must then start with. "formatDu" is not
   * how "formatDuration" is tokenized, so a model (or a copy cache) that sees it has to continue
   * from an unnatural cut; backed off to where pre-tokenization starts a piece, the prompt ends
   * where the original text's tokens did too.
   */
  heal?: boolean;
}

/** A run of prompt tokens and where its text comes from. */
export interface PromptSegment {
  kind: 'snippet' | 'suffix' | 'prefix';
  /** Token index range [start, end) in the prompt. */
  start: number;
  end: number;
  path?: string;
  /** 0-based line of the segment's first character in its file, when known. */
  line?: number;
}

export interface FimPrompt {
  ids: number[];
  family: FimFamily;
  prefixTokens: number;
  suffixTokens: number;
  /** Tokens of snippets and path headers. */
  contextTokens: number;
  snippetsUsed: number;
  /** Tokens cut from the start of the prefix and the end of the suffix to fit the budget. */
  cutPrefix: number;
  cutSuffix: number;
  stopTokenIds: number[];
  segments: PromptSegment[];
  /** Text taken off the end of the prefix by token healing ('' when none). */
  healText: string;
  /** The tokens that text was in the prompt (what decoding it again would naturally start with). */
  healIds: number[];
}

/** Builds the completion prompt for a cursor position within a token budget. */
export function buildFimPrompt(tokenizer: TextTokenizer, template: FimTemplate, req: FimRequest): FimPrompt {
  const hasFim = template.family !== 'none';
  const fileSep = hasFim ? template.fileSep : undefined;
  const specials = hasFim ? 3 + (template.bos !== undefined ? 1 : 0) : 0;
  const segments: PromptSegment[] = [];

  // Repository part: snippets (from the most relevant down, while they fit), then the file's header.
  const header = fileSep !== undefined && req.path ? [fileSep, ...tokenizer.encodeText(`${req.path}\n`)] : [];
  const contextBudget = Math.floor(req.budgetTokens * (req.contextShare ?? DEFAULT_CONTEXT_SHARE));
  const blocks: { ids: number[]; text: number; snippet: ContextSnippet }[] = [];
  let contextTokens = 0;
  if (fileSep !== undefined && req.snippets?.length) {
    for (let i = req.snippets.length - 1; i >= 0; i--) {
      const s = req.snippets[i];
      const head = [fileSep, ...tokenizer.encodeText(`${s.path}\n`)];
      const body = tokenizer.encodeText(s.text);
      if (contextTokens + head.length + body.length > contextBudget) continue;
      contextTokens += head.length + body.length;
      blocks.unshift({ ids: [...head, ...body], text: head.length, snippet: s });
    }
  }
  const budget = Math.max(1, req.budgetTokens - specials - contextTokens - header.length);

  let prefixIds = tokenizer.encodeText(req.prefix);
  let healText = '';
  let healIds: number[] = [];
  if (req.heal) {
    const healed = healTail(tokenizer, prefixIds, req.prefix, hasFim ? 0 : 1);
    [healIds, prefixIds, healText] = [prefixIds.slice(healed.ids.length), healed.ids, healed.text];
  }
  const suffixIds = hasFim ? tokenizer.encodeText(req.suffix) : [];
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

  const ids: number[] = [];
  for (const b of blocks) {
    segments.push({
      kind: 'snippet',
      start: ids.length + b.text,
      end: ids.length + b.ids.length,
      path: b.snippet.path,
      line: b.snippet.startLine,
    });
    ids.push(...b.ids);
  }
  ids.push(...header);
  const cutIds = prefixIds.slice(0, prefixIds.length - keepPrefix);
  const prefixLine =
    req.startLine === undefined
      ? undefined
      : req.startLine + cutIds.reduce((n, id) => n + countNewlines(tokenizer.tokenText(id)), 0); // see newlinesBefore
  const suffixLine = req.startLine === undefined ? undefined : req.startLine + countNewlines(req.prefix);
  const pushPart = (kind: 'prefix' | 'suffix', part: number[]) => {
    segments.push({
      kind,
      start: ids.length,
      end: ids.length + part.length,
      path: req.path,
      line: kind === 'prefix' ? prefixLine : suffixLine,
    });
    ids.push(...part);
  };
  if (!hasFim) pushPart('prefix', p);
  else {
    if (template.bos !== undefined) ids.push(template.bos);
    if (template.order === 'spm') {
      ids.push(template.prefix!, template.suffix!);
      pushPart('suffix', s);
      ids.push(template.middle!);
      pushPart('prefix', p);
    } else {
      ids.push(template.prefix!);
      pushPart('prefix', p);
      ids.push(template.suffix!);
      pushPart('suffix', s);
      ids.push(template.middle!);
    }
  }
  return {
    ids,
    family: template.family,
    prefixTokens: p.length,
    suffixTokens: s.length,
    contextTokens: contextTokens + header.length,
    snippetsUsed: blocks.length,
    cutPrefix: prefixIds.length - keepPrefix,
    cutSuffix: suffixIds.length - keepSuffix,
    stopTokenIds: template.stopTokenIds,
    segments,
    healText,
    healIds,
  };
}

/** The trailing piece pre-tokenizers keep whole: a word with one leading space, a punctuation run, or spaces. */
const TAIL_PIECE = / ?[A-Za-z0-9_$\u0080-\uffff]+$| ?[!-/:-@[-^`{-~]+$|[ \t]+$/;
/** Most tokens healing takes back (a long identifier being typed). */
const MAX_HEAL_TOKENS = 6;
/** How far back from the prefix's end the trailing piece is looked for. */
const HEAL_SCAN_CHARS = 512;

/** Takes the tokens covering the prefix's trailing piece off `ids`, keeping at least `keep`. */
function healTail(
  tokenizer: TextTokenizer,
  ids: number[],
  prefix: string,
  keep: number,
): { ids: number[]; text: string } {
  // the regex on the prefix's end only: on the whole ~6,000 characters it tries a match at each
  // (0.1 ms a request); MAX_HEAL_TOKENS tokens never reach this far back
  const want = TAIL_PIECE.exec(prefix.slice(-HEAL_SCAN_CHARS))?.[0].length ?? 0;
  let n = 0;
  let text = '';
  while (text.length < want && n < MAX_HEAL_TOKENS && ids.length - n > keep) {
    const id = ids[ids.length - 1 - n];
    if (tokenizer.specialIds.has(id)) break;
    const t = tokenizer.tokenText(id);
    if (t.includes('\uFFFD')) break;
    text = t + text;
    n++;
  }
  if (n === 0 || !prefix.endsWith(text)) return { ids, text: '' };
  return { ids: ids.slice(0, ids.length - n), text };
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** File and 0-based line of the prompt token at `index`, or undefined for special tokens and unknown lines. */
export function sourceOfPromptToken(
  tokenizer: TextTokenizer,
  prompt: Pick<FimPrompt, 'ids' | 'segments'>,
  index: number,
): { path?: string; line: number; kind: PromptSegment['kind'] } | undefined {
  const seg = prompt.segments.find((s) => index >= s.start && index < s.end);
  if (!seg || seg.line === undefined) return undefined;
  const before = newlinesBefore(tokenizer, prompt.ids);
  return { path: seg.path, line: seg.line + before[index] - before[seg.start], kind: seg.kind };
}

const NEWLINES_BEFORE = new WeakMap<readonly number[], Int32Array>();

/**
 * For each index i of `ids`, the line breaks in the text of ids[0..i), computed once per prompt: a
 * suggestion's provenance looks up every copied token. A line break is one byte in UTF-8 and no
 * tokenizer changes it by context, so each token's own text counts its line breaks exactly.
 */
function newlinesBefore(tokenizer: TextTokenizer, ids: readonly number[]): Int32Array {
  let counts = NEWLINES_BEFORE.get(ids);
  if (!counts) {
    counts = new Int32Array(ids.length + 1);
    for (let i = 0; i < ids.length; i++) counts[i + 1] = counts[i] + countNewlines(tokenizer.tokenText(ids[i]));
    NEWLINES_BEFORE.set(ids, counts);
  }
  return counts;
}
