/**
 * Line completion in `npm run eval`: every system on the same cases, in one run.
 *
 *   copy (file)        the copy baseline over the file (lineCases.ts)
 *   copy (repository)  the same, then the package's other test files
 *   4-gram KN          greedy continuation of the prefix tokens (it cannot use the suffix)
 *   stages             Glassbox's completion pipeline with one more part switched on per stage, so
 *                      each part's gain is measured on its own (STAGES below), on every model given
 *
 * Completions run as the extension runs them, through its entry point (src/engine/context/
 * cursorCompletion.ts): the document as the editor holds it (the rest of the cursor's line not
 * typed yet), the package's other files and that document as the workspace index, a 1,024-token
 * prompt budget, greedy, the editor's shaping (a line, or a block at a multi-line spot); the first
 * line is scored. The gate is applied afterwards from each output's confidence (gateTable).
 */
import type { CompletionResult } from '../src/engine/completion/completion';
import type { CompletionRequest } from '../src/engine/completion/completion';
import { answerQueries, stringSource, type ContextQueries } from '../src/engine/context/cursorContext';
import { completeAtCursor } from '../src/engine/context/cursorCompletion';
import { SnippetIndex } from '../src/engine/context/snippetIndex';
import type { Engine } from '../src/engine/engine';
import { hasRepeatedNgram } from '../src/engine/generation/guards';
import type { TextTokenizer } from '../src/engine/runtime/tokenizer';
import { copyBaseline, editSimilarity, firstLine, type LineCase, type TestFile } from './lineCases';
import type { KneserNey4 } from './ngram';

export const BUDGET = 1024;
export const MAX_LINE_TOKENS = 64;
const EOT = '<|endoftext|>';

export interface Stage {
  name: string;
  context: boolean;
  heal: boolean;
  copy: boolean;
  /** Copy sources from the whole file and the workspace for the cache (not only the prompt). */
  sources: boolean;
  guards: boolean;
  /** The copied line as a second candidate (src/engine/completion/copyLine.ts). */
  copyLine: boolean;
  /** The model judges its own line against the lines copying gives (src/engine/completion/lineJudge.ts). */
  judge: boolean;
  /** End the suggestion before its first token less likely than this (the request's cutBelow). */
  cutBelow?: number;
}

/** The pipeline's parts in the order the stages switch them on, each with its stage's name. */
const PARTS: [Exclude<keyof Stage, 'name' | 'cutBelow'>, string][] = [
  ['context', '+ repository context'],
  ['heal', '+ token healing'],
  ['copy', '+ copy cache (prompt)'],
  ['sources', '+ copy sources (file, workspace)'],
  ['guards', '+ guards'],
  ['copyLine', '+ copied line'],
  ['judge', '+ judge'],
];

/** Cumulative: each stage adds one part to the one before. */
export const STAGES: Stage[] = Array.from({ length: PARTS.length + 1 }, (_, on) => ({
  name: on === 0 ? 'model alone' : PARTS[on - 1][1],
  ...(Object.fromEntries(PARTS.map(([part], i) => [part, i < on])) as Record<(typeof PARTS)[number][0], boolean>),
}));

/** One system's output on one case, with what the gate and the guards need. */
export interface CaseOutput {
  text: string;
  /** Geometric-mean, least and first token probability of the shown tokens (model systems). */
  confidence?: { mean: number; min: number; first: number };
  /** A token trigram occurs three times in the output. */
  repeats: boolean;
  /** The lines the judge weighed (the judge stage). */
  candidates?: CompletionResult['candidates'];
}

export interface ModelUnderTest {
  label: string;
  engine: Engine;
}

/**
 * The package's workspace: its files in the test split, in one snippet index (built once per
 * package). While a case runs, its own file in the index is the case's document (the rest of the
 * cursor's line not typed yet), exactly what `glassbox complete` indexes for the file it completes:
 * the original text would let copy sources quote the answer.
 */
export class Workspaces {
  private readonly byPackage = new Map<string, number[]>();
  private cached: { pkg: string; index: SnippetIndex } | null = null;

  constructor(private readonly files: TestFile[]) {
    files.forEach((f, i) => {
      const list = this.byPackage.get(f.package) ?? [];
      list.push(i);
      this.byPackage.set(f.package, list);
    });
  }

  /** Runs `fn` with the package's index holding `doc` as the text of file `file`. */
  async withDocument<T>(file: number, doc: string, fn: (index: SnippetIndex) => Promise<T>): Promise<T> {
    const f = this.files[file];
    const index = this.index(f.package);
    index.setFile(f.path, doc);
    try {
      return await fn(index);
    } finally {
      index.setFile(f.path, f.text);
    }
  }

  private index(pkg: string): SnippetIndex {
    if (this.cached?.pkg !== pkg) {
      const index = new SnippetIndex();
      for (const i of this.byPackage.get(pkg) ?? []) index.setFile(this.files[i].path, this.files[i].text);
      this.cached = { pkg, index };
    }
    return this.cached.index;
  }

  /** The other files' texts (for the copy baseline). */
  others(file: number): string[] {
    return (this.byPackage.get(this.files[file].package) ?? [])
      .filter((i) => i !== file)
      .map((i) => this.files[i].text);
  }
}

/** The request a stage makes at a case's cursor, through the product's entry point (cursorCompletion.ts). */
export async function stageRequest(
  stage: Stage,
  index: SnippetIndex,
  path: string,
  c: Pick<LineCase, 'prefix' | 'suffix' | 'line'>,
): Promise<CompletionRequest> {
  const workspace = {
    query: (q: ContextQueries) => {
      const found = answerQueries(index, q);
      return stage.context ? { snippets: found.snippets, copySources: stage.sources ? found.copySources : [] } : null;
    },
  };
  let request!: CompletionRequest;
  await completeAtCursor(
    async (req) => (request = req),
    // the document as the user has it: the rest of the cursor's line is not typed yet
    { doc: stringSource(c.prefix + c.suffix), line: c.line, offset: c.prefix.length, path },
    workspace,
    {
      budgetTokens: BUDGET,
      showPath: stage.context,
      // the editor's request (src/completion/provider.ts): its shaping, multi-line spots included
      maxNewTokens: MAX_LINE_TOKENS,
      temperature: 0,
      steps: false,
      heal: stage.heal,
      copy: stage.copy,
      guards: stage.guards,
      copyLine: stage.copyLine,
      judge: stage.judge,
      // the same line as the editor's (the judge's pruning is exact), with every candidate's
      // scores for the per-case file and for fitting the weights (bench/fitJudge.ts)
      judgeAll: true,
      cutBelow: stage.cutBelow,
    },
  );
  return request;
}

/**
 * The rules that shorten or hide a suggestion, each measured against the shipped pipeline (the
 * last stage): without the guards, and with a cut before the first unsure token. The gate is the
 * gate table; the line rule decides what the first line is, which is what is scored.
 */
export const ABLATIONS: Stage[] = [
  { ...STAGES[STAGES.length - 1], name: 'shipped - guards', guards: false },
  { ...STAGES[STAGES.length - 1], name: 'shipped + cut below p 0.1', cutBelow: 0.1 },
  { ...STAGES[STAGES.length - 1], name: 'shipped + cut below p 0.3', cutBelow: 0.3 },
];

/** Runs one stage of one model on a case. */
async function runStage(
  engine: Engine,
  stage: Stage,
  files: TestFile[],
  ws: Workspaces,
  c: LineCase,
): Promise<CaseOutput> {
  const f = files[c.file];
  const req = await ws.withDocument(c.file, c.prefix + c.suffix, (index) => stageRequest(stage, index, f.path, c));
  const r: CompletionResult = await engine.complete(req);
  return {
    text: firstLine(r.text),
    confidence: { mean: r.confidence.mean, min: r.confidence.min, first: r.confidence.first },
    repeats: hasRepeatedNgram(engine.model.tokenizer.encode(r.text)),
    candidates: r.candidates,
  };
}

function ngramLine(ngram: KneserNey4, tok: TextTokenizer, prefix: string): string {
  const eot = tok.tokenId(EOT)!;
  const ids = [eot, ...tok.encode(prefix.slice(-4000))];
  const out: number[] = [];
  for (let i = 0; i < MAX_LINE_TOKENS; i++) {
    const next = ngram.argmax([...ids, ...out].slice(-3));
    if (next === eot) break;
    out.push(next);
    if (tok.decode(out).includes('\n')) break;
  }
  return firstLine(tok.decode(out));
}

/** outputs[system][case] for the baselines and every stage of every model. */
export async function runLineCases(
  models: ModelUnderTest[],
  ngram: KneserNey4 | null,
  files: TestFile[],
  cases: LineCase[],
  progress: (done: number) => void,
  stages: readonly Stage[] = STAGES,
): Promise<Map<string, CaseOutput[]>> {
  const ws = new Workspaces(files);
  const out = new Map<string, CaseOutput[]>();
  const add = (system: string, o: CaseOutput) => {
    if (!out.has(system)) out.set(system, []);
    out.get(system)!.push(o);
  };
  const tok = models[0].engine.model.tokenizer;
  // Cases grouped by package, so each package's index is built once.
  const order = [...cases.keys()].sort(
    (a, b) => files[cases[a].file].package.localeCompare(files[cases[b].file].package) || a - b,
  );
  const results: Map<string, CaseOutput>[] = new Array(cases.length);
  let done = 0;
  for (const i of order) {
    const c = cases[i];
    const row = new Map<string, CaseOutput>();
    const text = (t: string) => ({ text: t, repeats: hasRepeatedNgram(tok.encode(t)) });
    row.set('copy (file)', text(copyBaseline(c.prefix, c.suffix)));
    row.set('copy (repository)', text(copyBaseline(c.prefix, c.suffix, ws.others(c.file))));
    if (ngram) row.set('4-gram KN', text(ngramLine(ngram, tok, c.prefix)));
    for (const m of models)
      for (const s of stages) row.set(`${m.label}: ${s.name}`, await runStage(m.engine, s, files, ws, c));
    results[i] = row;
    progress(++done);
  }
  for (const row of results) for (const [system, o] of row) add(system, o);
  return out;
}

export interface LineScores {
  cases: number;
  exactMatch: number;
  editSimilarity: number;
  repeated: number;
}

export function score(
  outputs: readonly CaseOutput[],
  cases: readonly LineCase[],
  pick: (c: LineCase) => boolean = () => true,
): LineScores {
  let n = 0;
  let em = 0;
  let es = 0;
  let rep = 0;
  outputs.forEach((o, i) => {
    if (!pick(cases[i])) return;
    n++;
    em += o.text === cases[i].target ? 1 : 0;
    es += editSimilarity(o.text, cases[i].target);
    rep += o.repeats ? 1 : 0;
  });
  return { cases: n, exactMatch: n ? em / n : 0, editSimilarity: n ? es / n : 0, repeated: rep };
}

export interface GateRow {
  threshold: number;
  /** Share of cases with a suggestion shown. */
  coverage: number;
  /** Of the shown suggestions. */
  editSimilarity: number;
  exactMatch: number;
}

/** Precision and coverage of the confidence gate at each threshold, on a stage's outputs. */
export function gateTable(
  outputs: readonly CaseOutput[],
  cases: readonly LineCase[],
  stat: 'mean' | 'min' | 'first' | 'both',
  thresholds: number[],
): GateRow[] {
  return thresholds.map((threshold) => {
    let shown = 0;
    let es = 0;
    let em = 0;
    outputs.forEach((o, i) => {
      const c = o.confidence;
      const value = !c ? 0 : stat === 'both' ? Math.min(c.mean, c.first) : c[stat];
      if (!o.text || value < threshold) return;
      shown++;
      es += editSimilarity(o.text, cases[i].target);
      em += o.text === cases[i].target ? 1 : 0;
    });
    return {
      threshold,
      coverage: shown / outputs.length,
      editSimilarity: shown ? es / shown : 0,
      exactMatch: shown ? em / shown : 0,
    };
  });
}
