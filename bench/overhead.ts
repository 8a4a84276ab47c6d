/**
 * Glassbox's generate() against the floor set by ONNX Runtime: the same prefill and decode steps
 * run as plain `run` calls, summed, on the very session generate() uses (the same graph and
 * session options), with the caches passed from each step's outputs to the next step's inputs and
 * nothing else. The ratio is then the cost of Glassbox's own work per step: feeds, the KV cache,
 * logits processing, alternatives, incremental detokenizing and stop checks.
 */
import type { DecoderModel } from '../src/engine/runtime/decoder';
import { makeTensor, type Tensor } from '../src/engine/runtime/ort';
import { generate } from '../src/engine/generation/generate';
import { APPENDED_SUFFIX, PAST_LENGTH } from '../src/engine/onnx/kvAppend';
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
 * prompt, then feed each of `tokens` but the last, the caches carried from each run to the next
 * and nothing else. With the exported graph's caches the presents a run returns are the next
 * run's pasts; with the appended cache (src/engine/onnx/kvAppend.ts) the run's new positions are
 * copied into buffers allocated once, which is the least this graph needs. Times of the runs
 * alone, ms.
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
  const pasts = [...kv.pastKey, ...kv.pastValue];
  const presents = [...kv.presentKey, ...kv.presentValue];
  const [H, D] = [model.kvHeads, model.headDim];
  const capacity = prompt.length + tokens.length;
  const buffers = pasts.map(() => new Float32Array(io.appendKv ? H * capacity * D : 0));
  let past: Record<string, Tensor> = {};
  pasts.forEach((name, i) => (past[name] = makeTensor('float32', buffers[i], [1, H, io.appendKv ? capacity : 0, D])));
  const fetches = io.appendKv ? [io.logits, ...presents.map((n) => n + APPENDED_SUFFIX)] : undefined;
  let pos = 0;
  const times: number[] = [];
  for (const step of ids) {
    const n = step.length;
    const feeds: Record<string, Tensor> = {
      [io.inputIds]: makeTensor('int64', BigInt64Array.from(step, BigInt), [1, n]),
      ...past,
    };
    if (io.attentionMask)
      feeds[io.attentionMask] = makeTensor('int64', new BigInt64Array(pos + n).fill(1n), [1, pos + n]);
    if (io.positionIds)
      feeds[io.positionIds] = makeTensor(
        'int64',
        BigInt64Array.from(step, (_, i) => BigInt(pos + i)),
        [1, n],
      );
    if (io.logitsToKeep) feeds[io.logitsToKeep] = makeTensor('int64', BigInt64Array.of(1n), [1]);
    if (io.appendKv) feeds[PAST_LENGTH] = makeTensor('int64', BigInt64Array.of(BigInt(pos)), [1]);
    const t0 = performance.now();
    const out = await raw.run(feeds, fetches);
    times.push(performance.now() - t0);
    if (io.appendKv)
      presents.forEach((name, i) => {
        const fresh = out[name + APPENDED_SUFFIX].data as Float32Array;
        for (let h = 0; h < H; h++)
          buffers[i].set(fresh.subarray(h * n * D, (h + 1) * n * D), (h * capacity + pos) * D);
      });
    else {
      past = {};
      pasts.forEach((name, i) => (past[name] = out[presents[i]]));
    }
    pos += n;
  }
  return { prefillMs: times[0], decodeMs: times.slice(1) };
}
