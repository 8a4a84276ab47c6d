/**
 * A second candidate for a one-line completion: the line that the copy cache's best match goes on
 * with, copied whole.
 *
 * Greedy decoding of the mixture chooses token by token, so it can leave a copy halfway: the
 * cache proposes `formatDuration(ms: number): string {` from the line above, the model outweighs
 * it at `:` and the rest is the model's guess. The copy baseline of `npm run eval`, which commits
 * to the whole copied line, is right in some of those cases. So the copied line is scored under
 * the same mixture, teacher-forced in one run over its tokens, and the suggestion is whichever
 * of the two has the likelier least likely shown token: the statistic the confidence gate reads,
 * so the gate still means the same thing.
 */
import type { CopyCache } from './copyCache';
import type { DecoderModel } from './decoder';
import type { GeneratedToken, GenerationResult } from './generate';
import { logSumExp } from './sampling';
import type { StageClock } from './stageClock';
import type { TextRule } from './completionText';
import { TextStopper } from './stopping';

/** Most tokens of a copied line. */
const MAX_LINE_TOKENS = 48;

export interface CopyLineInput {
  model: DecoderModel;
  /** The cache as generation left it: its sequence is `base` tokens (sources, prompt), then the output. */
  copy: CopyCache;
  base: number;
  prompt: readonly number[];
  /** Text the completion must start with (token healing); not shown. */
  healText: string;
  /** Most tokens the candidate may have (the request's maxNewTokens). */
  maxTokens: number;
  /** The greedy line, as shown (to skip a candidate that is the same). */
  greedyLine: string;
  stopStrings: readonly string[];
  textRules: readonly TextRule[];
  clock: StageClock;
  signal?: AbortSignal;
}

/**
 * The copied line as a generation result (its steps carry each token's mixture probability and
 * source), or null when the cache has no match, the match's line says nothing new, or it
 * contradicts the healed text. Call it right after generating from `prompt` with `copy`; it
 * leaves the KV cache and the copy cache holding the prompt and the copied tokens.
 */
export async function copyLine(input: CopyLineInput): Promise<GenerationResult | null> {
  const { model, copy, base, prompt, healText } = input;
  const tokenizer = model.tokenizer;
  copy.truncate(base);
  const first = copy.predict();
  // the best-supported candidate whose text agrees with what healing must retype
  const start = first?.candidates.find((c) => {
    const t = tokenizer.tokenText(c.id);
    return t.startsWith(healText.slice(0, t.length)) || healText.startsWith(t);
  });
  if (!first || !start) return null;
  const ids = [start.id, ...copy.draft(start.from, Math.min(MAX_LINE_TOKENS, input.maxTokens) - 1)];
  // up to the token that ends the line (the greedy line stops there too)
  let text = '';
  let end = 0;
  while (end < ids.length) {
    text += tokenizer.tokenText(ids[end++]);
    if (text.length > healText.length && text.indexOf('\n', healText.length) >= 0) break;
  }
  ids.length = end;
  // the editor's shaping (stop strings, the bracket and line rules) as generation applies it
  const stops = new TextStopper(input.stopStrings, input.textRules);
  stops.push(text.slice(healText.length));
  const line = stops.visible.split('\n')[0];
  if (!line.trim() || line.trimEnd() === input.greedyLine.trimEnd() || !text.startsWith(healText)) return null;
  if (input.signal?.aborted) return null;

  // row i of one run over [last prompt token, ids[0..n-2]] is the model's distribution for ids[i]
  const cache = model.cache;
  const held = cache.tokens;
  for (let i = 0; i < prompt.length - 1; i++) if (held[i] !== prompt[i]) return null; // not after generating from `prompt`
  cache.truncate(prompt.length - 1);
  const rows = await model.steps([prompt[prompt.length - 1], ...ids.slice(0, -1)], cache, {
    clock: input.clock,
    run: 'run_decode',
  });
  const steps: GeneratedToken[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const row = rows[i];
    const lse = row.logSumExp ?? logSumExp(row.logits);
    const pModel = Math.exp(row.logits[id] - lse);
    const pred = i === 0 ? first : copy.predict();
    const lambda = pred?.weight ?? 0;
    const candidate = pred?.candidates.find((c) => c.id === id);
    const pCache = candidate?.p ?? 0;
    copy.push(id, true);
    steps.push({
      id,
      text: tokenizer.tokenText(id),
      logprob: Math.log(Math.max(pModel, 1e-30)),
      top: [],
      source: {
        kind: lambda * pCache > (1 - lambda) * pModel ? 'cache' : 'model',
        weight: lambda,
        p: (1 - lambda) * pModel + lambda * pCache,
        ...(candidate ? { from: candidate.from } : {}),
      },
    });
  }
  return {
    text: line,
    tokens: ids,
    logprobs: steps.map((s) => s.logprob),
    steps,
    stopReason: 'stop_string',
    timings: {
      prefillMs: 0,
      decodeMs: 0,
      promptTokens: prompt.length,
      reusedTokens: 0,
      generatedTokens: ids.length,
      stages: {},
    },
  };
}
