/**
 * The token chooser of a decode step, picked once per request (as transformers.js's generation
 * config picks its logits processors and sampler):
 * - summary greedy: plain greedy decoding reads only the graph's summary of the row (its top ids,
 *   their logits and log Σ exp; graph/logitsSummary.ts): the 8,192 logits stay in the runtime;
 * - mixture greedy: the model's distribution mixed with the copy cache's, under token healing's
 *   constraint (tokenChoice.ts);
 * - processed: the logits processors (repetition penalty, temperature, top-k, top-p), then argmax
 *   or seeded sampling.
 * The logprob and alternatives a token reports stay those of the model's own distribution.
 */
import type { CopyCache } from './copyCache';
import type { StepLogits } from '../runtime/decoder';
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
import { chooseGreedy, type AllowedIds, type TokenSource } from './tokenChoice';

/** One row as the chooser and the step's record read it. */
export interface RowView {
  /** log Σ exp of the row. */
  lse: number;
  /** The row's best ids, best first (at least the alternatives asked for). */
  top: readonly number[];
  /** The logit of an id (in a summary-only row, only the top ids have one). */
  logit: (id: number) => number;
}

export interface Choice {
  next: number;
  /** Which part of the decoder chose it, and how sure it was (greedy decoding). */
  source?: TokenSource;
}

export interface ChooserOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed?: number;
  copyCache?: CopyCache;
}

export interface TokenChooser {
  /** Whether rows may be summary-only (the chooser reads no logit outside the top ids). */
  readonly lean: boolean;
  /** The copy cache the choice mixes in, when it does (it follows the chosen tokens). */
  readonly copy: CopyCache | undefined;
  /** The processors read the sequence so far (prompt and chosen tokens): keep it only for them. */
  readonly readsSequence: boolean;
  view(step: StepLogits, alternatives: number): RowView;
  choose(step: StepLogits, view: RowView, sequence: readonly number[], allowed: AllowedIds | null): Choice;
}

export function tokenChooser(
  o: ChooserOptions,
  promptLength: number,
  can: { summarize: boolean; alternatives: number; summaryTopK: number; constrained: boolean },
): TokenChooser {
  const greedy = isGreedy(o.temperature);
  const penalized = o.repetitionPenalty !== undefined && o.repetitionPenalty !== 1;
  const lean =
    greedy && !penalized && !o.copyCache && !can.constrained && can.alternatives <= can.summaryTopK && can.summarize;
  const copy = greedy && !penalized ? o.copyCache : undefined;
  const processors = processorsFor(o, promptLength);
  const random = seededRandom(o.seed ?? 0);
  return {
    lean,
    copy,
    readsSequence: processors.length > 0,
    view(step, alternatives) {
      const logits = step.logits;
      const lse = step.logSumExp ?? logSumExp(logits);
      const k = Math.max(1, alternatives);
      const top = step.topIds && step.topIds.length >= k ? step.topIds : topIndices(logits, k);
      // a lean step's every id read is among its top ids
      const logit = lean ? (id: number) => step.topLogits![top.indexOf(id)] : (id: number) => logits[id];
      return { lse, top, logit };
    },
    choose(step, view, sequence, allowed) {
      if (lean)
        return {
          next: view.top[0],
          source: { kind: 'model', weight: 0, p: Math.exp(view.logit(view.top[0]) - view.lse) },
        };
      if (greedy && !penalized) {
        const { id, source } = chooseGreedy(step.logits, view.lse, view.top[0], copy?.predict() ?? null, allowed);
        return { next: id, source };
      }
      const scores = applyProcessors(processors, sequence, step.logits);
      if (allowed) maskExcept(scores, allowed);
      return { next: greedy ? argmax(scores) : sampleFromLogits(scores, random) };
    },
  };
}

/** Sets every score outside `allowed` to -Infinity. */
function maskExcept(scores: Float32Array, allowed: AllowedIds): void {
  for (let i = 0; i < scores.length; i++) if (!allowed.has(i)) scores[i] = -Infinity;
}

function processorsFor(o: ChooserOptions, promptLength: number): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (o.repetitionPenalty && o.repetitionPenalty !== 1) list.push(repetitionPenalty(o.repetitionPenalty, promptLength));
  if (!isGreedy(o.temperature) && o.temperature !== 1) list.push(temperature(o.temperature!));
  if (o.topK) list.push(topK(o.topK));
  if (o.topP !== undefined && o.topP < 1) list.push(topP(o.topP));
  return list;
}
