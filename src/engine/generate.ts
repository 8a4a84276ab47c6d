/**
 * Generation: prefill (reusing the cached prefix a previous request left), then one-token decode
 * steps on the KV cache, greedy or seeded sampling, stop tokens and strings, a token limit, a
 * wall-clock budget and cancellation between steps. Every token comes with its logprob and the
 * top alternatives.
 */
import type { DecoderModel, StepLogits } from './decoder';
import { SUMMARY_TOP_K } from './graph/logitsSummary';
import { GlassboxError, throwIfAborted } from './errors';
import {
  applyProcessors,
  argmax,
  isGreedy,
  logSumExp,
  repetitionPenalty,
  sampleFromLogits,
  seededRandom,
  temperature,
  topIndices,
  topK,
  topP,
  type LogitsProcessor,
} from './sampling';
import type { TextRule } from './completionText';
import type { CopyCache } from './copyCache';
import { RepetitionGuard } from './guards';
import { StageClock, type StageTimes } from './stageClock';
import { TextStopper } from './stopping';
import { chooseGreedy, HealingConstraint, vocabularyTexts, type AllowedIds, type TokenSource } from './tokenChoice';
import { IncrementalDecoder } from './tokenizer';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (the default) means greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** CTRL repetition penalty on already generated tokens (1, the default, is none); greedy too. */
  repetitionPenalty?: number;
  seed?: number;
  stopStrings?: readonly string[];
  /** Rules on the generated text that can end it (e.g. the end of a completion's block). */
  textRules?: readonly TextRule[];
  /** Defaults to the model's EOS ids. Pass [] to generate exactly maxNewTokens. */
  stopTokenIds?: readonly number[];
  /** Wall-clock budget for the whole request, ms. */
  timeBudgetMs?: number;
  /** Keep the cached prefix shared with the previous request (default true). */
  reuseCache?: boolean;
  /** How many alternatives to report per token (default 5). */
  topAlternatives?: number;
  signal?: AbortSignal;
  /** A copy cache over the prompt, mixed into the model's distribution (greedy decoding without a repetition penalty). */
  copyCache?: CopyCache;
  /** Token healing: the text the output must start with (the prompt's healed last token); left out of the result's text. */
  healText?: string;
  /** The healed text's tokens in the prompt: the constraint's natural first token, with no tokenizer call. */
  healIds?: readonly number[];
  /**
   * Speculative decoding with the copy cache's drafts: when a token was copied, the tokens that
   * followed its source run in the same step, and every one the mixture then chooses costs no
   * run of its own (default true; the output is the same either way).
   */
  speculate?: boolean;
  /** End the output before the third occurrence of any token trigram (guards.ts). */
  repetitionGuard?: boolean;
  /** Streams tokens as they come; their `text` fields joined are always a prefix of the result's text. */
  onToken?: (token: GeneratedToken) => void;
  /** Where the request's stage times go (a caller's clock, so its own stages land beside these). */
  clock?: StageClock;
}

interface TokenAlternative {
  id: number;
  text: string;
  logprob: number;
}

export interface GeneratedToken {
  id: number;
  /** Text this token made visible (can be empty while a UTF-8 sequence or stop string is pending). */
  text: string;
  /** log p(token) under the model's own distribution (temperature 1, no truncation). */
  logprob: number;
  top: TokenAlternative[];
  /** Which part of the decoder chose it, and how sure it was (greedy decoding). */
  source?: TokenSource;
}

/** `stop_string` covers stop strings and text rules; `repetition` is the repetition guard. */
export type StopReason = 'eos' | 'stop_string' | 'max_tokens' | 'time_budget' | 'context_full' | 'repetition';

interface GenerationTimings {
  prefillMs: number;
  decodeMs: number;
  promptTokens: number;
  /** Prompt tokens whose keys and values were kept from the previous request. */
  reusedTokens: number;
  generatedTokens: number;
  /** Milliseconds per stage of the request (stageClock.ts). */
  stages: StageTimes;
  /** Draft tokens run ahead (speculative decoding), and how many of them the output kept. */
  drafted?: number;
  draftsKept?: number;
  /** The output is a line the copy cache's match went on with, run once after the prompt (copyLine.ts). */
  copiedLine?: boolean;
  /** Candidate lines the model judged (lineJudge.ts); the output is the one it chose. */
  judged?: number;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  logprobs: number[];
  steps: GeneratedToken[];
  stopReason: StopReason;
  timings: GenerationTimings;
}

/**
 * Most draft tokens verified in one run. A run of 5 tokens on a 1,000-token cache cost about 1.5×
 * a 1-token step on a 2-core EPYC (bench/README.md); copies in code often go on for longer, but a
 * rejected draft's tail is work thrown away.
 */
const DRAFT_TOKENS = 4;

/** Prompt tokens per prefill run (a cancellation is noticed between runs). */
export const PREFILL_CHUNK = 512;

/** Length of the longest common prefix of two id lists. */
function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Sets every score outside `allowed` to -Infinity. */
function maskExcept(scores: Float32Array, allowed: AllowedIds): void {
  for (let i = 0; i < scores.length; i++) if (!allowed.has(i)) scores[i] = -Infinity;
}

function processorsFor(o: GenerateOptions, promptLength: number): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (o.repetitionPenalty && o.repetitionPenalty !== 1) list.push(repetitionPenalty(o.repetitionPenalty, promptLength));
  if (!isGreedy(o.temperature) && o.temperature !== 1) list.push(temperature(o.temperature!));
  if (o.topK) list.push(topK(o.topK));
  if (o.topP !== undefined && o.topP < 1) list.push(topP(o.topP));
  return list;
}

/**
 * Runs `prompt` on the model's KV cache, reusing the prefix the cache already holds (at least the
 * last token is run, for its logits), and returns the last position's logits. A long prefill runs
 * in chunks, so a cancelled request (the user typed on) frees the worker within one chunk instead
 * of after the whole prompt.
 */
export async function prefill(
  model: DecoderModel,
  prompt: readonly number[],
  o: { reuseCache?: boolean; signal?: AbortSignal; clock: StageClock; lean: boolean },
): Promise<{ step: StepLogits; reused: number }> {
  const cache = model.cache;
  const last = LAST_PREFILL.get(model);
  if (
    o.reuseCache !== false &&
    last &&
    (o.lean || !last.lean) &&
    last.prompt.length === prompt.length &&
    commonPrefixLength(last.prompt, prompt) === prompt.length &&
    commonPrefixLength(cache.tokens, prompt) === prompt.length
  ) {
    // the cache still holds this prompt (the line judge after the copied line or the decoded one)
    cache.truncate(prompt.length);
    return { step: last.step, reused: prompt.length };
  }
  const reused = o.clock.time('kv_match', () => {
    const n = o.reuseCache === false ? 0 : Math.min(commonPrefixLength(cache.tokens, prompt), prompt.length - 1);
    cache.truncate(n);
    return n;
  });
  throwIfAborted(o.signal);
  const fresh = prompt.slice(reused);
  let step!: StepLogits;
  for (let at = 0; at < fresh.length; at += PREFILL_CHUNK) {
    if (at > 0) throwIfAborted(o.signal);
    step = await model.step(fresh.slice(at, at + PREFILL_CHUNK), cache, {
      clock: o.clock,
      run: 'run_prefill',
      summaryOnly: o.lean,
    });
  }
  LAST_PREFILL.set(model, { prompt: [...prompt], step, lean: o.lean });
  return { step, reused };
}

/**
 * The last prefill's prompt and its last row, per model. The row is a function of the prompt's
 * tokens alone, so a second prefill of the same prompt on a cache that still holds it takes the
 * row (the logits are never changed in place: sampling.ts copies them) instead of running the
 * prompt's last token again.
 */
const LAST_PREFILL = new WeakMap<DecoderModel, { prompt: readonly number[]; step: StepLogits; lean: boolean }>();

/** Generates a continuation of `prompt` (token ids) with the model's shared KV cache. */
export async function generate(
  model: DecoderModel,
  prompt: readonly number[],
  o: GenerateOptions,
): Promise<GenerationResult> {
  if (prompt.length === 0)
    throw new GlassboxError('PROMPT_EMPTY', 'The prompt is empty.', 'Give the model some text to continue.');
  if (prompt.length >= model.contextLength) {
    throw new GlassboxError(
      'PROMPT_TOO_LONG',
      `The prompt is ${prompt.length} tokens; the model's context is ${model.contextLength}.`,
      'Shorten the prompt (or let the caller cut it to a token budget).',
    );
  }
  const start = performance.now();
  const clock = o.clock ?? new StageClock();
  const cache = model.cache;

  // Plain greedy decoding reads only the graph's summary of each step's logits (its top ids and
  // logits and log Σ exp): the 8,192 logits stay in the runtime
  const greedy = isGreedy(o.temperature);
  const penalized = o.repetitionPenalty !== undefined && o.repetitionPenalty !== 1;
  const lean =
    greedy &&
    !penalized &&
    !o.copyCache &&
    !o.healText &&
    (o.topAlternatives ?? 5) <= SUMMARY_TOP_K &&
    model.summarizesLogits;
  const first = await prefill(model, prompt, { reuseCache: o.reuseCache, signal: o.signal, clock, lean });
  const reused = first.reused;
  let step = first.step;
  const prefillMs = performance.now() - start;

  const processors = processorsFor(o, prompt.length);
  const random = seededRandom(o.seed ?? 0);
  const stopIds = new Set(o.stopTokenIds ?? model.eosTokenIds);
  const maxNew = Math.min(o.maxNewTokens, model.contextLength - prompt.length);
  const nAlt = o.topAlternatives ?? 5;
  const tokenizer = model.tokenizer;
  const decoder = new IncrementalDecoder(tokenizer);
  const stops = new TextStopper(o.stopStrings ?? [], o.textRules ?? []);
  const healing = o.healText
    ? new HealingConstraint(o.healText, vocabularyTexts(tokenizer), tokenizer, o.healIds)
    : null;
  let healLeft = o.healText ?? ''; // healed text not yet taken off the visible output
  const copy = greedy && !penalized ? o.copyCache : undefined;
  const speculate = copy !== undefined && o.speculate !== false && model.verifiesDrafts;
  // rows already computed for a draft's tokens, and those tokens (in the KV cache, not yet chosen)
  let pending: StepLogits[] = [];
  let drafted: number[] = [];
  let draftTotal = 0;
  let draftKept = 0;
  const guard = o.repetitionGuard ? new RepetitionGuard() : null;
  // the sequence so far, for the processors that read it (a copy of a 1,000-token prompt otherwise unused)
  const ids = processors.length > 0 ? [...prompt] : [];
  const steps: GeneratedToken[] = [];
  let stopReason: StopReason = maxNew < o.maxNewTokens ? 'context_full' : 'max_tokens';

  let t = performance.now();
  const lap = (stage: 'logprobs' | 'choose' | 'detokenize') => {
    const now = performance.now();
    clock.add(stage, now - t);
    t = now;
  };
  while (steps.length < maxNew) {
    t = performance.now();
    const logits = step.logits;
    // the graph's summary when it has one (logitsSummary.ts), else the same in JavaScript
    const lse = step.logSumExp ?? logSumExp(logits);
    const top =
      step.topIds && step.topIds.length >= Math.max(1, nAlt) ? step.topIds : topIndices(logits, Math.max(1, nAlt));
    lap('logprobs');
    const allowed = healing?.active ? healing.allowedSet() : null;
    // logprob and alternatives stay those of the model's own distribution; processors and the cache only choose
    let next: number;
    let source: TokenSource | undefined;
    // a logit: the summary's for a lean step (every id read is among its top ids), else the row's
    const logit = lean ? (id: number) => step.topLogits![top.indexOf(id)] : (id: number) => logits[id];
    if (lean) [next, source] = [top[0], { kind: 'model', weight: 0, p: Math.exp(logit(top[0]) - lse) }];
    else if (greedy && !penalized)
      ({ id: next, source } = chooseGreedy(logits, lse, top[0], copy?.predict() ?? null, allowed));
    else {
      const scores = applyProcessors(processors, ids, logits);
      if (allowed) maskExcept(scores, allowed);
      next = greedy ? argmax(scores) : sampleFromLogits(scores, random);
    }
    lap('choose');
    if (stopIds.has(next)) {
      stopReason = 'eos';
      lap('detokenize');
      break;
    }
    ids.push(next);
    copy?.push(next, true);
    healing?.advance(tokenizer.tokenText(next));
    let text = decoder.push(next);
    if (healLeft) {
      const k = Math.min(healLeft.length, text.length);
      [text, healLeft] = [text.slice(k), healLeft.slice(k)];
    }
    const generated: GeneratedToken = {
      id: next,
      text: stops.push(text),
      logprob: logit(next) - lse,
      top: top.slice(0, nAlt).map((id) => ({ id, text: tokenizer.tokenText(id), logprob: logit(id) - lse })),
      ...(source ? { source } : {}),
    };
    steps.push(generated);
    if (stops.stopped) stopReason = 'stop_string';
    if (guard?.push(next)) {
      steps.length = guard.keep;
      stopReason = 'repetition';
      lap('detokenize');
      break;
    }
    o.onToken?.(generated);
    lap('detokenize');
    if (stops.stopped || steps.length === maxNew) break;
    if (o.timeBudgetMs !== undefined && performance.now() - start > o.timeBudgetMs) {
      stopReason = 'time_budget';
      break;
    }
    throwIfAborted(o.signal);
    if (drafted.length > 0 && drafted[0] === next) {
      // the draft's token: its keys and values are in the cache, and the row after it is computed
      drafted.shift();
      step = pending.shift()!;
      draftKept++;
      continue;
    }
    if (drafted.length > 0) {
      // the mixture chose otherwise: the rest of the draft goes
      cache.truncate(cache.length - drafted.length);
      [drafted, pending] = [[], []];
    }
    const draft =
      speculate && source?.from !== undefined
        ? copy.draft(source.from, Math.min(DRAFT_TOKENS, maxNew - steps.length - 1))
        : [];
    if (draft.length === 0) step = await model.step([next], cache, { clock, run: 'run_decode', summaryOnly: lean });
    else {
      [step, ...pending] = await model.steps([next, ...draft], cache, { clock, run: 'run_decode' });
      drafted = draft;
      draftTotal += draft.length;
    }
  }

  t = performance.now();
  let visible: string;
  if (stopReason === 'repetition') {
    // the guard cut tokens already pushed: the text is that of the tokens kept
    const again = new TextStopper(o.stopStrings ?? [], o.textRules ?? []);
    again.push(
      tokenizer
        .decode(
          steps.map((s) => s.id),
          { skipSpecial: true },
        )
        .slice((o.healText ?? '').length),
    );
    visible = again.visible;
  } else {
    // A tail held back (an unfinished UTF-8 sequence) still gets its stop-string check.
    if (!stops.stopped) stops.push(decoder.rest());
    if (stops.stopped) stopReason = 'stop_string';
    visible = stops.visible;
  }
  lap('detokenize');
  const tokens = steps.map((s) => s.id);
  return {
    text: visible,
    tokens,
    logprobs: steps.map((s) => s.logprob),
    steps,
    stopReason,
    timings: {
      prefillMs,
      decodeMs: performance.now() - start - prefillMs,
      promptTokens: prompt.length,
      reusedTokens: reused,
      generatedTokens: tokens.length,
      stages: clock.ms,
      ...(draftTotal > 0 ? { drafted: draftTotal, draftsKept: draftKept } : {}),
    },
  };
}
