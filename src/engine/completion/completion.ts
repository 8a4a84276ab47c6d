/**
 * One code completion, from cursor to the text worth showing: the prompt (repository snippets,
 * path, FIM with token healing), copy-aware greedy decoding, the editor's shaping, the guards,
 * the confidence gate, and each token's provenance (model or cache, and the copied line).
 */
import { completionRule, isMultilineSpot, trimAgainstSuffix } from './completionText';
import type { ContextSnippet } from '../context/snippetIndex';
import { CopyCache, spaceInsensitiveIds, type CopyCacheTable } from '../generation/copyCache';
import { copyLine } from './copyLine';
import type { DecoderModel } from '../runtime/decoder';
import { GlassboxError } from '../errors';
import type { FimFamily, FimTemplate } from './fim';
import { buildFimPrompt, sourceOfPromptToken, type FimPrompt, type PromptSegment } from './fimPrompt';
import { generate, type GenerateOptions, type GenerationResult } from '../generation/generate';
import {
  confidenceOf,
  declarationInExpressionCut,
  lineLengthCut,
  onlyRetypesSuffix,
  type Confidence,
} from '../generation/guards';
import { judgeLine, shapeLine } from './judgedLine';
import type { LineCandidate } from './lineCandidates';
import type { HeldLine, JudgeWeights, WeighedCandidate } from './lineJudge';
import { isGreedy } from '../generation/sampling';
import { StageClock } from '../runtime/stageClock';
import { vocabularyTexts } from '../generation/tokenChoice';
import type { TextTokenizer } from '../runtime/tokenizer';

export type RequestOptions = Omit<
  GenerateOptions,
  'maxNewTokens' | 'copyCache' | 'healText' | 'healIds' | 'repetitionGuard' | 'clock'
> & {
  maxNewTokens?: number;
};

export interface CompletionRequest extends RequestOptions {
  prefix: string;
  suffix: string;
  /** Most prompt tokens (default: what the context leaves after maxNewTokens). */
  budgetTokens?: number;
  prefixShare?: number;
  /** Default: multi-line at a blank line or after a block opener with nothing right of the cursor (isMultilineSpot). */
  multiline?: boolean;
  /** Line/block stopping and suffix trimming (default true; benchmarks turn it off for fixed lengths). */
  shaping?: boolean;
  /** The file's workspace-relative path, shown to the model before its text. */
  path?: string;
  /** 0-based line of the prefix's first character in the file (for provenance). */
  startLine?: number;
  /** Repository snippets, most relevant last (context/snippetIndex.ts). */
  snippets?: ContextSnippet[];
  /** Most of the budget the snippets may take. */
  contextShare?: number;
  /** Excerpts the copy cache may copy from besides the prompt (context/copySources.ts); never in the prompt. */
  copySources?: ContextSnippet[];
  /** Copy-aware decoding: the copy cache mixed into greedy decoding (default true). */
  copy?: boolean;
  /**
   * A one-line suggestion is the line the copy cache's best match goes on with, where it has one
   * (copyLine.ts; default true); else, and for false, greedy decoding of the mixture.
   */
  copyLine?: boolean;
  /**
   * A one-line suggestion is the line the model judges best among its own and the lines copying
   * gives (lineCandidates.ts, lineJudge.ts; default true; greedy, with the copy cache).
   */
  judge?: boolean;
  /** The judge's weights (default: DEFAULT_JUDGE, fitted on the valid split). */
  judgeWeights?: JudgeWeights;
  /**
   * Score every candidate, also those that could not win (default false: the judge leaves them
   * unscored). The same line is chosen; bench/fitJudge.ts needs every candidate's features.
   */
  judgeAll?: boolean;
  /** Token healing of the prefix's last token (default true). */
  heal?: boolean;
  /** The repetition, line-length and retype guards (default true). */
  guards?: boolean;
  /** Hide a suggestion when any of its tokens is less likely than this (default 0: show all). */
  minConfidence?: number;
  /** End the suggestion before its first token less likely than this (default 0: never). */
  cutBelow?: number;
  /**
   * Keep each generated token's record (id, logprob, alternatives, source) in `steps` (default
   * true; false leaves it empty). The editor reads the text, provenance and confidence only, and
   * the records were most of a reply's structured clone between the threads.
   */
  steps?: boolean;
}

/** Where one token of a suggestion came from. */
export interface TokenProvenance {
  /** Index of the token in the result's `tokens` (the first ones may only re-type the healed text, and have no entry). */
  token: number;
  text: string;
  kind: 'model' | 'cache';
  /** The cache's weight λ at this step. */
  weight: number;
  /** Probability under the distribution that chose it. */
  p: number;
  /** For copies: the file and 0-based line of the copied token ('output' when it repeats the suggestion itself). */
  source?: { kind: 'snippet' | 'suffix' | 'prefix' | 'excerpt' | 'output'; path?: string; line?: number };
}

/** `text` is what to show; `tokens` and `steps` are what the model generated. */
export interface CompletionResult extends GenerationResult {
  fimFamily: FimFamily;
  /** The prompt the model saw, decoded from its ids (special tokens included): for hosted-API token counts. */
  promptText: string;
  prompt: {
    tokens: number;
    prefixTokens: number;
    suffixTokens: number;
    contextTokens: number;
    snippets: number;
    cutPrefix: number;
    cutSuffix: number;
    healed: string;
  };
  /** One entry per generated token that is part of the shown text. */
  provenance: TokenProvenance[];
  confidence: Confidence;
  /** The candidate lines the judge scored, best first (one-line suggestions with the copy cache). */
  candidates?: WeighedCandidate[] | LineCandidate[];
  /** Set when a guard or the confidence gate hid the suggestion: why, and what was hidden. */
  hidden?: { reason: 'confidence' | 'retype' | 'line_length' | 'declaration'; text: string };
}

const DEFAULT_COMPLETION_TOKENS = 64;
export { DEFAULT_MIN_CONFIDENCE } from '../generation/guards';

/** Runs one completion on `model` (the caller serializes requests: they share the KV cache). */
export async function complete(
  model: DecoderModel,
  fim: FimTemplate,
  copyTable: CopyCacheTable,
  req: CompletionRequest,
): Promise<CompletionResult> {
  const maxNewTokens = req.maxNewTokens ?? DEFAULT_COMPLETION_TOKENS;
  const budget = Math.min(req.budgetTokens ?? Infinity, model.contextLength - maxNewTokens);
  if (budget < 8)
    throw new GlassboxError(
      'PROMPT_TOO_LONG',
      `maxNewTokens ${maxNewTokens} leaves no room for a prompt in a context of ${model.contextLength}.`,
    );
  const tokenizer = model.tokenizer;
  const clock = new StageClock();
  const t0 = performance.now();
  const encoded = tokenizer.encodeMs;
  const prompt = buildFimPrompt(tokenizer, fim, {
    prefix: req.prefix,
    suffix: req.suffix,
    budgetTokens: budget,
    prefixShare: req.prefixShare,
    path: req.path,
    startLine: req.startLine,
    snippets: req.snippets,
    contextShare: req.contextShare,
    heal: req.heal ?? true,
  });
  clock.add('tokenize', tokenizer.encodeMs - encoded);
  clock.add('prompt', performance.now() - t0 - (tokenizer.encodeMs - encoded));
  const base = {
    fimFamily: prompt.family,
    promptText: clock.time('shaping', () => tokenizer.decodePrompt(prompt.ids)),
    prompt: {
      tokens: prompt.ids.length,
      prefixTokens: prompt.prefixTokens,
      suffixTokens: prompt.suffixTokens,
      contextTokens: prompt.contextTokens,
      snippets: prompt.snippetsUsed,
      cutPrefix: prompt.cutPrefix,
      cutSuffix: prompt.cutSuffix,
      healed: prompt.healText,
    },
  };
  if (prompt.ids.length === 0) return { ...base, ...emptyResult() }; // empty file, no FIM: nothing to continue
  const stopTokenIds = req.stopTokenIds ?? [...new Set([...model.eosTokenIds, ...prompt.stopTokenIds])];
  const linePrefix = req.prefix.slice(req.prefix.lastIndexOf('\n') + 1);
  const shaping = req.shaping ?? true;
  const guards = req.guards ?? true;
  const shape = {
    linePrefix,
    multiline: req.multiline ?? isMultilineSpot(linePrefix, req.suffix),
    restOfLine: req.suffix.split('\n', 1)[0],
  };
  const textRules = [...(shaping ? [completionRule(shape)] : []), ...(req.textRules ?? [])];
  const t1 = performance.now();
  const encodedBefore = tokenizer.encodeMs;
  const sources = req.copy === false ? null : copySequence(model, req.copySources ?? []);
  const copyCache = sources ? copyCacheFor(model, copyTable, [...sources.ids, ...prompt.ids]) : undefined;
  clock.add('tokenize', tokenizer.encodeMs - encodedBefore);
  clock.add('copy_cache', performance.now() - t1 - (tokenizer.encodeMs - encodedBefore));
  const greedy = isGreedy(req.temperature);
  const oneLine = copyCache && sources && greedy && !shape.multiline && (req.copyLine ?? true);
  let held: HeldLine | undefined;
  const copied = oneLine
    ? await copyLine({
        model,
        copy: copyCache,
        base: sources.ids.length + prompt.ids.length,
        prompt: prompt.ids,
        healText: prompt.healText,
        maxTokens: maxNewTokens,
        stopStrings: req.stopStrings ?? [],
        textRules,
        clock,
        reuseCache: req.reuseCache,
        signal: req.signal,
        onHeld: (line) => (held = line),
      })
    : null;
  const produced =
    copied ??
    (await generate(model, prompt.ids, {
      ...req,
      // the alternatives are only ever read from the records (the step list, the stream)
      topAlternatives: req.steps === false && !req.onToken ? 0 : req.topAlternatives,
      clock,
      maxNewTokens,
      stopTokenIds,
      textRules,
      copyCache,
      healText: prompt.healText,
      healIds: prompt.healIds,
      repetitionGuard: guards,
    }));
  // in a multi-line spot the first line is judged: a copied line that wins is shown alone
  const judging = copyCache && sources && greedy && (req.judge ?? true);
  const judged = judging
    ? await judgeLine({
        produced,
        prefix: req.prefix,
        suffix: req.suffix,
        sources: [...(req.copySources ?? []), ...(req.snippets ?? [])],
        shape: (t) => shapeLine(t, req.stopStrings ?? [], textRules),
        weights: req.judgeWeights,
        all: req.judgeAll,
        input: {
          model,
          copy: copyCache,
          base: sources.ids.length + prompt.ids.length,
          prompt: prompt.ids,
          healText: prompt.healText,
          clock,
          reuseCache: req.reuseCache,
          signal: req.signal,
          held,
        },
      })
    : null;
  const result = judged?.result ?? produced;
  const shapingStart = performance.now();
  // U+FFFD here means the model produced bytes that are not UTF-8: never insert that into code.
  let text = result.text.replaceAll('\uFFFD', '');
  if (shaping) text = trimAgainstSuffix(text, req.suffix);
  let hidden: CompletionResult['hidden'];
  if (guards) {
    const cut = lineLengthCut(text, linePrefix);
    if (cut >= 0) [text, hidden] = [text.slice(0, cut), cut === 0 ? { reason: 'line_length', text } : undefined];
    const header = declarationInExpressionCut(text, linePrefix);
    if (header >= 0)
      [text, hidden] = [text.slice(0, header), header === 0 ? { reason: 'declaration', text } : undefined];
    if (onlyRetypesSuffix(text, req.suffix)) [text, hidden] = ['', { reason: 'retype', text }];
  }
  const traced = provenanceOf(model, prompt, sources, result, text.length);
  const ends = traced.ends;
  let provenance = traced.provenance;
  if (req.cutBelow && text) {
    // what follows the first unsure token is a guess built on a guess
    const first = provenance.findIndex((t) => t.p < req.cutBelow!);
    if (first >= 0)
      [text, provenance] = [
        text.slice(0, first > 0 ? ends[first - 1] : 0).replace(/\s+$/, ''),
        provenance.slice(0, first),
      ];
  }
  const confidence = confidenceOf(provenance.map((t) => t.p));
  // the least likely token, not the mean: a confident tail (a copy) cannot vouch for an unsure start
  if (text && req.minConfidence && confidence.min < req.minConfidence)
    [text, hidden] = ['', { reason: 'confidence', text }];
  clock.add('shaping', performance.now() - shapingStart);
  const steps = req.steps === false ? [] : result.steps;
  return {
    ...base,
    ...result,
    steps,
    text,
    provenance,
    confidence,
    ...(judged ? { candidates: judged.candidates } : {}),
    ...(hidden ? { hidden } : {}),
  };
}

const COPY_CACHES = new WeakMap<DecoderModel, { table: CopyCacheTable; cache: CopyCache }>();

/**
 * The model's copy cache over `sequence`: the previous request's cache cut back to the prefix the
 * two share and the rest pushed (a keystroke changes a few tokens at the end of a 1,000-token
 * sequence), or a new one.
 */
function copyCacheFor(model: DecoderModel, table: CopyCacheTable, sequence: readonly number[]): CopyCache {
  let kept = COPY_CACHES.get(model);
  if (kept?.table !== table) {
    const tokenizer = model.tokenizer;
    kept = { table, cache: new CopyCache([], tokenizer.specialIds, table, matchIdsOf(tokenizer)) };
    COPY_CACHES.set(model, kept);
  }
  const cache = kept.cache;
  const old = cache.tokens;
  let shared = 0;
  while (shared < old.length && shared < sequence.length && old[shared] === sequence[shared]) shared++;
  cache.truncate(shared);
  for (let i = shared; i < sequence.length; i++) cache.push(sequence[i]);
  return cache;
}

const MATCH_IDS = new WeakMap<TextTokenizer, Int32Array>();

/** The copy cache's space-insensitive ids for this tokenizer, computed once. */
export function matchIdsOf(tokenizer: TextTokenizer): Int32Array {
  let ids = MATCH_IDS.get(tokenizer);
  if (!ids) MATCH_IDS.set(tokenizer, (ids = spaceInsensitiveIds(vocabularyTexts(tokenizer))));
  return ids;
}

/** The copy sources as the copy cache reads them before the prompt: one token sequence, and where each came from. */
export interface CopySequence {
  ids: number[];
  segments: PromptSegment[];
}

/**
 * The copy sources as one token sequence (each after a separator the cache never proposes) and
 * where each came from; the dependence ranking (dependence/) rebuilds the same cache from it.
 */
export function copySequence(
  model: Pick<DecoderModel, 'eosTokenIds' | 'tokenizer'>,
  sources: readonly ContextSnippet[],
): CopySequence {
  const ids: number[] = [];
  const segments: PromptSegment[] = [];
  const separator = model.eosTokenIds[0] ?? 0;
  for (const s of sources) {
    ids.push(separator);
    const body = model.tokenizer.encodeText(s.text);
    segments.push({
      kind: 'snippet',
      start: ids.length,
      end: ids.length + body.length,
      path: s.path,
      line: s.startLine,
    });
    for (const id of body) ids.push(id); // not push(...body): a huge body overflows the call stack
  }
  return { ids, segments };
}

/**
 * Provenance of the generated tokens whose text is within the first `shown` characters of the
 * output, and where each one's text ends in it.
 */
function provenanceOf(
  model: DecoderModel,
  prompt: FimPrompt,
  sources: CopySequence | null,
  result: GenerationResult,
  shown: number,
): { provenance: TokenProvenance[]; ends: number[] } {
  const out: TokenProvenance[] = [];
  const ends: number[] = [];
  const offset = sources?.ids.length ?? 0; // the cache's sequence is sources, then the prompt, then the output
  let at = -prompt.healText.length; // the healed text is generated again but not shown
  for (const [token, step] of result.steps.entries()) {
    if (at >= shown) break;
    const text = model.tokenizer.tokenText(step.id);
    at += text.length;
    if (at <= 0) continue; // all of it re-types what the user typed: not the model's suggestion
    const s = step.source;
    const entry: TokenProvenance = {
      token,
      text,
      kind: s?.kind ?? 'model',
      weight: s?.weight ?? 0,
      p: s?.p ?? Math.exp(step.logprob),
    };
    if (s?.from !== undefined) entry.source = sourceOf(model, prompt, sources, s.from - offset);
    out.push(entry);
    ends.push(Math.min(at, shown));
  }
  return { provenance: out, ends };
}

/** Where the cache's sequence position `at` (relative to the prompt's start) came from. */
function sourceOf(
  model: DecoderModel,
  prompt: FimPrompt,
  sources: { ids: number[]; segments: PromptSegment[] } | null,
  at: number,
): TokenProvenance['source'] {
  if (at >= prompt.ids.length) return { kind: 'output' };
  const found =
    at >= 0
      ? sourceOfPromptToken(model.tokenizer, prompt, at)
      : sources
        ? sourceOfPromptToken(model.tokenizer, sources, at + sources.ids.length)
        : undefined;
  if (!found) return undefined;
  return { kind: at >= 0 ? found.kind : 'excerpt', path: found.path, line: found.line };
}

function emptyResult(): GenerationResult & { provenance: TokenProvenance[]; confidence: Confidence } {
  return {
    text: '',
    tokens: [],
    logprobs: [],
    steps: [],
    stopReason: 'max_tokens',
    timings: { prefillMs: 0, decodeMs: 0, promptTokens: 0, reusedTokens: 0, generatedTokens: 0, stages: {} },
    provenance: [],
    confidence: confidenceOf([]),
  };
}
