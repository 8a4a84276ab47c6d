/**
 * What repository context and copy-aware decoding cost, before/after in one run on the same model
 * file, with the repository's own src/ as the workspace (files indexed as the extension does):
 *
 *   keystroke             one character typed at the cursor on a warm cache: prompt tokens recomputed,
 *                         without context → with snippets and the path header (they sit before the
 *                         FIM part and do not change while the user types along a line)
 *   Enter                 a new line on a warm cache (the snippet query moves with the line)
 *   decode step           ms per generated token, plain greedy → copy cache + healing + guards
 *                         (target: at most 10% more)
 *   warm completion       a keystroke's whole request (16 new tokens), model alone → the product's
 *                         pipeline (index query, snippets, copy sources, cache, guards), decoded
 *   speculative decoding  the same warm request decoded token by token, each token a run of its
 *                         own → the copy cache's drafts verified several tokens a run; and whether
 *                         the tokens are the same
 *   copy first            that → the extension's request, which copies the line the copy cache's
 *                         match goes on with in one run where there is one (src/engine/completion/copyLine.ts)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompletionRequest } from '../src/engine/completion/completion';
import { answerQueries, cursorQueries, stringSource } from '../src/engine/context/cursorContext';
import { SnippetIndex } from '../src/engine/context/snippetIndex';
import { Engine } from '../src/engine/engine';
import type { OptimisationRow } from './optimisations';
import { summarize, time } from './stats';

interface Cursor {
  path: string;
  text: string;
  line: number;
  offset: number;
}

/** `count` cursors: a few characters into a line, in the larger files of src/ (deterministic). */
function cursors(root: string, count: number): { index: SnippetIndex; cursors: Cursor[] } {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) files.push(p);
    }
  };
  walk(path.join(root, 'src'));
  const index = new SnippetIndex();
  const texts = files.map((f) => ({
    path: path.relative(root, f).split(path.sep).join('/'),
    text: fs.readFileSync(f, 'utf8'),
  }));
  for (const t of texts) index.setFile(t.path, t.text);
  const big = texts.filter((t) => t.text.split('\n').length > 120);
  const out: Cursor[] = [];
  for (let i = 0; i < count; i++) {
    const f = big[(i * 7) % big.length];
    const lines = f.text.split('\n');
    const line = 60 + ((i * 37) % (lines.length - 70));
    const lineStart = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0);
    const indent = lines[line].length - lines[line].trimStart().length;
    out.push({ path: f.path, text: f.text, line, offset: lineStart + Math.min(lines[line].length, indent + 4) });
  }
  return { index, cursors: out };
}

/**
 * plain: the model alone; product: the extension's pipeline; decoding: the product's prompt,
 * cache/healing/guards off; stepwise: the product decoded one token a run (no copied line, no
 * speculative decoding); drafts: the product decoded with speculative decoding, no copied line;
 * copied: the product without the line judge (src/engine/completion/lineJudge.ts).
 */
type Mode = 'plain' | 'product' | 'decoding' | 'stepwise' | 'drafts' | 'copied';
const MODES: Mode[] = ['plain', 'decoding', 'stepwise', 'drafts', 'copied', 'product'];

function request(index: SnippetIndex, c: Cursor, typed: string, mode: Mode, newTokens: number): CompletionRequest {
  const doc = c.text.slice(0, c.offset) + typed + c.text.slice(c.offset);
  const lineShift = typed.split('\n').length - 1;
  const { window: w, queries } = cursorQueries(
    stringSource(doc),
    c.line + lineShift,
    c.offset + typed.length,
    c.path,
    1024,
  );
  const base = {
    prefix: w.prefix,
    suffix: w.suffix,
    budgetTokens: 1024,
    maxNewTokens: newTokens,
    stopTokenIds: [],
    shaping: false,
  };
  if (mode === 'plain') return { ...base, copy: false, heal: false, guards: false };
  const found = answerQueries(index, queries);
  const product = {
    ...base,
    path: c.path,
    startLine: w.startLine,
    snippets: found.snippets,
    copySources: found.copySources,
  };
  if (mode === 'stepwise') return { ...product, speculate: false, copyLine: false, judge: false };
  if (mode === 'drafts') return { ...product, copyLine: false, judge: false };
  if (mode === 'copied') return { ...product, judge: false };
  return mode === 'product' ? product : { ...product, copy: false, heal: false, guards: false };
}

export async function copyDecodingRows(modelDir: string, root: string, quick: boolean): Promise<OptimisationRow[]> {
  const engine = await Engine.load(modelDir);
  try {
    const { index, cursors: list } = cursors(root, quick ? 5 : 20);
    const none = (): Record<Mode, number[]> => ({
      plain: [],
      product: [],
      decoding: [],
      stepwise: [],
      drafts: [],
      copied: [],
    });
    const [recomputed, enter, stepMs, warmMs] = [none(), none(), none(), none()];
    const tokens: Partial<Record<Mode, string>> = {};
    let [same, drafted, kept, copied, judged] = [0, 0, 0, 0, 0];
    for (const [i, c] of list.entries()) {
      // alternate which of the two speculative sides goes first
      for (const mode of i % 2
        ? MODES
        : ([...MODES.slice(0, 2), 'drafts', 'stepwise', 'product', 'copied'] as Mode[])) {
        await engine.complete(request(index, c, '', mode, 1));
        // one character typed, the one the file has there (as bench/latency.ts types): the prefix
        // grows, the suffix stays
        const next = c.text[c.offset] && c.text[c.offset] !== '\n' ? c.text[c.offset] : 'x';
        const [r, ms] = await time(() => engine.complete(request(index, c, next, mode, 16)));
        recomputed[mode].push(r.timings.promptTokens - r.timings.reusedTokens);
        warmMs[mode].push(ms);
        stepMs[mode].push(r.timings.decodeMs / Math.max(1, r.timings.generatedTokens - 1));
        tokens[mode] = r.tokens.join();
        if (mode === 'drafts')
          [drafted, kept] = [drafted + (r.timings.drafted ?? 0), kept + (r.timings.draftsKept ?? 0)];
        if (mode === 'copied' && r.timings.copiedLine) copied++;
        if (mode === 'product' && r.timings.judged) judged++;
        const e = await engine.complete(request(index, c, 'x\n', mode, 1));
        enter[mode].push(e.timings.promptTokens - e.timings.reusedTokens);
      }
      if (tokens.drafts === tokens.stepwise) same++;
    }
    const note =
      'model alone → repository context (snippets, path), copy cache with copy sources, token healing, guards';
    const row = (
      figure: string,
      unit: string,
      v: Record<Mode, number[]>,
      from: Mode = 'plain',
      rowNote = note,
      to: Mode = 'product',
      name = 'Repository context and copy cache',
    ): OptimisationRow => {
      const [before, after] = [summarize(v[from]), summarize(v[to])];
      return {
        name,
        figure,
        unit,
        before,
        after,
        ratio: after.median / Math.max(before.median, 1e-9),
        note: rowNote,
      };
    };
    return [
      row('one keystroke: prompt tokens recomputed', 'tokens', recomputed),
      row('Enter (a new line): prompt tokens recomputed', 'tokens', enter),
      row(
        'decode step, same prompt',
        'ms',
        stepMs,
        'decoding',
        'the same prompt (with context): greedy → copy cache, token healing and guards (one token a run)',
        'stepwise',
      ),
      row('warm completion, 16 new tokens (in-process)', 'ms', warmMs, 'plain', note, 'drafts'),
      row(
        'warm completion, 16 new tokens (in-process)',
        'ms',
        warmMs,
        'stepwise',
        `one token a run → the copy cache's drafts verified up to 4 tokens a run (src/engine/generation/generate.ts): ${kept} of ${drafted} drafted tokens kept; the same tokens in ${same} of ${list.length} requests`,
        'drafts',
        'Speculative decoding',
      ),
      row(
        'warm completion (in-process)',
        'ms',
        warmMs,
        'drafts',
        `decoded (with drafts) → the line the copy cache's match goes on with, run once after the prompt (src/engine/completion/copyLine.ts), where there is one: in ${copied} of ${list.length} requests`,
        'copied',
        'Copy first',
      ),
      row(
        'warm completion (in-process)',
        'ms',
        warmMs,
        'copied',
        `copy first → the line judged among the copy candidates (src/engine/completion/lineJudge.ts: candidates teacher-forced after the prompt, those that cannot win left unscored, common first tokens run once, the copied line's KV reused): the editor's request; a copied candidate chosen over the pipeline's own line in ${judged} of ${list.length} requests`,
        'product',
        'Line judge',
      ),
    ];
  } finally {
    await engine.dispose();
  }
}
