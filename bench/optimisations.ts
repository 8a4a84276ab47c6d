/**
 * Before/after rows for the optimisations that landed, each pair measured back to back in this
 * run on the same model file:
 *
 *   last-position logits  the generation session's graph rewritten to compute logits for the last
 *                         position only (src/engine/onnx/lastPositionLogits.ts) vs the exported
 *                         graph (logits for every position): 1,024-token prefill and decode
 *   logits summary        each token's log Σ exp and top alternatives computed by the graph
 *                         (src/engine/onnx/logitsSummary.ts) vs in JavaScript
 *   sleeping idle threads ONNX Runtime's intra-op threads sleep when idle (allow_spinning 0) vs
 *                         spin: decode tokens/s on a quiet machine and next to one busy thread
 *                         (standing in for the editor's and the user's other work)
 *   line-cached tokenizing one keystroke: the 6,144-character prefix encoded whole vs through the
 *                         tokenizer's line cache (src/engine/runtime/lineChunks.ts)
 *   appended KV cache     runs return only their new keys and values and the engine appends them to
 *                         its own buffers (src/engine/onnx/kvAppend.ts) vs every run returning
 *                         the whole cache: 16 decode steps at a 1,000-token cache
 *   SPM prompt order      one keystroke at the cursor on a warm cache: tokens recomputed and
 *                         prefill time with Glassbox's SPM order (suffix first, so prefix and
 *                         middle are contiguous) vs PSM (the suffix after the edit is recomputed)
 */
import { Worker } from 'node:worker_threads';
import { DecoderModel } from '../src/engine/runtime/decoder';
import { detectFimTemplate, type FimTemplate } from '../src/engine/completion/fim';
import { buildFimPrompt } from '../src/engine/completion/fimPrompt';
import { generate } from '../src/engine/generation/generate';
import { locateModelFiles } from '../src/engine/runtime/modelFolder';
import { TextTokenizer } from '../src/engine/runtime/tokenizer';
import { cursorContexts } from './contexts';
import { decodeStepTimes } from './speed';
import { summarize, time, type Summary } from './stats';

export interface OptimisationRow {
  name: string;
  figure: string;
  unit: string;
  before: Summary;
  after: Summary;
  /** after ÷ before of the median times (for rates, of the median ms per token): below 1 is faster. */
  ratio: number;
  note: string;
}

async function prefillAndDecode(
  model: DecoderModel,
  ids: number[],
  runs: number,
  steps: number,
): Promise<{ prefill: Summary; decode: Summary }> {
  const prompt = ids.slice(0, Math.min(1024, model.contextLength - steps - 1));
  const prefill: number[] = [];
  for (let i = 0; i < runs; i++) prefill.push((await time(() => model.forward(prompt, model.newCache())))[1]);
  return { prefill: summarize(prefill), decode: await decodeSteps(model, ids, steps) };
}

/** ms per decode step on a 256-token cache. */
async function decodeSteps(model: DecoderModel, ids: number[], steps: number): Promise<Summary> {
  return summarize(await decodeStepTimes(model, ids, 256, steps));
}

const rate = (s: Summary): Summary => ({
  ...s,
  median: 1000 / s.median,
  p95: 1000 / s.p95,
  mean: 1000 / s.mean,
  min: 1000 / s.max,
  max: 1000 / s.min,
});

/** A thread that keeps one core busy until terminated. */
function busyThread(): Worker {
  return new Worker('for (;;) {}', { eval: true });
}

async function lastPositionRows(
  modelDir: string,
  onnxFile: string,
  ids: number[],
  runs: number,
  steps: number,
): Promise<OptimisationRow[]> {
  const full = await DecoderModel.load(modelDir, { onnxFile, lastPositionLogits: false });
  const before = await prefillAndDecode(full, ids, runs, steps).finally(() => full.dispose());
  const last = await DecoderModel.load(modelDir, { onnxFile, appendKv: false });
  const after = await prefillAndDecode(last, ids, runs, steps).finally(() => last.dispose());
  const note = 'exported graph (logits for every position) → rewritten graph (last position only)';
  return [
    {
      name: 'Last-position logits',
      figure: 'prefill 1,024 tokens',
      unit: 'ms',
      before: before.prefill,
      after: after.prefill,
      ratio: after.prefill.median / before.prefill.median,
      note,
    },
    {
      name: 'Last-position logits',
      figure: 'decode',
      unit: 'tokens/s',
      before: rate(before.decode),
      after: rate(after.decode),
      ratio: after.decode.median / before.decode.median,
      note,
    },
  ];
}

/**
 * Each token's log Σ exp and top alternatives computed in JavaScript over the 8,192 logits vs by
 * the graph (src/engine/onnx/logitsSummary.ts): generate() with 16 new tokens after a 256-token
 * prompt, the two models alternating; the per-step `logprobs` stage, and the whole call.
 */
async function logitsSummaryRows(modelDir: string, onnxFile: string, ids: number[], runs: number) {
  const js = await DecoderModel.load(modelDir, { onnxFile, logitsSummary: false });
  const graph = await DecoderModel.load(modelDir, { onnxFile });
  const stage = { js: [] as number[], graph: [] as number[] };
  const whole = { js: [] as number[], graph: [] as number[] };
  try {
    const prompt = ids.slice(0, 256);
    for (let r = 0; r <= runs; r++) {
      for (const [side, model] of r % 2
        ? ([
            ['js', js],
            ['graph', graph],
          ] as const)
        : ([
            ['graph', graph],
            ['js', js],
          ] as const)) {
        const [g, ms] = await time(() =>
          generate(model, prompt, { maxNewTokens: 16, stopTokenIds: [], reuseCache: false }),
        );
        if (r === 0) continue; // warm-up
        stage[side].push(g.timings.stages.logprobs ?? 0);
        whole[side].push(ms);
      }
    }
  } finally {
    await js.dispose();
    await graph.dispose();
  }
  const note =
    'log Σ exp and top-5 in JavaScript over 8,192 logits → TopK and ReduceLogSumExp in the graph (src/engine/onnx/logitsSummary.ts)';
  const row = (figure: string, b: number[], a: number[]): OptimisationRow => {
    const [before, after] = [summarize(b), summarize(a)];
    return {
      name: 'Logits summary in the graph',
      figure,
      unit: 'ms',
      before,
      after,
      ratio: after.median / before.median,
      note,
    };
  };
  return [
    row('log Σ exp and top alternatives, 16 steps', stage.js, stage.graph),
    row('generate(), 256-token prompt + 16 tokens', whole.js, whole.graph),
  ];
}

/**
 * Runs that return the whole KV cache (the exported graph's presents, copied by onnxruntime-node
 * into new buffers every step) vs runs that return only their new positions, appended to the
 * engine's buffers (src/engine/onnx/kvAppend.ts): 16 decode steps after a 1,000-token prefill,
 * the two models alternating, the cache cut back to the prefill after each round. The time of
 * the 16 steps includes the garbage collection they cause.
 */
async function appendKvRows(modelDir: string, onnxFile: string, ids: number[], runs: number) {
  const present = await DecoderModel.load(modelDir, { onnxFile, appendKv: false });
  const append = await DecoderModel.load(modelDir, { onnxFile });
  const ms = { present: [] as number[], append: [] as number[] };
  const past = Math.min(1000, ids.length - 16, append.contextLength - 16);
  try {
    const caches = { present: present.newCache(), append: append.newCache() };
    await present.forward(ids.slice(0, past), caches.present);
    await append.forward(ids.slice(0, past), caches.append);
    for (let r = 0; r <= runs; r++) {
      for (const side of r % 2 ? (['present', 'append'] as const) : (['append', 'present'] as const)) {
        const model = side === 'append' ? append : present;
        const cache = caches[side];
        const t0 = performance.now();
        for (let i = 0; i < 16; i++) await model.forward([ids[past + i]], cache);
        if (r > 0) ms[side].push(performance.now() - t0); // round 0 warms up
        cache.truncate(past);
      }
    }
  } finally {
    await present.dispose();
    await append.dispose();
  }
  const [before, after] = [summarize(ms.present), summarize(ms.append)];
  return [
    {
      name: 'Appended KV cache',
      figure: `16 decode steps at a ${past.toLocaleString('en-US')}-token cache`,
      unit: 'ms',
      before,
      after,
      ratio: after.median / before.median,
      note: "each run returns the whole cache (new buffers every step) → only its new keys and values, appended to the engine's buffers (src/engine/onnx/kvAppend.ts)",
    },
  ];
}

async function spinningRows(
  modelDir: string,
  onnxFile: string,
  ids: number[],
  steps: number,
): Promise<OptimisationRow[]> {
  const rows: OptimisationRow[] = [];
  for (const load of [false, true]) {
    const measure = async (spinning: boolean) => {
      const model = await DecoderModel.load(modelDir, { onnxFile, spinning });
      const busy = load ? busyThread() : undefined;
      try {
        await decodeSteps(model, ids, 4); // warm-up
        return await decodeSteps(model, ids, steps);
      } finally {
        await busy?.terminate();
        await model.dispose();
      }
    };
    const before = await measure(true);
    const after = await measure(false);
    rows.push({
      name: 'Idle threads sleep',
      figure: load ? 'decode next to one busy thread' : 'decode, nothing else running',
      unit: 'tokens/s',
      before: rate(before),
      after: rate(after),
      ratio: after.median / before.median,
      note: 'allow_spinning 1 (ONNX Runtime default) → 0',
    });
  }
  return rows;
}

async function keystroke(
  model: DecoderModel,
  template: FimTemplate,
  contexts: { prefix: string; suffix: string }[],
): Promise<{ ms: Summary; recomputed: Summary }> {
  const ms: number[] = [];
  const recomputed: number[] = [];
  for (const c of contexts) {
    const before = buildFimPrompt(model.tokenizer, template, {
      prefix: c.prefix,
      suffix: c.suffix,
      budgetTokens: 1024,
    });
    // typing inserts a character at the cursor: the prefix grows, the suffix stays
    const after = buildFimPrompt(model.tokenizer, template, {
      prefix: c.prefix + c.suffix[0],
      suffix: c.suffix,
      budgetTokens: 1024,
    });
    await generate(model, before.ids, { maxNewTokens: 1, stopTokenIds: [] });
    const r = await generate(model, after.ids, { maxNewTokens: 1, stopTokenIds: [] });
    ms.push(r.timings.prefillMs);
    recomputed.push(after.ids.length - r.timings.reusedTokens);
  }
  return { ms: summarize(ms), recomputed: summarize(recomputed) };
}

async function spmRows(modelDir: string, onnxFile: string, code: string, runs: number): Promise<OptimisationRow[]> {
  const model = await DecoderModel.load(modelDir, { onnxFile });
  try {
    const template = detectFimTemplate(model.tokenizer);
    if (template.family !== 'glassbox') return [];
    const contexts = cursorContexts(code, runs, 3000, 1200);
    const psm = await keystroke(model, { ...template, order: 'psm' }, contexts);
    const spm = await keystroke(model, { ...template, order: 'spm' }, contexts);
    const note =
      'PSM `<pre> prefix <suf> suffix <mid>` → SPM `<pre><suf> suffix <mid> prefix` (the model trained on both)';
    return [
      {
        name: 'SPM prompt order',
        figure: 'one keystroke: prefill on a warm cache',
        unit: 'ms',
        before: psm.ms,
        after: spm.ms,
        ratio: spm.ms.median / psm.ms.median,
        note,
      },
      {
        name: 'SPM prompt order',
        figure: 'one keystroke: prompt tokens recomputed',
        unit: 'tokens',
        before: psm.recomputed,
        after: spm.recomputed,
        ratio: spm.recomputed.median / psm.recomputed.median,
        note,
      },
    ];
  } finally {
    await model.dispose();
  }
}

/** Tokenizing a completion request's prefix after one keystroke: whole, or with the line cache. */
function lineCacheRows(modelDir: string, code: string, runs: number): OptimisationRow[] {
  const tokenizer = TextTokenizer.load(locateModelFiles(modelDir));
  if (!tokenizer.lineCut) return [];
  const whole: number[] = [];
  const cached: number[] = [];
  for (const c of cursorContexts(code, runs, 6144, 400)) {
    tokenizer.encode(c.prefix); // the request before the keystroke fills the cache
    const typed = c.prefix + (c.suffix[0] ?? 'x');
    whole.push(timeSync(() => tokenizer.encodeWhole(typed)));
    cached.push(timeSync(() => tokenizer.encode(typed)));
  }
  const [before, after] = [summarize(whole), summarize(cached)];
  return [
    {
      name: 'Line-cached tokenization',
      figure: 'one keystroke: encode a 6,144-character prefix',
      unit: 'ms',
      before,
      after,
      ratio: after.median / before.median,
      note: 'the whole prefix encoded again → only lines not seen recently encoded (src/engine/runtime/lineChunks.ts)',
    },
  ];
}

function timeSync(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function optimisations(
  modelDir: string,
  onnxFile: string,
  ids: number[],
  code: string,
  quick: boolean,
): Promise<OptimisationRow[]> {
  const runs = quick ? 3 : 10;
  const steps = quick ? 16 : 64;
  return [
    ...(await lastPositionRows(modelDir, onnxFile, ids, runs, steps)),
    ...(await logitsSummaryRows(modelDir, onnxFile, ids, quick ? 4 : 20)),
    ...(await appendKvRows(modelDir, onnxFile, ids, quick ? 4 : 20)),
    ...(await spinningRows(modelDir, onnxFile, ids, steps)),
    ...(await spmRows(modelDir, onnxFile, code, quick ? 5 : 20)),
    ...lineCacheRows(modelDir, code, quick ? 5 : 50),
  ];
}
