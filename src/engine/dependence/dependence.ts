/**
 * "What the suggestion depended on": for a finished completion, each span of its prompt is taken
 * out of the model's view in turn and the suggestion's tokens are scored again, teacher-forced
 * (occlusion, as Captum's feature ablation does it). A span that the suggestion depended on
 * lowers its log-probability when it is gone; one it did not use leaves it as it was.
 *
 * Scoring is the completion's own: the model mixed with the copy cache (copyCache.ts), so a copied
 * token's dependence on its source is measured, not assumed. The rule: without a span, the copy
 * cache is rebuilt over its sequence (copy sources, then the prompt) with the span's tokens
 * replaced by one separator it never proposes or matches across, and each token's mixture
 * probability is recomputed from that cache's prediction (its candidates and its λ, which follows
 * the match it now finds). A token copied from the span alone loses the cache's share; one the
 * cache could also copy from elsewhere keeps most of it.
 */
import { buildFimPrompt, type FimPrompt } from '../completion/fimPrompt';
import { copySequence, matchIdsOf } from '../completion/completion';
import type { FimTemplate } from '../completion/fim';
import { CopyCache, type CachePrediction, type CopyCacheTable } from '../generation/copyCache';
import { argmax, logSumExp } from '../generation/sampling';
import { chooseGreedy, HealingConstraint, vocabularyTexts, type AllowedIds } from '../generation/tokenChoice';
import { GlassboxError, throwIfAborted } from '../errors';
import type { DecoderModel } from '../runtime/decoder';
import { AblationScorer, maskIsApplied, type Rows } from './ablation';
import { promptSpans } from './spans';
import type { DependenceRequest, DependenceResult, PromptSpan, SpanDependence } from './types';

/** What a ranking runs on: the loaded model, its FIM format and copy-cache table (an Engine has all three). */
export interface DependenceEngine {
  model: DecoderModel;
  fim: FimTemplate;
  copyTable: CopyCacheTable;
}

export interface DependenceOptions {
  signal?: AbortSignal;
  /** Each span's result as soon as it is scored (copy sources first, then the prompt's spans from the cursor back). */
  onResult?: (r: SpanDependence) => void;
}

/** As completion.ts: the tokens a request leaves room for when it names none. */
const DEFAULT_COMPLETION_TOKENS = 64;

interface ModelState {
  scorer: AblationScorer;
  maskApplied: boolean;
  /** One ranking at a time: they share the scorer's cache. */
  queue: Promise<unknown>;
}

const STATES = new WeakMap<DecoderModel, Promise<ModelState>>();

/** Ranks the spans of a finished completion's prompt by how much its suggestion depended on each. */
export async function dependence(
  engine: DependenceEngine,
  req: DependenceRequest,
  opts: DependenceOptions = {},
): Promise<DependenceResult> {
  throwIfAborted(opts.signal);
  let state = STATES.get(engine.model);
  if (!state) {
    state = prepare(engine.model);
    STATES.set(engine.model, state);
    state.catch(() => STATES.delete(engine.model)); // a failed start is tried again next time
  }
  const s = await state;
  const run = s.queue.then(() => rank(engine, s, req, opts));
  s.queue = run.catch(() => undefined);
  return run;
}

async function prepare(model: DecoderModel): Promise<ModelState> {
  const scorer = await AblationScorer.create(model);
  const tok = model.tokenizer;
  const ids = tok.encode('def add(a, b):\n    return a + b\n').slice(0, 8);
  const maskApplied = await maskIsApplied(scorer, ids, tok.encode(' while')[0] ?? 1);
  return { scorer, maskApplied, queue: Promise.resolve() };
}

/** The completion's prompt, rebuilt from its request exactly as complete() builds it. */
function rebuildPrompt(engine: DependenceEngine, req: DependenceRequest): FimPrompt {
  const { model } = engine;
  const c = req.completion;
  const maxNewTokens = c.maxNewTokens ?? DEFAULT_COMPLETION_TOKENS;
  const prompt = buildFimPrompt(model.tokenizer, engine.fim, {
    prefix: c.prefix,
    suffix: c.suffix,
    budgetTokens: Math.min(c.budgetTokens ?? Infinity, model.contextLength - maxNewTokens),
    prefixShare: c.prefixShare,
    path: c.path,
    startLine: c.startLine,
    snippets: c.snippets,
    contextShare: c.contextShare,
    heal: c.heal ?? true,
  });
  if (req.promptText !== undefined && model.tokenizer.decodePrompt(prompt.ids) !== req.promptText)
    throw new GlassboxError(
      'INTERNAL',
      "The completion's prompt could not be rebuilt from its request (the model, its FIM format or the request changed since it ran).",
      'Run the completion again, then ask what it depended on.',
    );
  return prompt;
}

async function rank(
  engine: DependenceEngine,
  state: ModelState,
  req: DependenceRequest,
  opts: DependenceOptions,
): Promise<DependenceResult> {
  const t0 = performance.now();
  throwIfAborted(opts.signal);
  const { model, copyTable } = engine;
  const tok = model.tokenizer;
  const prompt = rebuildPrompt(engine, req);
  const generated = req.generated;
  const G = generated.length;
  const useCopy = req.completion.copy !== false;
  const copy = useCopy ? copySequence(model, req.completion.copySources ?? []) : null;
  const spans = prompt.ids.length > 0 ? promptSpans(tok, prompt, copy, req.kinds) : [];
  const method = req.method ?? (state.maskApplied ? 'mask' : 'delete');
  const methodNote =
    method === 'mask'
      ? undefined
      : req.method
        ? 'The caller asked to delete spans.'
        : state.scorer.hasMask
          ? "This model's graph does not apply its attention mask to single positions (a masked token still changed its output), so spans are deleted: the tokens after a span move up by its length."
          : "This model's graph takes no attention mask, so spans are deleted: the tokens after a span move up by its length.";
  const result: DependenceResult = {
    method,
    ...(methodNote ? { methodNote } : {}),
    baseline: 0,
    tokenLogprobs: [],
    tokens: generated.map((id) => ({ id, text: tok.tokenText(id) })),
    greedyFirst: false,
    copyCache: false,
    spans,
    ranking: [],
    partial: false,
    promptTokens: prompt.ids.length,
    timings: { totalMs: 0, baselineMs: 0, runs: 0, tokensRun: 0 },
  };
  if (G === 0 || prompt.ids.length === 0) {
    // nothing was suggested, or there was no prompt to depend on (an empty file)
    result.timings.totalMs = performance.now() - t0;
    return result;
  }
  const seq = [...prompt.ids, ...generated.slice(0, G - 1)];
  if (seq.length + 1 > model.contextLength)
    throw new GlassboxError(
      'PROMPT_TOO_LONG',
      `The prompt and suggestion are ${seq.length + 1} tokens; the model's context is ${model.contextLength}.`,
    );
  const scorer = state.scorer;
  [scorer.runs, scorer.tokensRun] = [0, 0];
  const mixture = new Mixture(
    useCopy ? new CopyCache([], tok.specialIds, copyTable, matchIdsOf(tok)) : null,
    [...(copy?.ids ?? []), ...prompt.ids],
    generated,
    model.eosTokenIds[0] ?? 0,
    prompt.healText && (req.completion.heal ?? true)
      ? new HealingConstraint(prompt.healText, vocabularyTexts(tok), tok, prompt.healIds).allowedSet()
      : null,
  );
  const baseRows = await scorer.baseline(seq, G);
  const base = mixture.score(baseRows, null);
  result.baseline = sum(base.logps);
  result.tokenLogprobs = base.logps;
  result.greedyFirst = base.first === generated[0];
  result.copyCache = mixture.contributed;
  result.timings.baselineMs = performance.now() - t0;

  const offset = copy?.ids.length ?? 0;
  // copy sources cost no model run; then the prompt's spans from the cursor back (each reuses the cache before it)
  const order = [
    ...spans.filter((s) => s.kind === 'copy'),
    ...spans.filter((s) => s.kind !== 'copy').sort((a, b) => b.start - a.start),
  ];
  for (const span of order) {
    throwIfAborted(opts.signal);
    if (req.timeBudgetMs !== undefined && performance.now() - t0 > req.timeBudgetMs) {
      result.partial = true;
      break;
    }
    let used: SpanDependence['method'] = span.kind === 'copy' ? 'cache' : method;
    let rows: Rows = baseRows;
    if (span.kind !== 'copy') {
      rows =
        used === 'mask'
          ? await scorer.masked(seq, span.start, span.end, G)
          : await scorer.deleted(seq, span.start, span.end, G, model.eosTokenIds[0] ?? 0);
      // a query whose every key is masked (a span at the very start) can come out as NaN: delete it instead
      if (used === 'mask' && !rows.every((r) => r.every(Number.isFinite))) {
        used = 'delete';
        rows = await scorer.deleted(seq, span.start, span.end, G, model.eosTokenIds[0] ?? 0);
      }
    }
    const cacheStart = span.kind === 'copy' ? span.start : offset + span.start;
    const cacheEnd = span.kind === 'copy' ? span.end : offset + span.end;
    const scored = mixture.score(rows, [cacheStart, cacheEnd]);
    const r = spanResult(span, used, scored, base);
    result.ranking.push(r);
    result.timings.firstResultMs ??= performance.now() - t0;
    opts.onResult?.(r);
  }
  result.ranking.sort((a, b) => a.delta - b.delta || a.span.id - b.span.id);
  result.timings.totalMs = performance.now() - t0;
  result.timings.runs = scorer.runs;
  result.timings.tokensRun = scorer.tokensRun;
  return result;
}

function spanResult(
  span: PromptSpan,
  method: SpanDependence['method'],
  scored: { logps: number[]; first: number },
  base: { logps: number[]; first: number },
): SpanDependence {
  const tokenDeltas = scored.logps.map((lp, k) => lp - base.logps[k]);
  let maxToken = 0;
  tokenDeltas.forEach((d, k) => Math.abs(d) > Math.abs(tokenDeltas[maxToken]) && (maxToken = k));
  return {
    span,
    method,
    delta: sum(tokenDeltas),
    tokenDeltas,
    maxToken,
    maxDelta: tokenDeltas[maxToken] ?? 0,
    firstToken: scored.first,
    sameFirstToken: scored.first === base.first,
  };
}

/**
 * The completion's scoring rule over rows of logits: log p of each generated token under the
 * model mixed with the copy cache, and greedy decoding's first choice (with token healing's
 * constraint). The cache is kept over its sequence and cut back only as far as a removed span
 * needs (`clean` tokens of it are the plain sequence).
 */
class Mixture {
  /** Whether the cache's share of any scored token's probability was larger than the model's (baseline). */
  contributed = false;
  private clean = 0;

  constructor(
    private readonly cache: CopyCache | null,
    private readonly sequence: readonly number[],
    private readonly generated: readonly number[],
    private readonly separator: number,
    private readonly allowed: AllowedIds | null,
  ) {}

  /** Scores `rows` with the cache's sequence minus [removed[0], removed[1]) (null: nothing removed). */
  score(rows: Rows, removed: [number, number] | null): { logps: number[]; first: number } {
    const predictions = this.predictions(removed);
    const logps: number[] = [];
    let first = -1;
    rows.forEach((row, k) => {
      const lse = logSumExp(row);
      const id = this.generated[k];
      const pred = predictions[k];
      const lambda = pred?.weight ?? 0;
      const pModel = Math.exp(row[id] - lse);
      const pCache = pred?.candidates.find((c) => c.id === id)?.p ?? 0;
      logps.push(lambda > 0 ? Math.log(Math.max(1e-30, (1 - lambda) * pModel + lambda * pCache)) : row[id] - lse);
      if (removed === null && lambda * pCache > (1 - lambda) * pModel) this.contributed = true;
      if (k === 0) first = chooseGreedy(row, lse, argmax(row), pred, this.allowed).id;
    });
    return { logps, first };
  }

  /** The cache's prediction before each generated token. */
  private predictions(removed: [number, number] | null): (CachePrediction | null)[] {
    const cache = this.cache;
    if (!cache) return this.generated.map(() => null);
    const from = removed ? removed[0] : this.sequence.length;
    // bring the cache to the plain sequence up to `from`, then what follows without the span
    cache.truncate(Math.min(this.clean, from));
    for (let i = cache.length; i < from; i++) cache.push(this.sequence[i]);
    if (removed) {
      cache.push(this.separator);
      for (let i = removed[1]; i < this.sequence.length; i++) cache.push(this.sequence[i]);
    }
    this.clean = from;
    const out: (CachePrediction | null)[] = [];
    for (const id of this.generated) {
      out.push(cache.predict());
      cache.push(id, true);
    }
    return out;
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
