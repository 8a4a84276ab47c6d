/**
 * What the user feels beyond latency: the host's event-loop delay while the worker generates,
 * model load time, the process RSS with the model loaded, and memory over a long session of
 * requests with random cancellations.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EngineClient } from '../src/engine/worker/client';
import { isCancellation } from '../src/engine/errors';
import { seededRandom } from '../src/engine/sampling';
import { cursorContexts } from './contexts';
import { summarize, time, type Summary } from './stats';

export interface ResponsivenessResult {
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  requests: number;
  loadMs: Summary;
  rssWithModelMB: number;
  rssBeforeMB: number;
}

const MB = 1024 * 1024;

export async function responsiveness(workerPath: string | undefined, modelDir: string, code: string, loads: number): Promise<ResponsivenessResult> {
  const rssBefore = process.memoryUsage().rss;
  const loadTimes: number[] = [];
  let client: EngineClient | null = null;
  for (let i = 0; i < loads; i++) {
    await client?.dispose();
    client = new EngineClient({ workerPath });
    const c = client;
    loadTimes.push((await time(() => c.load({ modelDir })))[1]);
  }
  const c = client!;
  const rssWithModel = process.memoryUsage().rss;
  const h = monitorEventLoopDelay({ resolution: 1 });
  const contexts = cursorContexts(code, 20, 3000, 300);
  h.enable();
  for (const ctx of contexts) await c.call('complete', { ...ctx, maxNewTokens: 16, stopTokenIds: [], shaping: false });
  h.disable();
  await c.dispose();
  return {
    eventLoopDelayP99Ms: h.percentile(99) / 1e6,
    eventLoopDelayMaxMs: h.max / 1e6,
    requests: contexts.length,
    loadMs: summarize(loadTimes),
    rssWithModelMB: rssWithModel / MB,
    rssBeforeMB: rssBefore / MB,
  };
}

export interface EnduranceResult {
  requests: number;
  cancelled: number;
  rssStartMB: number;
  rssEndMB: number;
  growthPercent: number;
}

/** 1,000 completion requests, a third cancelled at a random moment; RSS after warm-up vs at the end. */
export async function endurance(workerPath: string | undefined, modelDir: string, code: string, requests: number): Promise<EnduranceResult> {
  const client = new EngineClient({ workerPath });
  await client.load({ modelDir });
  const contexts = cursorContexts(code, 97, 1500, 200);
  const random = seededRandom(11);
  let cancelled = 0;
  let rssStart = 0;
  const warmup = Math.min(100, Math.floor(requests / 10));
  for (let i = 0; i < requests + warmup; i++) {
    if (i === warmup) {
      global.gc?.();
      rssStart = process.memoryUsage().rss;
    }
    const ctx = contexts[i % contexts.length];
    const ctrl = new AbortController();
    if (random() < 1 / 3) setTimeout(() => ctrl.abort(), Math.floor(random() * 20));
    try {
      await client.call('complete', { prefix: ctx.prefix + String(i), suffix: ctx.suffix, maxNewTokens: 8 }, { signal: ctrl.signal });
    } catch (err) {
      if (!isCancellation(err)) throw err;
      if (i >= warmup) cancelled++;
    }
  }
  global.gc?.();
  const rssEnd = process.memoryUsage().rss;
  await client.dispose();
  return { requests, cancelled, rssStartMB: rssStart / MB, rssEndMB: rssEnd / MB, growthPercent: ((rssEnd - rssStart) / rssStart) * 100 };
}
