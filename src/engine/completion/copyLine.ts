/**
 * A one-line completion copied whole: the line that the copy cache's best match goes on with.
 *
 * Greedy decoding of the mixture chooses token by token, so it can leave a copy halfway: the
 * cache proposes the rest of `formatDuration(ms: number): string {` from a line above, the model
 * outweighs it at one token and the rest is the model's guess. The copy baseline of `npm run
 * eval`, which commits to the whole copied line, was right more often in those cases: measured on
 * 500 line cases where the two differed, showing the copied line always beat choosing the one
 * whose tokens were likelier on average, and both beat greedy alone, ungated and at every gate
 * threshold. So where the cache matches, the copied line is the suggestion: run after the prompt
 * in one teacher-forced run, which gives each of its tokens the mixture's probability (what the
 * confidence gate reads) and costs about what two decode steps do, not one step per token.
 */
import type { CachePrediction, CopyCache } from '../generation/copyCache';
import type { TextRule } from './completionText';
import type { DecoderModel } from '../runtime/decoder';
import { throwIfAborted } from '../errors';
import { prefill, type GeneratedToken, type GenerationResult } from '../generation/generate';
import { RepetitionGuard } from '../generation/guards';
import { lineResult, mixtureStep, type HeldLine } from './lineJudge';
import { logSumExp } from '../generation/sampling';
import type { StageClock } from '../runtime/stageClock';
import { TextStopper } from '../generation/stopping';
import type { TextTokenizer } from '../runtime/tokenizer';

/** Most tokens of a copied line. */
const MAX_LINE_TOKENS = 48;

export interface CopyLineInput {
  model: DecoderModel;
  /** The cache over the copy sources and the prompt (`base` tokens), nothing generated. */
  copy: CopyCache;
  base: number;
  prompt: readonly number[];
  /** Text the completion must start with (token healing); not shown. */
  healText: string;
  /** Most tokens the line may have (the request's maxNewTokens). */
  maxTokens: number;
  stopStrings: readonly string[];
  textRules: readonly TextRule[];
  clock: StageClock;
  reuseCache?: boolean;
  signal?: AbortSignal;
  /** Given what the KV cache holds after the prompt and its rows (the line judge starts from them). */
  onHeld?: (line: HeldLine) => void;
}

interface CopiedLine {
  ids: number[];
  /** The cache's prediction for the first token. */
  first: CachePrediction;
  /** The line as shown: after the healed text, shaped by the stop strings and rules. */
  text: string;
}

/**
 * The tokens the copy cache's best match goes on with, to the end of its line: from the best-
 * supported first candidate whose text agrees with the healed text. Null when the cache has no
 * match or the line is blank.
 */
export function copiedLine(tokenizer: TextTokenizer, input: Omit<CopyLineInput, 'model' | 'clock'>): CopiedLine | null {
  const { copy, healText } = input;
  copy.truncate(input.base);
  const first = copy.predict();
  const start = first?.candidates.find((c) => {
    const t = tokenizer.tokenText(c.id);
    return t.startsWith(healText.slice(0, t.length)) || healText.startsWith(t);
  });
  if (!first || !start) return null;
  const ids = [start.id, ...copy.draft(start.from, Math.min(MAX_LINE_TOKENS, input.maxTokens) - 1)];
  // up to the token that ends the line (a generated line stops there too), or a repetition; a
  // line break is one byte, so the tokens' own texts find it, but only decoding them together
  // gives characters split across byte-level tokens
  const guard = new RepetitionGuard();
  let seen = '';
  let end = 0;
  while (end < ids.length) {
    if (guard.push(ids[end])) {
      end = guard.keep;
      break;
    }
    seen += tokenizer.tokenText(ids[end++]);
    if (seen.length > healText.length && seen.indexOf('\n', healText.length) >= 0) break;
  }
  ids.length = end;
  const text = tokenizer.decode(ids);
  if (!text.startsWith(healText)) return null;
  // the editor's shaping (stop strings, the bracket and line rules) as generation applies it
  const stops = new TextStopper(input.stopStrings, input.textRules);
  stops.push(text.slice(healText.length));
  const line = stops.visible.split('\n')[0];
  return line.trim() ? { ids, first, text: line } : null;
}

/**
 * The copied line as a generation result, each step with its mixture probability and source, or
 * null when there is none (copiedLine). Leaves the KV cache holding the prompt and the line but
 * its last token, and the copy cache the sources, the prompt and the line.
 */
export async function copyLine(input: CopyLineInput): Promise<GenerationResult | null> {
  const { model, copy, prompt } = input;
  const line = copiedLine(model.tokenizer, input);
  if (!line) return null;
  const start = performance.now();
  const { step, reused } = await prefill(model, prompt, { ...input, lean: false });
  const prefillMs = performance.now() - start;
  throwIfAborted(input.signal);
  // the prefill's last row is the distribution for ids[0]; one run over ids[0..n-2] gives the rest
  const ids = line.ids;
  const rows = [
    step,
    ...(ids.length > 1
      ? await model.steps(ids.slice(0, -1), model.cache, { clock: input.clock, run: 'run_decode' })
      : []),
  ];
  // the cache holds the line but its last token; rows[i] is the distribution of ids[i]
  input.onHeld?.({ ids: ids.slice(0, -1), rows });
  const steps: GeneratedToken[] = ids.map((id, i) => {
    const row = rows[i];
    const step = mixtureStep(
      model.tokenizer,
      id,
      row.logits[id] - (row.logSumExp ?? logSumExp(row.logits)),
      i === 0 ? line.first : copy.predict(),
    );
    copy.push(id, true);
    return step;
  });
  return lineResult(line.text, steps, {
    start,
    prefillMs,
    prompt,
    reused,
    clock: input.clock,
    extra: { copiedLine: true },
  });
}
