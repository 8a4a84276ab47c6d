/**
 * "What it depended on" (src/engine/dependence/), measured two ways:
 *
 * - speed (a row of `npm run bench`): a 1,024-token prompt with 40 lines of window and 4
 *   snippets, a 16-token suggestion, on the model given (the embedded one): the whole ranking and
 *   the time to its first result, each over different cursor contexts of the repository's src/;
 * - accuracy (this script alone): cases built from the corpus' test split, where a completion
 *   copies a name that only a repository snippet defines. The snippet must rank first.
 *
 *   node out/bench/dependence.js [--model DIR] [--cases 50] [--quick]
 *
 * The corpus (models/recipe/data/corpus/test.jsonl) is built by the recipe and git-ignored: the
 * accuracy part says so and stops where it is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { CompletionRequest } from '../src/engine/completion/completion';
import { suggestionTokens } from '../src/engine/dependence/verdict';
import { Engine } from '../src/engine/engine';
import { embeddedModelDir } from '../src/engine/runtime/embedded';
import { codeText } from './contexts';
import { summarize, type Summary } from './stats';

const LINES = 40;
const SNIPPETS = 4;
const SUGGESTION_TOKENS = 16;
const PROMPT_TOKENS = 1024;

/** Cursor contexts with 40 window lines (34 before the cursor, 6 after) and 4 snippets of 12 lines each. */
function speedRequests(code: string, count: number): CompletionRequest[] {
  const lines = code.split('\n').filter((l) => l.trim().length > 20); // lines with some code on them
  const stride = Math.floor(lines.length / (count + 1));
  return Array.from({ length: count }, (_, i) => {
    const at = stride * (i + 1);
    const snippets = Array.from({ length: SNIPPETS }, (_, s) => {
      const from = (at + 5000 * (s + 1)) % (lines.length - 12);
      return {
        path: `src/snippet${s}.ts`,
        startLine: from,
        endLine: from + 12,
        text: lines.slice(from, from + 12).join('\n') + '\n',
        score: 0.5,
      };
    });
    return {
      prefix: lines.slice(at - 34, at).join('\n') + '\n' + lines[at].slice(0, 8),
      suffix: lines[at].slice(8) + '\n' + lines.slice(at + 1, at + 6).join('\n') + '\n',
      path: 'src/app.ts',
      startLine: 0,
      snippets,
      copySources: [],
      budgetTokens: PROMPT_TOKENS,
      maxNewTokens: SUGGESTION_TOKENS,
      shaping: false,
      stopTokenIds: [],
    };
  });
}

/** The whole ranking and its first result, ms, over `runs` different contexts (after one unmeasured). */
export async function dependenceSpeed(
  engine: Engine,
  code: string,
  runs: number,
): Promise<{ whole: number[]; first: number[]; spans: number[]; promptTokens: number[]; method: string }> {
  const out = {
    whole: [] as number[],
    first: [] as number[],
    spans: [] as number[],
    promptTokens: [] as number[],
    method: '',
  };
  const reqs = speedRequests(code, runs + 1);
  for (const [i, req] of reqs.entries()) {
    const r = await engine.complete(req);
    const t0 = performance.now();
    let first = NaN;
    const d = await engine.dependence(
      { completion: req, generated: r.tokens },
      { onResult: () => (first = Number.isNaN(first) ? performance.now() - t0 : first) },
    );
    const whole = performance.now() - t0;
    if (i === 0) continue; // the first ranking also probes the graph's mask
    out.whole.push(whole);
    out.first.push(first);
    out.spans.push(d.ranking.length);
    out.promptTokens.push(d.promptTokens);
    out.method = d.method;
  }
  return out;
}

/** The `npm run bench` section (report.sections.dependence): the time to the first result and to the whole ranking. */
export interface DependenceBench {
  promptTokens: number;
  lines: number;
  snippets: number;
  spans: number;
  suggestionTokens: number;
  method: string;
  first: Summary;
  whole: Summary;
}

export async function dependenceBench(modelDir: string, root: string, quick: boolean): Promise<DependenceBench> {
  const engine = await Engine.load(modelDir);
  try {
    const s = await dependenceSpeed(engine, codeText(root), quick ? 3 : 10);
    return {
      promptTokens: summarize(s.promptTokens).median,
      lines: LINES,
      snippets: SNIPPETS,
      spans: summarize(s.spans).median,
      suggestionTokens: SUGGESTION_TOKENS,
      method: s.method,
      first: summarize(s.first),
      whole: summarize(s.whole),
    };
  } finally {
    await engine.dispose();
  }
}

interface CorpusFile {
  path: string;
  lang: string;
  text: string;
}

const DEFINITION: Record<string, RegExp> = {
  python: /^\s*def ([A-Za-z_][A-Za-z0-9_]{7,})\(/,
  typescript: /^\s*(?:export\s+)?(?:async\s+)?function\s+([A-Za-z_$][\w$]{7,})\s*\(/,
  javascript: /^\s*(?:export\s+)?(?:async\s+)?function\s+([A-Za-z_$][\w$]{7,})\s*\(/,
};

/** A case: a host file whose cursor line starts calling a name that only the target snippet defines. */
interface Case {
  request: CompletionRequest;
  name: string;
  target: { path: string; firstLine: number };
}

/** Cases from the test split, in a fixed order: each host file paired with a definition of another file. */
function* corpusCases(files: CorpusFile[]): Generator<Case> {
  const found = files.flatMap((f) =>
    f.text.split('\n').flatMap((line, i) => {
      const m = DEFINITION[f.lang]?.exec(line);
      return m ? [{ file: f, line: i, name: m[1] }] : [];
    }),
  );
  // every 7th definition, the languages taken in turn (the split lists Python first)
  const byLang = Object.keys(DEFINITION).map((lang) => found.filter((d, i) => d.file.lang === lang && i % 7 === 0));
  const defs = Array.from({ length: Math.max(...byLang.map((l) => l.length)) }, (_, i) =>
    byLang.flatMap((l) => (i < l.length ? [l[i]] : [])),
  ).flat();
  for (const [k, def] of defs.entries()) {
    const same = files.filter((f) => f.lang === def.file.lang && f !== def.file);
    const host = same[k % same.length];
    const lines = host.text.split('\n');
    if (!host || lines.length < 60 || host.text.includes(def.name)) continue;
    const at = 40;
    const indent = /^\s*/.exec(lines[at])![0];
    const call = def.file.lang === 'python' ? `${indent}result = ` : `${indent}const result = `;
    const defLines = def.file.text.split('\n');
    const from = Math.max(0, def.line - 2);
    const snippet = {
      path: def.file.path,
      startLine: from,
      endLine: from + 8,
      text: defLines.slice(from, from + 8).join('\n') + '\n',
      score: 1,
    };
    const distractors = [1, 2, 3].map((d) => {
      const f = same[(k + 17 * d) % same.length];
      const fl = f.text.split('\n');
      return { path: f.path, startLine: 0, endLine: 8, text: fl.slice(0, 8).join('\n') + '\n', score: 0.5 };
    });
    if (distractors.some((s) => s.text.includes(def.name) || s.path === snippet.path)) continue;
    yield {
      name: def.name,
      target: { path: snippet.path, firstLine: from + 1 },
      request: {
        prefix: lines.slice(0, at).join('\n') + '\n' + call + def.name.slice(0, 4),
        suffix: '\n' + lines.slice(at + 1, at + 10).join('\n') + '\n',
        path: host.path,
        startLine: 0,
        snippets: [...distractors, snippet],
        copySources: [],
        budgetTokens: PROMPT_TOKENS,
        maxNewTokens: SUGGESTION_TOKENS,
      },
    };
  }
}

/** How often the defining snippet ranks first, over the first `count` cases whose completion copies the name. */
async function accuracy(engine: Engine, corpus: string, count: number): Promise<void> {
  const files = fs
    .readFileSync(corpus, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { package: string; path: string; lang: string; text: string })
    .map((f) => ({ path: `${f.package}/${f.path}`, lang: f.lang, text: f.text }));
  let [tried, kept, first, known] = [0, 0, 0, 0];
  for (const c of corpusCases(files)) {
    if (kept >= count) break;
    tried++;
    const r = await engine.complete(c.request);
    // only cases where the completion really copies the name (the rest of it, after the 4 typed characters)
    if (!r.text.startsWith(c.name.slice(4))) continue;
    // …and would not write it without the snippet (`__init__`, `evaluate`: the model knows those names itself)
    const without = await engine.complete({ ...c.request, snippets: c.request.snippets!.slice(0, -1) });
    if (without.text.startsWith(c.name.slice(4))) {
      known++;
      continue;
    }
    kept++;
    const d = await engine.dependence({
      completion: c.request,
      generated: suggestionTokens(r),
      promptText: r.promptText,
    });
    const top = d.ranking[0];
    const ok =
      top?.span.kind === 'snippet' && top.span.path === c.target.path && top.span.firstLine === c.target.firstLine;
    if (ok) first++;
    process.stdout.write(
      `${ok ? 'ok  ' : 'MISS'} ${c.name} ← ${c.target.path}:${c.target.firstLine}; top: ${top ? `${top.span.kind} ${top.span.path}:${top.span.firstLine} ${top.delta.toFixed(2)}` : 'none'}\n`,
    );
  }
  process.stdout.write(
    `\nThe defining snippet ranked first in ${first} of ${kept} cases (${((100 * first) / Math.max(1, kept)).toFixed(0)}%; target ≥ 90%); ${tried} cases tried: ${tried - kept - known} left out because the completion did not copy the name, ${known} because it wrote the name without the snippet too.\n`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, cases: { type: 'string' }, quick: { type: 'boolean' } },
  });
  const root = path.resolve(__dirname, '..', '..');
  const engine = await Engine.load(path.resolve(values.model ?? embeddedModelDir(__dirname)));
  try {
    const s = await dependenceSpeed(engine, codeText(root), values.quick ? 3 : 10);
    const f = (xs: number[]) =>
      `${summarize(xs).median.toFixed(0)} ms (p95 ${summarize(xs).p95.toFixed(0)}, n=${xs.length})`;
    process.stdout.write(
      `Speed (${summarize(s.promptTokens).median}-token prompts, ${summarize(s.spans).median} spans, ${SUGGESTION_TOKENS} tokens, method ${s.method}): first result ${f(s.first)}; whole ranking ${f(s.whole)}\n\n`,
    );
    const corpus = path.join(root, 'models', 'recipe', 'data', 'corpus', 'test.jsonl');
    if (!fs.existsSync(corpus)) {
      process.stdout.write(
        `No corpus at ${path.relative(root, corpus)} (the recipe builds it: models/recipe/build_all.sh); accuracy not measured.\n`,
      );
      return;
    }
    await accuracy(engine, corpus, Number(values.cases ?? 50));
  } finally {
    await engine.dispose();
  }
}

if (require.main === module)
  main().catch((err) => {
    process.stderr.write(`bench/dependence failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
