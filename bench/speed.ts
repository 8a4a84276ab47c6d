/** Prefill and decode throughput of the engine itself (in-process, no worker in between). */
import type { DecoderModel } from '../src/engine/decoder';
import { summarize, time, type Summary } from './stats';

export interface SpeedResult {
  prefill: Record<string, Summary & { tokensPerSecond: number }>;
  decode: Summary & { tokensPerSecond: number };
}

export async function engineSpeed(model: DecoderModel, ids: number[], runs: number, decodeSteps: number): Promise<SpeedResult> {
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
  const cache = model.newCache();
  await model.forward(ids.slice(0, 256), cache);
  const steps: number[] = [];
  for (let i = 0; i < decodeSteps; i++) steps.push((await time(() => model.forward([ids[256 + i]], cache)))[1]);
  const d = summarize(steps);
  return { prefill, decode: { ...d, tokensPerSecond: 1000 / d.median } };
}
