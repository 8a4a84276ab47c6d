/**
 * Line completion in `npm run eval`: every system on the same cases, in one run.
 *
 *   copy (file)        the copy baseline over the file (lineCases.ts)
 *   copy (repository)  the same, then the package's other test files
 *   4-gram KN          greedy continuation of the prefix tokens (it cannot use the suffix)
 *   stages             Glassbox's completion pipeline with one more part switched on per stage, so
 *                      each part's gain is measured on its own (STAGES below), on every model given
 *
 * Completions run as the extension runs them: the window around the cursor and the snippet query
 * of src/engine/context/cursorContext.ts, the package's other files (and the file itself outside
 * the window) as the workspace index, a 1,024-token prompt budget, greedy, stopped at the newline
 * (the editor's bracket rule is off: it assumes auto-closed brackets; the rest of the line is
 * what is scored).
 */
import type { CompletionResult } from '../src/engine/completion';
import { answerQueries, cursorQueries, stringSource } from '../src/engine/context/cursorContext';
import { SnippetIndex } from '../src/engine/context/snippetIndex';
import type { Engine } from '../src/engine/engine';
import { hasRepeatedNgram } from '../src/engine/guards';
import type { TextTokenizer } from '../src/engine/tokenizer';
import { copyBaseline, editSimilarity, firstLine, type LineCase, type TestFile } from './lineCases';
import type { KneserNey4 } from './ngram';

export const BUDGET = 1024;
export const MAX_LINE_TOKENS = 64;
const EOT = '<|endoftext|>';

interface Stage {
  name: string;
  context: boolean;
  heal: boolean;
  copy: boolean;
  /** Copy sources from the whole file and the workspace for the cache (not only the prompt). */
  sources: boolean;
  guards: boolean;
  /** The copied line as a second candidate (src/engine/copyLine.ts). */
  copyLine: boolean;
}

/** Cumulative: each stage adds one part to the one before. */
export const STAGES: Stage[] = [
  { name: 'model alone', context: false, heal: false, copy: false, sources: false, guards: false, copyLine: false },
  {
    name: '+ repository context',
    context: true,
    heal: false,
    copy: false,
    sources: false,
    guards: false,
    copyLine: false,
  },
  { name: '+ token healing', context: true, heal: true, copy: false, sources: false, guards: false, copyLine: false },
  {
    name: '+ copy cache (prompt)',
    context: true,
    heal: true,
    copy: true,
    sources: false,
    guards: false,
    copyLine: false,
  },
  {
    name: '+ copy sources (file, workspace)',
    context: true,
    heal: true,
    copy: true,
    sources: true,
    guards: false,
    copyLine: false,
  },
  { name: '+ guards', context: true, heal: true, copy: true, sources: true, guards: true, copyLine: false },
  { name: '+ copied line', context: true, heal: true, copy: true, sources: true, guards: true, copyLine: true },
];

/** One system's output on one case, with what the gate and the guards need. */
interface CaseOutput {
  text: string;
  /** Geometric-mean, least and first token probability of the shown tokens (model systems). */
  confidence?: { mean: number; min: number; first: number };
  /** A token trigram occurs three times in the output. */
  repeats: boolean;
}

export interface ModelUnderTest {
  label: string;
  engine: Engine;
}

/** The package's workspace: its files in the test split, in one snippet index (built once per package). */
class Workspaces {
  private readonly byPackage = new Map<string, number[]>();
  private cached: { pkg: string; index: SnippetIndex } | null = null;

  constructor(private readonly files: TestFile[]) {
    files.forEach((f, i) => {
      const list = this.byPackage.get(f.package) ?? [];
      list.push(i);
      this.byPackage.set(f.package, list);
    });
  }

  index(pkg: string): SnippetIndex {
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

/** Runs one stage of one model on a case. */
async function runStage(
  engine: Engine,
  stage: Stage,
  files: TestFile[],
  ws: Workspaces,
  c: LineCase,
): Promise<CaseOutput> {
  const f = files[c.file];
  // the document as the user has it: the rest of the cursor's line is not typed yet
  const doc = stringSource(c.prefix + c.suffix);
  const { window: w, queries } = cursorQueries(doc, c.line, c.prefix.length, f.path, BUDGET);
  const index = ws.index(f.package);
  const found = answerQueries(index, queries);
  const snippets = stage.context ? found.snippets : undefined;
  const copySources = stage.sources ? found.copySources : undefined;
  const r: CompletionResult = await engine.complete({
    prefix: w.prefix,
    suffix: w.suffix,
    path: stage.context ? f.path : undefined,
    startLine: w.startLine,
    snippets,
    copySources,
    budgetTokens: BUDGET,
    maxNewTokens: MAX_LINE_TOKENS,
    shaping: false,
    multiline: false,
    stopStrings: ['\n'],
    temperature: 0,
    heal: stage.heal,
    copy: stage.copy,
    guards: stage.guards,
    copyLine: stage.copyLine,
  });
  return {
    text: firstLine(r.text),
    confidence: { mean: r.confidence.mean, min: r.confidence.min, first: r.confidence.first },
    repeats: hasRepeatedNgram(engine.model.tokenizer.encode(r.text)),
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
  ngram: KneserNey4,
  files: TestFile[],
  cases: LineCase[],
  progress: (done: number) => void,
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
    row.set('4-gram KN', text(ngramLine(ngram, tok, c.prefix)));
    for (const m of models)
      for (const s of STAGES) row.set(`${m.label}: ${s.name}`, await runStage(m.engine, s, files, ws, c));
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
