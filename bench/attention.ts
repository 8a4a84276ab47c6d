/**
 * Attention explorer: the compute behind one click at 1,024 tokens (select a token → its heat rows
 * for every layer and head, mean and max across heads, the rollout row, the logit-lens slice and
 * the line view's edges), as the extension host runs it. Prints figures; asserts nothing.
 *
 *   npx tsc -p . && node out/bench/attention.js [--model DIR] [--clicks N]
 *
 * Cases: the embedded model captured for real (every row kept), and two synthetic captures with
 * the shapes of larger models, where the memory budget keeps head means and selected rows
 * (rollout then walks 12 or 24 layers of 1,024² means).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { captureAttention, releaseAttention } from '../src/engine/attention/capture';
import { planStorage } from '../src/engine/attention/store';
import type { AttentionCapture } from '../src/engine/attention/types';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { embeddedModelDir } from '../src/engine/runtime/embedded';
import { linesData, queryData } from '../src/attention/viewData';
import { summarize } from './stats';

const T = 1024;
const BUDGET = 256 * 1024 * 1024;

/** A capture with random causal row-stochastic attention in the budget's storage mode. */
function synthetic(layers: number, heads: number, vocab: number): AttentionCapture {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const queries = Array.from({ length: 32 }, (_, i) => T - 32 + i);
  const plan = planStorage(layers, heads, T, queries, BUDGET);
  const rowsPer = plan.storage === 'full' ? T : plan.queries.length;
  const fill = (m: Float32Array, rows: number, rowPos: (r: number) => number) => {
    for (let r = 0; r < rows; r++) {
      const t = rowPos(r);
      let s = 0;
      for (let k = 0; k <= t; k++) s += m[r * T + k] = rand() ** 4;
      for (let k = 0; k <= t; k++) m[r * T + k] /= s;
    }
  };
  const headsArr = Array.from({ length: layers }, () => {
    const a = new Float32Array(heads * rowsPer * T);
    for (let h = 0; h < heads; h++)
      fill(a.subarray(h * rowsPer * T), rowsPer, (r) => (plan.storage === 'full' ? r : plan.queries[r]));
    return a;
  });
  const means =
    plan.storage === 'rows'
      ? null
      : Array.from({ length: layers }, () => {
          const m = new Float32Array(T * T);
          fill(m, T, (r) => r);
          return m;
        });
  return {
    model: `synthetic ${layers}×${heads}`,
    method: { kind: 'softmax', nodes: [] },
    numLayers: layers,
    numHeads: heads,
    seqLen: T,
    ids: new Array<number>(T).fill(1),
    labels: new Array<string>(T).fill('x'),
    pieces: new Array<string>(T).fill('x'),
    special: new Array<boolean>(T).fill(false),
    cut: 0,
    inputTokens: T,
    generatedFrom: T - 32,
    storage: plan.storage,
    queries: plan.storage === 'full' ? [] : plan.queries,
    heads: headsArr,
    means,
    thumbs: { size: 0, layers: [] },
    headStats: [],
    lens: {
      positions: queries,
      layerNames: Array.from({ length: layers + 1 }, (_, i) => String(i)),
      k: 5,
      topIds: new Int32Array(32 * (layers + 1) * 5),
      topProbs: new Float32Array(32 * (layers + 1) * 5),
      vocab,
      final: new Float32Array(32 * vocab),
      labels: {},
    },
    notices: plan.notice ? [plan.notice] : [],
    budgetBytes: BUDGET,
    storedBytes: plan.bytes,
    timings: { totalMs: 0, runMs: 0, steps: 0 },
  };
}

/** ms per click over `positions` (the first click also builds per-layer row sums, so it is timed apart). */
function clicks(
  c: AttentionCapture,
  positions: number[],
  rollout: boolean,
): { first: number; rest: ReturnType<typeof summarize> } {
  const times: number[] = [];
  for (const q of positions) {
    const t0 = performance.now();
    const data = queryData(c, 1, q, rollout);
    linesData(c, 1, 0, -1, Math.max(0, q - 30), Math.min(T, q + 10), 0.1);
    times.push(performance.now() - t0);
    if (!data) throw new Error(`no rows for ${q}`);
  }
  return { first: times[0], rest: summarize(times.slice(1)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, clicks: { type: 'string' } } });
  const n = Number(values.clicks ?? 50);
  const dir = path.resolve(values.model ?? embeddedModelDir(__dirname));
  console.log(
    `Attention explorer, click-to-repaint compute at ${T} tokens (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg()[0].toFixed(1)})`,
  );
  console.log('case                               storage heat shown         first click  median    p95  clicks');
  const row = (name: string, c: AttentionCapture, what: string, r: ReturnType<typeof clicks>) =>
    console.log(
      `${name.padEnd(34)} ${c.storage.padEnd(7)} ${what.padEnd(18)} ${r.first.toFixed(1).padStart(8)} ms ${r.rest.median.toFixed(2).padStart(6)} ${r.rest.p95.toFixed(2).padStart(6)} ms ${String(r.rest.runs + 1).padStart(5)}`,
    );
  const both = (name: string, c: AttentionCapture, positions: number[]) => {
    row(name, c, 'head/mean/max', clicks(c, positions, false));
    row(name, c, 'rollout', clicks(c, positions, true));
  };

  const model = await DecoderModel.load(dir);
  const ids = Array.from({ length: T }, (_, i) => 3 + ((i * 7919) % (model.tokenizer.vocabSize - 3)));
  const t0 = performance.now();
  const real = await captureAttention(model, { prompt: ids, maxTokens: T });
  const captureMs = performance.now() - t0;
  let pos = 1;
  const random = (count: number, from: number) =>
    Array.from({ length: count }, () => from + ((pos = (pos * 48271) % 2147483647) % (T - from)));
  both(`${model.name} (real capture)`, real, random(n, 0));
  for (const [layers, heads, vocab] of [
    [12, 12, 50257],
    [24, 14, 151936],
  ]) {
    both(`synthetic ${layers} layers × ${heads} heads`, synthetic(layers, heads, vocab), random(n, T - 32));
  }
  console.log(
    `\nCapture itself (${model.name}, ${T} tokens, once): ${captureMs.toFixed(0)} ms in ${real.timings.steps} steps, ${real.timings.runMs.toFixed(0)} ms in ONNX Runtime; ${(real.storedBytes / 2 ** 20).toFixed(0)} MB kept.`,
  );
  console.log(
    'The webview then repaints from these rows (strip shading, grid row marks, lens table); that part is drawn in the browser and is not timed here.',
  );
  await releaseAttention(model);
  await model.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
