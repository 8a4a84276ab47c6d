/** Prefill and decode throughput of the engine itself (in-process, no worker in between). */
import type { DecoderModel } from '../src/engine/runtime/decoder';
import { summarize, time, type Summary } from './stats';

export interface SpeedResult {
  prefill: Record<string, Summary & { tokensPerSecond: number }>;
  decode: Summary & { tokensPerSecond: number };
}

export async function engineSpeed(
  model: DecoderModel,
  ids: number[],
  runs: number,
  decodeSteps: number,
): Promise<SpeedResult> {
  const prefill: SpeedResult['prefill'] = {};
  for (const n of [256, 1024]) {
    const len = Math.min(n, model.contextLength - decodeSteps - 1);
    const prompt = ids.slice(0, len);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await time(() => model.forward(prompt, model.newCache())))[1]);
    const s = summarize(times);
    prefill[String(len)] = { ...s, tokensPerSecond: (len / s.median) * 1000 };
  }
  // Decode: one token at a time on a 256-token cache.
  const d = summarize(await decodeStepTimes(model, ids, 256, decodeSteps));
  return { prefill, decode: { ...d, tokensPerSecond: 1000 / d.median } };
}

/** ms of each of `steps` single-token forwards on a fresh cache that holds ids[0..past). */
export async function decodeStepTimes(
  model: DecoderModel,
  ids: number[],
  past: number,
  steps: number,
): Promise<number[]> {
  const cache = model.newCache();
  await model.forward(ids.slice(0, past), cache);
  const t: number[] = [];
  for (let i = 0; i < steps; i++) t.push((await time(() => model.forward([ids[past + i]], cache)))[1]);
  return t;
}
