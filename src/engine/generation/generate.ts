/**
 * Generation: prefill (reusing the cached prefix a previous request left), then one-token decode
 * steps on the KV cache, greedy or seeded sampling, stop tokens and strings, a token limit, a
 * wall-clock budget and cancellation between steps. Every token comes with its logprob and the
 * top alternatives.
 */
import type { DecoderModel, StepLogits } from '../runtime/decoder';
import { SUMMARY_TOP_K } from '../onnx/logitsSummary';
import { GlassboxError, throwIfAborted } from '../errors';
import type { TextRule } from './stopping';
import type { CopyCache } from './copyCache';
import { DraftRunner } from './draftRunner';
import { StageClock, type StageTimes } from '../runtime/stageClock';
import { StoppingCriteria } from './stoppingCriteria';
import { tokenChooser } from './tokenChooser';
import { HealingConstraint, vocabularyTexts, type TokenSource } from './tokenChoice';
import { IncrementalDecoder } from '../runtime/tokenizer';

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

/** Prompt tokens per prefill run (a cancellation is noticed between runs). */
export const PREFILL_CHUNK = 512;

/** Length of the longest common prefix of two id lists. */
function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
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

/**
 * Generates a continuation of `prompt` (token ids) with the model's shared KV cache: a prefill,
 * then decode steps, each a row viewed and a token chosen (tokenChooser.ts), recorded and checked
 * against the stopping criteria (stoppingCriteria.ts), and the next row run, or taken from a draft
 * run ahead (draftRunner.ts).
 */
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
  const nAlt = o.topAlternatives ?? 5;
  const chooser = tokenChooser(o, prompt.length, {
    summarize: model.summarizesLogits,
    alternatives: nAlt,
    summaryTopK: SUMMARY_TOP_K,
    constrained: Boolean(o.healText),
  });
  const first = await prefill(model, prompt, { reuseCache: o.reuseCache, signal: o.signal, clock, lean: chooser.lean });
  let step = first.step;
  const prefillMs = performance.now() - start;

  const tokenizer = model.tokenizer;
  const decoder = new IncrementalDecoder(tokenizer);
  const stopping = new StoppingCriteria({
    ...o,
    stopTokenIds: o.stopTokenIds ?? model.eosTokenIds,
    room: model.contextLength - prompt.length,
    start,
  });
  const healing = o.healText
    ? new HealingConstraint(o.healText, vocabularyTexts(tokenizer), tokenizer, o.healIds)
    : null;
  let healLeft = o.healText ?? ''; // healed text not yet taken off the visible output
  const copy = chooser.copy;
  const drafts = new DraftRunner(
    model,
    copy && o.speculate !== false && model.verifiesDrafts ? copy : undefined,
    clock,
    chooser.lean,
  );
  // the sequence so far, for the processors that read it (a copy of a 1,000-token prompt otherwise unused)
  const ids = chooser.readsSequence ? [...prompt] : [];
  const steps: GeneratedToken[] = [];

  let t = performance.now();
  const lap = (stage: 'logprobs' | 'choose' | 'detokenize') => {
    const now = performance.now();
    clock.add(stage, now - t);
    t = now;
  };
  while (steps.length < stopping.maxNew) {
    t = performance.now();
    const view = chooser.view(step, nAlt);
    lap('logprobs');
    const { next, source } = chooser.choose(step, view, ids, healing?.active ? healing.allowedSet() : null);
    lap('choose');
    if (stopping.eos(next)) {
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
      text: stopping.visible(text),
      logprob: view.logit(next) - view.lse,
      top: view.top
        .slice(0, nAlt)
        .map((id) => ({ id, text: tokenizer.tokenText(id), logprob: view.logit(id) - view.lse })),
      ...(source ? { source } : {}),
    };
    steps.push(generated);
    if (stopping.repeats(next, steps)) {
      lap('detokenize');
      break;
    }
    o.onToken?.(generated);
    lap('detokenize');
    if (stopping.done(steps.length)) break;
    throwIfAborted(o.signal);
    step = await drafts.after(next, source, stopping.maxNew - steps.length - 1);
  }

  t = performance.now();
  const visible = stopping.finalText(decoder.rest(), tokenizer, steps, o.healText ?? '');
  lap('detokenize');
  const tokens = steps.map((s) => s.id);
  return {
    text: visible,
    tokens,
    logprobs: steps.map((s) => s.logprob),
    steps,
    stopReason: stopping.reason,
    timings: {
      prefillMs,
      decodeMs: performance.now() - start - prefillMs,
      promptTokens: prompt.length,
      reusedTokens: first.reused,
      generatedTokens: tokens.length,
      stages: clock.ms,
      ...(drafts.total > 0 ? { drafted: drafts.total, draftsKept: drafts.kept } : {}),
    },
  };
}
