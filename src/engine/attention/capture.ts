/**
 * Attention capture, kept off the completion path: its own ONNX session (created on the first
 * capture, never touched by completions) over an instrumented copy of the graph. The input runs
 * through the KV cache in chunks of query tokens, so ONNX Runtime's outputs stay small, each
 * chunk's rows stream into the store (see store.ts for the memory budget), and cancellation is
 * checked between chunks and between layers.
 */
import type { DecoderModel } from '../runtime/decoder';
import { GlassboxError, throwIfAborted } from '../errors';
import type { KvCache } from '../runtime/kvCache';
import { makeTensor, type Tensor } from '../runtime/ort';
import { topIndices } from '../generation/sampling';
import { fusedRows } from './fusedAttention';
import { HeadScoreAccumulator } from './headScores';
import { instrumentModel, type InstrumentedModel } from './instrument';
import { runLens, tensorFloat32 } from './lens';
import { AttentionStore, planStorage } from './store';
import { tokenPieces } from './tokenPieces';
import {
  DEFAULT_BUDGET_BYTES,
  FINAL_TOP_LABELS,
  LENS_TOP_K,
  MAX_CAPTURE_TOKENS,
  type AttentionCapture,
  type CaptureParams,
  type LogitLens,
} from './types';

/** ONNX Runtime output per step, bytes: sets how many query tokens one step runs. */
const STEP_OUTPUT_BYTES = 64 * 1024 * 1024;
/** The lens runs on every position when it costs at most this many multiply-adds… */
const LENS_ALL_MACS = 4e9;
/** …and the final logits of every position fit in this many bytes; else only the selected ones. */
const LENS_ALL_BYTES = 64 * 1024 * 1024;
const LENS_MAX_SELECTED = 256;

class AttentionCapturer {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly model: DecoderModel,
    private readonly inst: InstrumentedModel,
  ) {}

  static async create(model: DecoderModel, threads?: number): Promise<AttentionCapturer> {
    const inst = await instrumentModel(model.files.onnxPath, model.io.numLayers, model.io.logits, threads);
    return new AttentionCapturer(model, inst);
  }

  get method(): AttentionCapture['method'] {
    return this.inst.plan.method;
  }

  /** One capture at a time (they would only compete for the same cores). */
  capture(params: CaptureParams, signal?: AbortSignal): Promise<AttentionCapture> {
    const run = this.queue.then(() => this.run(params, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    await this.queue;
    await this.inst.session.release();
    await this.inst.lens?.session.release();
  }

  private async run(p: CaptureParams, signal?: AbortSignal): Promise<AttentionCapture> {
    throwIfAborted(signal);
    const t0 = performance.now();
    const { model } = this;
    const { plan, session } = this.inst;
    const tok = model.tokenizer;
    const promptIds = typeof p.prompt === 'string' ? tok.encode(p.prompt) : [...p.prompt];
    const generated = p.generated ?? [];
    const all = [...promptIds, ...generated];
    if (all.length === 0)
      throw new GlassboxError('PROMPT_EMPTY', 'Nothing to capture: the text has no tokens.', 'Select some code first.');
    const maxTokens = Math.max(1, Math.floor(p.maxTokens ?? Math.min(MAX_CAPTURE_TOKENS, model.contextLength)));
    const cut = Math.max(0, all.length - maxTokens);
    const ids = all.slice(cut);
    const T = ids.length;
    const L = plan.sites.length;
    const notices: string[] = [];
    const fmt = (n: number) => n.toLocaleString('en-US');
    if (cut > 0)
      notices.push(
        `Cut to the last ${fmt(T)} of ${fmt(all.length)} tokens (the capture budget is ${fmt(maxTokens)} tokens).`,
      );
    const queries = selectQueries(p.queries, promptIds.length, generated.length, all.length, cut, notices);

    const cache = model.newCache(true);
    const residualNames = plan.residuals ?? [];
    const fetches = [...new Set([model.io.logits, ...cache.fetchNames(), ...plan.fetches.flat(), ...residualNames])];
    let store: AttentionStore | undefined;
    let scores: HeadScoreAccumulator | undefined;
    let heads = 0;
    let lensAt: Set<number> | undefined;
    const lensIds: Int32Array[] = [];
    const lensProbs: Float32Array[] = [];
    const finals: Float32Array[] = [];
    const lensPositions: number[] = [];
    let chunk = Math.max(1, p.chunkTokens ?? Math.min(64, T));
    let runMs = 0;
    let steps = 0;
    for (let start = 0, n = 0; start < T; start += n) {
      throwIfAborted(signal);
      n = Math.min(chunk, T - start);
      const r0 = performance.now();
      const out = await session.run(this.feeds(ids.slice(start, start + n), cache), fetches);
      runMs += performance.now() - r0;
      steps++;
      cache.update(out, ids.slice(start, start + n));
      if (!store) {
        heads = headsOf(plan.sites[0], out[plan.fetches[0][0]]);
        const storage = planStorage(L, heads, T, queries, p.budgetBytes ?? DEFAULT_BUDGET_BYTES);
        if (storage.notice) notices.push(storage.notice);
        store = new AttentionStore(L, heads, T, storage);
        scores = new HeadScoreAccumulator(L, heads, ids);
        if (p.chunkTokens === undefined)
          chunk = Math.max(16, Math.min(256, Math.floor(STEP_OUTPUT_BYTES / (L * heads * T * 4))));
        lensAt = this.lensPositions(out, T, queries);
      }
      for (let l = 0; l < L; l++) {
        throwIfAborted(signal);
        const site = plan.sites[l];
        if (site.kind === 'softmax') {
          const probs = out[site.probs];
          const [, H, rows, keys] = probs.dims;
          if (H !== heads || rows !== n)
            throw new GlassboxError(
              'GRAPH_UNSUPPORTED',
              `${model.files.onnxPath}: attention Softmax of layer ${l} has shape [${probs.dims.join(', ')}]; expected [1, ${heads}, ${n}, keys].`,
            );
          const data = tensorFloat32(probs);
          for (let h = 0; h < heads; h++) {
            for (let r = 0; r < n; r++) {
              const offset = (h * n + r) * keys;
              store!.add(l, h, start + r, data, offset, keys);
              scores!.add(l, h, start + r, data, offset);
            }
          }
        } else {
          const [qName, kName] = plan.fetches[l];
          const q = out[qName];
          const k = out[kName];
          fusedRows(
            site,
            plan.rotary[l],
            { q: tensorFloat32(q), qDims: q.dims, k: tensorFloat32(k), kDims: k.dims, past: start },
            (h, row, t) => {
              store!.add(l, h, t, row, 0, row.length);
              scores!.add(l, h, t, row);
            },
          );
        }
      }
      const rows = [...lensAt!].filter((t) => t >= start && t < start + n).map((t) => t - start);
      if (rows.length > 0) {
        const logits = tensorFloat32(out[model.io.logits]);
        const vocab = logits.length / n;
        rows.forEach((r) => finals.push(logits.slice(r * vocab, (r + 1) * vocab)));
        lensPositions.push(...rows.map((r) => start + r));
        if (this.inst.lens) {
          const lr = await runLens(
            this.inst.lens,
            residualNames.map((name) => out[name]),
            rows,
            LENS_TOP_K,
          );
          lensIds.push(lr.ids);
          lensProbs.push(lr.probs);
        }
      }
      p.onProgress?.((start + n) / T);
    }
    const s = store!;
    const lens = this.assembleLens(lensPositions, lensIds, lensProbs, finals, L);
    return {
      model: model.name,
      method: plan.method,
      numLayers: L,
      numHeads: heads,
      seqLen: T,
      ids,
      labels: ids.map((id) => tok.tokenLabel(id)),
      pieces: tokenPieces(tok, ids),
      special: ids.map((id) => tok.specialIds.has(id)),
      cut,
      inputTokens: all.length,
      generatedFrom: generated.length > 0 ? Math.max(0, promptIds.length - cut) : T,
      storage: s.plan.storage,
      queries: s.plan.storage === 'full' ? [] : s.plan.queries,
      heads: s.heads,
      means: s.means,
      thumbs: { size: s.size, layers: s.thumbs },
      headStats: scores!.result(),
      lens,
      notices,
      budgetBytes: p.budgetBytes ?? DEFAULT_BUDGET_BYTES,
      storedBytes: s.bytes + ('final' in lens ? lens.final.byteLength : 0),
      timings: { totalMs: performance.now() - t0, runMs, steps },
    };
  }

  /** Every position when that is cheap, else the selected ones (the last LENS_MAX_SELECTED). */
  private lensPositions(out: Record<string, Tensor>, T: number, queries: number[]): Set<number> {
    const logits = out[this.model.io.logits];
    const vocab = logits.dims[logits.dims.length - 1];
    const res = this.inst.plan.residuals;
    const hidden = res ? out[res[0]].dims[out[res[0]].dims.length - 1] : 0;
    const layers = this.inst.plan.sites.length + 1;
    if (T * layers * vocab * hidden <= LENS_ALL_MACS && T * vocab * 4 <= LENS_ALL_BYTES)
      return new Set(Array.from({ length: T }, (_, i) => i));
    return new Set(queries.slice(-LENS_MAX_SELECTED));
  }

  private assembleLens(
    positions: number[],
    ids: Int32Array[],
    probs: Float32Array[],
    finals: Float32Array[],
    L: number,
  ): LogitLens | { unavailable: string } {
    if (!this.inst.lens)
      return {
        unavailable: `No logit lens for this model: ${this.inst.plan.lensProblem ?? 'the final norm and LM head were not found'}.`,
      };
    const join = <A extends Int32Array | Float32Array>(parts: A[], make: (n: number) => A): A => {
      const outArr = make(parts.reduce((s, a) => s + a.length, 0));
      let o = 0;
      for (const a of parts) {
        outArr.set(a as never, o);
        o += a.length;
      }
      return outArr;
    };
    const topIds = join(ids, (n) => new Int32Array(n));
    const vocab = finals[0]?.length ?? 0;
    const final = join(finals, (n) => new Float32Array(n));
    const tok = this.model.tokenizer;
    const labels: Record<number, string> = {};
    const label = (id: number) => (labels[id] ??= tok.tokenLabel(id));
    topIds.forEach(label);
    for (const f of finals) topIndices(f, FINAL_TOP_LABELS).forEach(label);
    return {
      positions,
      layerNames: ['embeddings', ...Array.from({ length: L }, (_, l) => `layer ${l + 1}`)],
      k: LENS_TOP_K,
      topIds,
      topProbs: join(probs, (n) => new Float32Array(n)),
      vocab,
      final,
      labels,
    };
  }

  private feeds(tokens: number[], cache: KvCache): Record<string, Tensor> {
    const io = this.model.io;
    const past = cache.length;
    const n = tokens.length;
    const int = (type: 'int64' | 'int32', values: number[], dims: number[]) =>
      type === 'int64'
        ? makeTensor(
            'int64',
            BigInt64Array.from(values, (v) => BigInt(v)),
            dims,
          )
        : makeTensor('int32', Int32Array.from(values), dims);
    const feeds: Record<string, Tensor> = { [io.inputIds]: int(io.idsType, tokens, [1, n]) };
    if (io.attentionMask)
      feeds[io.attentionMask] = int(io.maskType, new Array<number>(past + n).fill(1), [1, past + n]);
    if (io.positionIds)
      feeds[io.positionIds] = int(
        io.positionsType,
        Array.from({ length: n }, (_, i) => past + i),
        [1, n],
      );
    return { ...feeds, ...cache.feeds() };
  }
}

/** Query heads of the first site, from its output (softmax) or attributes (fused). */
function headsOf(site: InstrumentedModel['plan']['sites'][number], first: Tensor): number {
  if (site.kind === 'softmax') return first.dims[1];
  return site.numHeads || (site.queryRank === 4 ? first.dims[1] : 0);
}

/** Selected query positions in kept coordinates, ascending; default: the last prompt token and every generated one. */
function selectQueries(
  requested: number[] | undefined,
  promptLen: number,
  genLen: number,
  total: number,
  cut: number,
  notices: string[],
): number[] {
  const first = Math.max(0, promptLen - 1);
  const wanted = requested ?? (genLen > 0 ? Array.from({ length: total - first }, (_, i) => first + i) : [total - 1]);
  const kept = [...new Set(wanted.map((q) => (q < 0 ? total + q : q) - cut))]
    .filter((q) => q >= 0 && q < total - cut)
    .sort((a, b) => a - b);
  const lost = wanted.length - kept.length;
  if (requested && lost > 0) notices.push(`${lost} selected position(s) fell outside the captured tokens.`);
  return kept.length > 0 ? kept : [total - cut - 1];
}

const capturers = new WeakMap<DecoderModel, Promise<AttentionCapturer>>();

/** Captures on `model`'s attention session, creating it on first use (a failure is remembered). */
export async function captureAttention(
  model: DecoderModel,
  params: CaptureParams,
  signal?: AbortSignal,
): Promise<AttentionCapture> {
  let capturer = capturers.get(model);
  if (!capturer) {
    capturer = AttentionCapturer.create(model);
    capturers.set(model, capturer);
  }
  return (await capturer).capture(params, signal);
}

/** Releases the capture sessions of a model being unloaded. */
export async function releaseAttention(model: DecoderModel): Promise<void> {
  const capturer = capturers.get(model);
  capturers.delete(model);
  const c = await capturer?.catch(() => undefined);
  await c?.dispose();
}
