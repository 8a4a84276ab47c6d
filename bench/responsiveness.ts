/**
 * What the user feels beyond latency: the host's event-loop delay while the worker generates,
 * model load time (with and without the optimized-graph cache), the process RSS with the model loaded, and memory over a long session of
 * requests with random cancellations.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { GraphCacheState } from '../src/engine/runtime/graphCache';
import { EngineClient } from '../src/engine/worker/client';
import { isCancellation } from '../src/engine/errors';
import { seededRandom } from '../src/engine/generation/sampling';
import { cursorContexts } from './contexts';
import { summarize, time, type Summary } from './stats';

export interface ResponsivenessResult {
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  requests: number;
  /** New worker + session, the optimized graph read from the cache (every load after a machine's first). */
  loadMs: Summary;
  /** The first load of the model on a machine: optimizes the graph and writes the cache. */
  firstLoadMs: number;
  /** The same loads without the graph cache (before/after row). */
  uncachedLoadMs: Summary;
  rssWithModelMB: number;
  rssBeforeMB: number;
}

const MB = 1024 * 1024;

export async function responsiveness(
  workerPath: string | undefined,
  modelDir: string,
  code: string,
  loads: number,
): Promise<ResponsivenessResult> {
  const rssBefore = process.memoryUsage().rss;
  const graphCacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-bench-graphs-'));
  let client: EngineClient | null = null;
  const load = async (cacheDir: string | undefined, expect: GraphCacheState): Promise<number> => {
    await client?.dispose();
    client = new EngineClient({ workerPath });
    const c = client;
    const [info, ms] = await time(() => c.load({ modelDir, graphCacheDir: cacheDir }));
    if (info.graphCache !== expect) throw new Error(`model load: graph cache ${info.graphCache}, expected ${expect}`);
    return ms;
  };
  const firstLoadMs = await load(graphCacheDir, 'written');
  // Alternate rounds, so both sides see the same machine: without the cache, then from it.
  const uncached: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < loads; i++) {
    uncached.push(await load(undefined, 'off'));
    cached.push(await load(graphCacheDir, 'hit'));
  }
  fs.rmSync(graphCacheDir, { recursive: true, force: true });
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
    loadMs: summarize(cached),
    firstLoadMs,
    uncachedLoadMs: summarize(uncached),
    rssWithModelMB: rssWithModel / MB,
    rssBeforeMB: rssBefore / MB,
  };
}

export interface EnduranceResult {
  requests: number;
  warmup: number;
  cancelled: number;
  rssStartMB: number;
  rssEndMB: number;
  growthPercent: number;
  /** RSS after gc() every `traceEvery` requests from the first, warm-up included. */
  rssTraceMB: number[];
  traceEvery: number;
}

/**
 * 1,000 completion requests, a third cancelled at a random moment; RSS after warm-up vs at the end.
 * The warm-up is 200 requests: RSS climbs while ONNX Runtime's arena and glibc's heaps grow to
 * their working size, which an in-process trace showed takes until about request 200 here; the
 * trace in the result shows it for every run.
 */
export async function endurance(
  workerPath: string | undefined,
  modelDir: string,
  code: string,
  requests: number,
): Promise<EnduranceResult> {
  const client = new EngineClient({ workerPath });
  await client.load({ modelDir });
  const contexts = cursorContexts(code, 97, 1500, 200);
  const random = seededRandom(11);
  const traceEvery = Math.max(10, Math.floor(requests / 10));
  const warmup = 2 * traceEvery;
  const rssTrace: number[] = [];
  let cancelled = 0;
  let rssStart = 0;
  for (let i = 0; i < requests + warmup; i++) {
    if (i % traceEvery === 0) {
      global.gc?.();
      rssTrace.push(process.memoryUsage().rss / MB);
      if (i === warmup) rssStart = process.memoryUsage().rss;
    }
    const ctx = contexts[i % contexts.length];
    const ctrl = new AbortController();
    if (random() < 1 / 3) setTimeout(() => ctrl.abort(), Math.floor(random() * 20));
    try {
      await client.call(
        'complete',
        { prefix: ctx.prefix + String(i), suffix: ctx.suffix, maxNewTokens: 8 },
        { signal: ctrl.signal },
      );
    } catch (err) {
      if (!isCancellation(err)) throw err;
      if (i >= warmup) cancelled++;
    }
  }
  global.gc?.();
  const rssEnd = process.memoryUsage().rss;
  rssTrace.push(rssEnd / MB);
  await client.dispose();
  return {
    requests,
    warmup,
    cancelled,
    rssStartMB: rssStart / MB,
    rssEndMB: rssEnd / MB,
    growthPercent: ((rssEnd - rssStart) / rssStart) * 100,
    rssTraceMB: rssTrace,
    traceEvery,
  };
}
