/**
 * Repository-level training rows for glassbox-code, laid out by the extension's own prompt builder,
 * so the model learns to copy across files the way it will be asked to:
 *
 *   completion examples  a cursor in a file of a package, its window (cursorContext.ts), snippets
 *                        from the package's other files and from the file outside the window
 *                        (snippetIndex.ts), the prompt of fimPrompt.ts with token healing, then the
 *                        healed text + the middle + <|endoftext|>
 *   repository sequences the package's files, each as <|file_sep|>path\n + text (StarCoder2's and
 *                        Qwen2.5-Coder's repository-level format), filling each row's tail
 *
 * Middles: the rest of a line after a cut inside it; one to three lines after Enter (the prefix ends
 * with the line's indentation); a random span of up to 200 characters. Each row holds whole
 * completion examples, then the start of a repository sequence, and nothing is padded.
 *
 *   npm run compile && node out/models/recipe/repo_examples.js --split train --rows 24000
 *
 * Reads models/recipe/data/corpus/{split}.jsonl and data/tokenizer/ (the shipped model's tokenizer).
 * Writes data/repo/{split}.bin: uint16 rows of seq_len + 1 tokens; data/repo/{split}.json: counts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { contextWindow, snippetChars, snippetQuery, stringSource } from '../../src/engine/context/cursorContext';
import { SnippetIndex } from '../../src/engine/context/snippetIndex';
import { detectFimTemplate } from '../../src/engine/completion/fim';
import { buildFimPrompt, DEFAULT_CONTEXT_SHARE } from '../../src/engine/completion/fimPrompt';
import { seededRandom } from '../../src/engine/generation/sampling';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';

interface CorpusFile {
  package: string;
  path: string;
  lang: string;
  text: string;
}

const RECIPE = path.resolve(__dirname, '..', '..', '..', 'models', 'recipe');
const EOT = '<|endoftext|>';
const FILE_SEP = '<|file_sep|>';
/** One row per this many characters of a package, per pass (about one pass over the split's text per 22k rows). */
const ROW_CHARS = 3000;

function main(): void {
  const { values } = parseArgs({
    options: {
      split: { type: 'string', default: 'train' },
      rows: { type: 'string', default: '24000' },
      'seq-len': { type: 'string', default: '1024' },
      seed: { type: 'string', default: '1' },
      data: { type: 'string', default: path.join(RECIPE, 'data') },
    },
  });
  const split = values.split!;
  const rowsWanted = Number(values.rows);
  const T = Number(values['seq-len']) + 1;
  const data = values.data!;
  const random = seededRandom(Number(values.seed));
  const tok = TextTokenizer.load({
    tokenizerPath: path.join(data, 'tokenizer', 'tokenizer.json'),
    tokenizerConfigPath: path.join(data, 'tokenizer', 'tokenizer_config.json'),
  });
  const fim = detectFimTemplate(tok);
  if (fim.family !== 'glassbox' || fim.fileSep === undefined)
    throw new Error('data/tokenizer is not a Glassbox tokenizer');
  const eot = tok.tokenId(EOT)!;
  const fileSep = tok.tokenId(FILE_SEP)!;

  const files = fs
    .readFileSync(path.join(data, 'corpus', `${split}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CorpusFile);
  const packages = new Map<string, CorpusFile[]>();
  for (const f of files) packages.set(f.package, [...(packages.get(f.package) ?? []), f]);
  const names = [...packages.keys()];

  const out = fs.openSync(path.join(data, 'repo', `${split}.bin`), 'w');
  const counts = {
    rows: 0,
    examples: 0,
    kinds: { line: 0, block: 0, span: 0 } as Record<string, number>,
    exampleTokens: 0,
    sequenceTokens: 0,
    snippets: 0,
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  while (counts.rows < rowsWanted) {
    // packages in a new random order each pass; each gets examples in proportion to its size
    for (const name of shuffled(names, random)) {
      if (counts.rows >= rowsWanted) break;
      const pkg = packages.get(name)!;
      const index = new SnippetIndex();
      for (const f of pkg) index.setFile(f.path, f.text);
      const chars = pkg.reduce((n, f) => n + f.text.length, 0);
      const rows = Math.max(1, Math.round(chars / ROW_CHARS));
      const sequence = repositorySequence(pkg, random, tok, fileSep);
      let seqAt = 0;
      for (let r = 0; r < rows && counts.rows < rowsWanted; r++) {
        const row: number[] = [];
        for (let tries = 0; tries < 8 && row.length < T - 64; tries++) {
          const f = pickWeighted(pkg, random);
          const ex = completionExample(f, index, T - row.length, random, tok, fim, eot, pick);
          if (!ex) continue;
          row.push(...ex.ids);
          counts.examples++;
          counts.kinds[ex.kind]++;
          counts.exampleTokens += ex.ids.length;
          counts.snippets += ex.snippets;
        }
        const fill = T - row.length;
        const tail = sequence.slice(seqAt, seqAt + fill);
        seqAt = seqAt + fill >= sequence.length ? 0 : seqAt + fill;
        row.push(...tail);
        while (row.length < T) row.push(eot); // a sequence shorter than the gap (tiny packages)
        counts.sequenceTokens += tail.length;
        fs.writeSync(out, Buffer.from(new Uint16Array(row).buffer));
        counts.rows++;
        if (counts.rows % 1000 === 0) console.error(`${counts.rows}/${rowsWanted} rows`);
      }
    }
  }
  fs.closeSync(out);
  fs.writeFileSync(
    path.join(data, 'repo', `${split}.json`),
    JSON.stringify(
      { split, seq_len: T - 1, seed: Number(values.seed), context_share: DEFAULT_CONTEXT_SHARE, ...counts },
      null,
      1,
    ) + '\n',
  );
  console.log(JSON.stringify(counts));
}

/** One completion example that fits in `room` tokens: prompt + healed text + middle + <|endoftext|>. */
function completionExample(
  f: CorpusFile,
  index: SnippetIndex,
  room: number,
  random: () => number,
  tok: TextTokenizer,
  fim: ReturnType<typeof detectFimTemplate>,
  eot: number,
  pick: <T>(xs: readonly T[]) => T,
) {
  const text = f.text;
  const lines = text.split('\n');
  const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => l.trim().length >= 4);
  if (candidates.length === 0) return null;
  const [line, n] = pick(candidates);
  const lineStart = lines.slice(0, n).reduce((a, l) => a + l.length + 1, 0);
  const indent = line.length - line.trimStart().length;
  const body = line.trimEnd().length;
  const r = random();
  let kind: 'line' | 'block' | 'span';
  let from: number;
  let to: number;
  if (r < 0.45 && body - indent >= 2) {
    kind = 'line';
    from = lineStart + indent + 1 + Math.floor(random() * (body - indent - 1));
    to = lineStart + body;
  } else if (r < 0.7) {
    kind = 'block';
    from = lineStart + indent;
    const k = 1 + Math.floor(random() * 3);
    const end = lines.slice(n, n + k);
    to = lineStart + end.join('\n').trimEnd().length;
  } else {
    kind = 'span';
    from = lineStart + Math.floor(random() * (line.length + 1));
    to = Math.min(text.length, from + Math.floor(random() * 200));
  }
  if (to <= from) return null;
  const prefix = text.slice(0, from);
  const middle = text.slice(from, to);
  const suffix = text.slice(to);
  const doc = stringSource(prefix + suffix);
  const budget = Math.min(1024, room - 48);
  if (budget < 128) return null;
  const w = contextWindow(doc, n, prefix.length, budget);
  const snippets = index.query(snippetQuery(w, f.path, snippetChars(budget, DEFAULT_CONTEXT_SHARE)));
  const prompt = buildFimPrompt(tok, fim, {
    prefix: w.prefix,
    suffix: w.suffix,
    budgetTokens: budget,
    path: f.path,
    snippets,
    heal: true,
  });
  const target = [...tok.encode(prompt.healText + middle), eot];
  const ids = [...prompt.ids, ...target];
  if (ids.length > room) return null;
  return { ids, kind, snippets: prompt.snippetsUsed };
}

/** The package's files in random order, each as <|file_sep|>path\n + text. */
function repositorySequence(pkg: CorpusFile[], random: () => number, tok: TextTokenizer, fileSep: number): number[] {
  const out: number[] = [];
  for (const f of shuffled(pkg, random)) {
    out.push(fileSep, ...tok.encode(`${f.path}\n${f.text}`));
    if (out.length > 200_000) break;
  }
  return out;
}

function pickWeighted(pkg: CorpusFile[], random: () => number): CorpusFile {
  const total = pkg.reduce((n, f) => n + f.text.length, 0);
  let r = random() * total;
  for (const f of pkg) if ((r -= f.text.length) < 0) return f;
  return pkg[pkg.length - 1];
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

main();
