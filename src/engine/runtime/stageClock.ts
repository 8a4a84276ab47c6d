/**
 * Where a request's time goes: wall-clock milliseconds per named stage, summed over every time the
 * stage ran in that request (16 decode steps add 16 times to `run_decode`). Two performance.now()
 * calls per measured span, about 0.1 µs each: cheap enough to keep on for every request, so the
 * bench reads the same figures the product produces.
 */

/** The stages of a request, in the order they happen. */
export const STAGES = [
  /** host → worker: postMessage until the worker's handler starts (structured clone, queueing). */
  'message_in',
  /** building the prompt: context budget, snippets, FIM layout, token healing (tokenizing excluded). */
  'prompt',
  /** text → ids (the tokenizer, with its line cache). */
  'tokenize',
  /** indexing the prompt and copy sources for copy-aware decoding. */
  'copy_cache',
  /** the longest cached prefix shared with the previous request, and dropping the rest of the KV cache. */
  'kv_match',
  /** input tensors for a run: ids, mask, positions, the past caches. */
  'feeds',
  /** ONNX Runtime's session.run on the prompt tokens not in the cache. */
  'run_prefill',
  /** ONNX Runtime's session.run on one generated token. */
  'run_decode',
  /** taking a run's outputs: the present caches into the KV cache, the last position's logits. */
  'outputs',
  /** per step: log-sum-exp over the vocabulary (each token's logprob) and the top alternatives. */
  'logprobs',
  /** per step: the next token (copy cache mixture, healing constraint, or sampling). */
  'choose',
  /** per step: incremental detokenizing, stop strings and rules, the repetition guard. */
  'detokenize',
  /** after generation: trimming against the suffix, guards, provenance, the confidence gate, the prompt's text. */
  'shaping',
  /** worker → host: the result's postMessage until the host receives it. */
  'reply',
] as const;

export type Stage = (typeof STAGES)[number];

/** Milliseconds per stage for one request (stages that did not run are absent). */
export type StageTimes = Partial<Record<Stage, number>>;

/** The session.run stages: Σ of these is the floor a request's total is compared with. */
export const RUN_STAGES: readonly Stage[] = ['run_prefill', 'run_decode'];

export class StageClock {
  readonly ms: StageTimes = {};

  add(stage: Stage, ms: number): void {
    this.ms[stage] = (this.ms[stage] ?? 0) + ms;
  }

  /** Runs `fn`, adding its wall time to `stage`. */
  time<T>(stage: Stage, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }
}

/** Wall-clock now in ms on a clock shared by every thread of the process (timeOrigin differs per thread). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Adds a stage measured outside the engine (the worker's messages) to a result that carries stage
 * times (`result.timings.stages`); other results are left as they are.
 */
export function addStageTo(result: unknown, stage: Stage, ms: number): void {
  const timings = (result as { timings?: { stages?: StageTimes } } | null)?.timings;
  if (timings?.stages) timings.stages[stage] = (timings.stages[stage] ?? 0) + ms;
}

/**
 * One line on where a request's time went, for people (the status bar's tooltip): the model's
 * runs, Glassbox's own work and the messages between the threads, and how many drafted tokens
 * speculative decoding kept. Undefined when the result carries no stages (a model server's).
 */
export function describeStages(
  stages: StageTimes,
  draft?: { drafted?: number; draftsKept?: number },
): string | undefined {
  const ms = (list: readonly Stage[]) => list.reduce((sum, s) => sum + (stages[s] ?? 0), 0);
  const model = ms(RUN_STAGES);
  if (model === 0) return undefined;
  const messages = ms(['message_in', 'reply']);
  const own = ms(STAGES) - model - messages;
  const f = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0));
  const parts = [
    `model ${f(model)} ms (prompt ${f(stages.run_prefill ?? 0)}, new tokens ${f(stages.run_decode ?? 0)})`,
    `Glassbox ${f(own)} ms`,
    ...(messages > 0 ? [`messages ${f(messages)} ms`] : []),
  ];
  const drafts = draft?.drafted ? `; ${draft.draftsKept ?? 0} of ${draft.drafted} drafted tokens kept` : '';
  return parts.join(', ') + drafts;
}
