/**
 * Glassbox's generate() against the floor set by ONNX Runtime: the same prefill and decode steps
 * run as plain `run` calls, summed, on the very session generate() uses (the same graph and
 * session options), with the caches passed from each step's outputs to the next step's inputs and
 * nothing else. The ratio is then the cost of Glassbox's own work per step: feeds, the KV cache,
 * logits processing, alternatives, incremental detokenizing and stop checks.
 */
import type { DecoderModel } from '../src/engine/decoder';
import { makeTensor, type Tensor } from '../src/engine/ort';
import { generate } from '../src/engine/generate';
import { summarize, type Summary } from './stats';

export interface OverheadResult {
  glassboxMs: Summary;
  rawRunMs: Summary;
  /** Median over the rounds of generate() ÷ the raw loop. */
  ratio: number;
}

export async function overheadOverOrt(
  model: DecoderModel,
  prompt: number[],
  newTokens: number,
  runs: number,
): Promise<OverheadResult> {
  const glassbox: number[] = [];
  const rawSums: number[] = [];
  const rawSteps = async (tokens: readonly number[]) => {
    const r = await rawRunLoop(model, prompt, tokens);
    return r.prefillMs + r.decodeMs.reduce((a, b) => a + b, 0);
  };
  const glassboxRun = () => generate(model, prompt, { maxNewTokens: newTokens, stopTokenIds: [], reuseCache: false });
  const tokens = (await glassboxRun()).tokens; // warm-up
  await rawSteps(tokens);
  for (let r = 0; r < runs; r++) {
    // Alternate which side goes first, and collect garbage before each, so that neither pays for
    // the other's (or an earlier bench section's) garbage.
    for (const side of r % 2 === 0 ? ['glassbox', 'raw'] : ['raw', 'glassbox']) {
      global.gc?.();
      if (side === 'raw') rawSums.push(await rawSteps(tokens));
      else {
        const g = await glassboxRun();
        glassbox.push(g.timings.prefillMs + g.timings.decodeMs);
      }
    }
  }
  const gs = summarize(glassbox);
  const rs = summarize(rawSums);
  // per round: the two sides ran back to back, so a slow spell of the machine (their p95 is
  // often twice their median here) hits both; a ratio of the two medians mixes rounds
  const ratio = summarize(glassbox.map((g, i) => g / rawSums[i])).median;
  return { glassboxMs: gs, rawRunMs: rs, ratio };
}

/**
 * The same steps as generate() as plain `run` calls on the session generate() uses: prefill the
 * prompt, then feed each of `tokens` but the last, the caches passed from each run's outputs to
 * the next run's inputs and nothing else. Times of the runs alone, ms.
 */
export async function rawRunLoop(
  model: DecoderModel,
  prompt: readonly number[],
  tokens: readonly number[],
): Promise<{ prefillMs: number; decodeMs: number[] }> {
  const raw = model.session;
  const io = model.io;
  if (io.kv.kind !== 'separate') throw new Error('the raw loop expects separate KV caches');
  const kv = io.kv;
  const ids = [prompt, ...tokens.slice(0, -1).map((t) => [t])];
  let past: Record<string, Tensor> = {};
  for (let l = 0; l < io.numLayers; l++) {
    const empty = makeTensor('float32', new Float32Array(0), [1, model.kvHeads, 0, model.headDim]);
    past[kv.pastKey[l]] = empty;
    past[kv.pastValue[l]] = empty;
  }
  let pos = 0;
  const times: number[] = [];
  for (const step of ids) {
    const feeds: Record<string, Tensor> = {
      [io.inputIds]: makeTensor('int64', BigInt64Array.from(step, BigInt), [1, step.length]),
      ...past,
    };
    if (io.attentionMask)
      feeds[io.attentionMask] = makeTensor('int64', new BigInt64Array(pos + step.length).fill(1n), [
        1,
        pos + step.length,
      ]);
    if (io.positionIds)
      feeds[io.positionIds] = makeTensor(
        'int64',
        BigInt64Array.from(step, (_, i) => BigInt(pos + i)),
        [1, step.length],
      );
    if (io.logitsToKeep) feeds[io.logitsToKeep] = makeTensor('int64', BigInt64Array.of(1n), [1]);
    const t0 = performance.now();
    const out = await raw.run(feeds);
    times.push(performance.now() - t0);
    past = {};
    for (let l = 0; l < io.numLayers; l++) {
      past[kv.pastKey[l]] = out[kv.presentKey[l]];
      past[kv.pastValue[l]] = out[kv.presentValue[l]];
    }
    pos += step.length;
  }
  return { prefillMs: times[0], decodeMs: times.slice(1) };
}
