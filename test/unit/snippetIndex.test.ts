/**
 * Repository context: which chunks of the workspace reach the prompt (snippetIndex.ts) and which
 * earlier lines the copy cache may copy from (copySources.ts). Each case is what a user sees in the
 * suggestion: a helper from another file, never the lines already in the prompt, never Python in a
 * TypeScript file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCopySources } from '../../src/engine/context/copySources';
import { identifierSet, partialIdentifier } from '../../src/engine/context/identifiers';
import { DEFAULT_INDEX_LIMITS, languageFamily, SnippetIndex } from '../../src/engine/context/snippetIndex';

/** A query with the defaults the tests do not vary. */
const q = (
  path: string,
  text: string,
  extra: { maxChars?: number; exclude?: { startLine: number; endLine: number } } = {},
) => ({ path, text, maxChars: 4000, ...extra });

/** Numbered filler lines whose names are unique to `tag`, so they match nothing by accident. */
const filler = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => `const ${tag}Filler${i} = ${i};\n`).join('');

describe('identifiers', () => {
  it('keeps names, drops keywords and one-letter names', () => {
    assert.deepEqual([...identifierSet('export function loadConfig(path: string) { return self.x + a; }')].sort(), [
      'loadConfig',
      'path',
    ]);
    assert.equal(partialIdentifier('  log(formatDu'), 'formatDu');
    assert.equal(partialIdentifier('  x = '), '');
  });
});

describe('snippet index queries', () => {
  it('ranks by shared identifiers and returns the best chunk last, nearest the cursor', () => {
    const index = new SnippetIndex();
    // a.ts shares all five query names, b.ts two, c.ts one, d.ts none
    index.setFile(
      'a.ts',
      'function loadConfig(configPath) {\n  const settings = parseJson(readFileSync(configPath));\n}\n',
    );
    index.setFile('b.ts', 'const settings = defaults;\nexport const loadConfig = makeLoader(cacheDir, retries);\n');
    index.setFile('c.ts', 'const settings = alpha + beta + gamma + delta + epsilon;\n');
    index.setFile('d.ts', 'const unrelatedThing = somethingElse(other);\n');
    const got = index.query(q('app.ts', 'const settings = loadConfig(configPath);\nparseJson(readFileSync(x));\n'));
    assert.deepEqual(
      got.map((s) => s.path),
      ['c.ts', 'b.ts', 'a.ts'],
    );
    for (let i = 1; i < got.length; i++) assert.ok(got[i].score >= got[i - 1].score, 'ascending scores');
    assert.equal(
      got[2].text,
      'function loadConfig(configPath) {\n  const settings = parseJson(readFileSync(configPath));\n}\n',
    );
    assert.deepEqual([got[2].startLine, got[2].endLine], [0, 3]);
  });

  it('never returns more snippet text than maxChars, and skips a chunk too big for what is left', () => {
    const index = new SnippetIndex();
    // the best match is long; a weaker, short one still fits a small budget
    index.setFile(
      'big.ts',
      `function renderTable(rows, columns) {\n${'  renderTable(rows, columns); // padding padding padding\n'.repeat(8)}}\n`,
    );
    index.setFile('small.ts', 'renderTable(rows, other);\n');
    const query = 'renderTable(rows, columns);\n';
    const all = index.query(q('app.ts', query));
    assert.deepEqual(
      all.map((s) => s.path),
      ['small.ts', 'big.ts'],
    );
    const small = index.query(q('app.ts', query, { maxChars: 100 }));
    assert.deepEqual(
      small.map((s) => s.path),
      ['small.ts'],
    );
    for (const maxChars of [0, 10, 30, 200, 400, 4000]) {
      const got = index.query(q('app.ts', query, { maxChars }));
      assert.ok(got.reduce((n, s) => n + s.text.length, 0) <= maxChars, `maxChars ${maxChars}`);
    }
  });

  it("never returns the current file's lines that are already in the prompt", () => {
    const index = new SnippetIndex();
    // 40 lines, every one using the query's names: chunks [0,10) [5,15) ... [30,40)
    const lines = Array.from({ length: 40 }, (_, i) => `sendEmail(recipient, subject${i});\n`).join('');
    index.setFile('cur.ts', lines);
    const got = index.query(
      q('cur.ts', 'sendEmail(recipient, subject);\n', { exclude: { startLine: 10, endLine: 30 } }),
    );
    assert.ok(got.length > 0, 'chunks outside the window still count');
    for (const s of got)
      assert.ok(s.endLine <= 10 || s.startLine >= 30, `snippet [${s.startLine}, ${s.endLine}) overlaps the window`);
  });

  it('keeps to the language family: a .py chunk never serves a .ts file, a .js one does', () => {
    assert.equal(languageFamily('src/a.TSX'), 'js');
    assert.equal(languageFamily('x.pyi'), 'python');
    const index = new SnippetIndex();
    const code = 'result = compute_totals(orders, discounts)\n';
    index.setFile('lib/totals.py', code);
    index.setFile('lib/totals.js', code);
    assert.deepEqual(
      index.query(q('app.ts', code)).map((s) => s.path),
      ['lib/totals.js'],
    );
    assert.deepEqual(
      index.query(q('app.py', code)).map((s) => s.path),
      ['lib/totals.py'],
    );
  });

  it('forgets a deleted file', () => {
    const index = new SnippetIndex();
    index.setFile('gone.ts', 'export function uniqueHelper(argOne) { return argOne; }\n');
    index.setFile('kept.ts', 'export const keptValue = uniqueHelper(1);\n');
    const chars = index.charCount;
    index.deleteFile('gone.ts');
    assert.equal(index.has('gone.ts'), false);
    assert.equal(index.text('gone.ts'), undefined);
    assert.equal(index.charCount, chars - 'export function uniqueHelper(argOne) { return argOne; }\n'.length);
    assert.deepEqual(
      index.query(q('app.ts', 'uniqueHelper(argOne);\n')).map((s) => s.path),
      ['kept.ts'],
    );
    assert.deepEqual(index.filesWith('uniqueHelper', 'js', 10), ['kept.ts']);
  });

  it('does not treat the names of a file the user keeps editing as common', () => {
    // The extension sends an open editor's text after each pause in typing; each setFile replaces
    // the file. Its names must stay as rare as they are, or retrieval stops finding the file.
    const index = new SnippetIndex();
    for (let i = 0; i < 60; i++)
      index.setFile(
        'edited.ts',
        `export function computeInvoiceTotal(lineItems) {\n  return lineItems.length + ${i};\n}\n`,
      );
    index.setFile('noise.ts', filler('noise', 5));
    const got = index.query(q('app.ts', 'const total = computeInvoiceTotal(lineItems);\n'));
    assert.deepEqual(
      got.map((s) => s.path),
      ['edited.ts'],
    );
    assert.equal(index.frequency('computeInvoiceTotal'), 1, 'one live chunk has the name');
  });

  it('refuses files past maxFiles and maxTotalChars (setFile returns false), and accepts again after a delete', () => {
    const byCount = new SnippetIndex({ ...DEFAULT_INDEX_LIMITS, maxFiles: 2 });
    assert.equal(byCount.setFile('a.ts', 'const alphaName = 1;\n'), true);
    assert.equal(byCount.setFile('b.ts', 'const betaName = 2;\n'), true);
    assert.equal(byCount.setFile('c.ts', 'const gammaName = 3;\n'), false);
    assert.equal(byCount.has('c.ts'), false);
    assert.deepEqual(byCount.query(q('app.ts', 'gammaName;\n')), []);
    assert.equal(byCount.setFile('a.ts', 'const alphaName = 10;\n'), true, 'replacing a held file is not a new file');
    byCount.deleteFile('b.ts');
    assert.equal(byCount.setFile('c.ts', 'const gammaName = 3;\n'), true);

    const byChars = new SnippetIndex({ ...DEFAULT_INDEX_LIMITS, maxTotalChars: 50 });
    assert.equal(byChars.setFile('a.ts', 'x'.repeat(30) + '\n'), true);
    assert.equal(byChars.setFile('b.ts', 'y'.repeat(30) + '\n'), false);
    assert.equal(byChars.fileCount, 1);
    assert.ok(byChars.charCount <= 50);
  });

  it('never holds more than maxFileChars of one file, cut at a line end', () => {
    const index = new SnippetIndex({ ...DEFAULT_INDEX_LIMITS, maxFileChars: 10 });
    // the 11th character is a newline: the held text is the first line alone (10 characters)
    index.setFile('a.ts', 'abcdefghij\nklmnop\n');
    const held = index.text('a.ts')!;
    assert.ok(held.length <= 10, `held ${JSON.stringify(held)}`);
  });

  it('indexes a 50,000-line file up to maxFileChars and still answers a query on it', () => {
    const index = new SnippetIndex();
    const text = Array.from({ length: 50_000 }, (_, i) => `export const entry${i} = lookupEntry(table, ${i});\n`).join(
      '',
    );
    assert.ok(text.length > DEFAULT_INDEX_LIMITS.maxFileChars * 4);
    assert.equal(index.setFile('huge.ts', text), true);
    const held = index.text('huge.ts')!;
    assert.ok(
      held.length <= DEFAULT_INDEX_LIMITS.maxFileChars && held.length > DEFAULT_INDEX_LIMITS.maxFileChars - 100,
    );
    assert.ok(held.endsWith('\n') && text.startsWith(held));
    assert.equal(index.charCount, held.length);
    const got = index.query(
      q('huge.ts', 'const entry = lookupEntry(table, 7);\n', { exclude: { startLine: 49_990, endLine: 50_000 } }),
    );
    assert.ok(Array.isArray(got));
    assert.ok(got.every((s) => s.path === 'huge.ts' && s.endLine <= held.split('\n').length));
  });
});

describe('copy sources', () => {
  const cur = [
    'import { computeTotal } from "./money";', // 0
    '',
    'const grandTotal = computeTotal(items, tax);', // 2: the earlier occurrence
    'console.log(grandTotal);',
    '',
    'function other() {',
    '  return 1;',
    '}',
    'const grandTotal = computeTotal(', // 8: the cursor is at the end of this line
    '',
  ].join('\n');
  const before = cur.slice(0, cur.indexOf('computeTotal(', cur.indexOf('function other')) + 'computeTo'.length);

  it("finds the earlier occurrence in the same file, never the cursor's own line", () => {
    const index = new SnippetIndex();
    index.setFile('cur.ts', cur);
    const got = findCopySources(index, {
      path: 'cur.ts',
      before,
      exclude: { startLine: 8, endLine: 9 },
      maxSources: 8,
    });
    assert.ok(got.length > 0);
    assert.equal(got[0].path, 'cur.ts');
    assert.equal(got[0].startLine, 1, 'one line before the match on line 2');
    assert.ok(got[0].text.includes('const grandTotal = computeTotal(items, tax);'));
    // excerpts start one line above their match: the cursor's line 8 would start at 7
    assert.ok(
      got.every((s) => !(s.path === 'cur.ts' && s.startLine === 7)),
      JSON.stringify(got.map((s) => s.startLine)),
    );
  });

  it('finds occurrences in another file of the family, longest match first, and no other family', () => {
    const index = new SnippetIndex();
    index.setFile('cur.ts', 'const grandTotal = computeTo\n');
    index.setFile('short.ts', 'x = computeTotal(a);\n'); // matches " = computeTo" only
    index.setFile('long.ts', 'export const grandTotal = computeTotal(cart, vat);\n'); // matches " grandTotal = computeTo"
    index.setFile('same.py', 'const grandTotal = computeTotal(py)\n');
    const got = findCopySources(index, {
      path: 'cur.ts',
      before: 'const grandTotal = computeTo',
      exclude: { startLine: 0, endLine: 1 },
      maxSources: 8,
      related: ['short.ts'],
    });
    assert.deepEqual(
      got.map((s) => s.path),
      ['long.ts', 'short.ts'],
    );
    assert.ok(got[0].score > got[1].score);
    assert.equal(got[0].startLine, 0);
    assert.ok(got[0].text.startsWith('export const grandTotal = computeTotal(cart, vat);\n'));
  });

  it('searches the files that define the name being typed even when the text before shares nothing', () => {
    // typing `formatDu`: the prompt's snippets stay put (KV reuse), the copy cache gets the definition
    const index = new SnippetIndex();
    index.setFile('util.ts', 'export function formatDuration(ms: number): string {\n  return `${ms / 1000}s`;\n}\n');
    index.setFile('other.ts', filler('other', 5));
    index.setFile('util.py', 'def formatDuration(ms):\n    return ms\n');
    assert.deepEqual(index.filesWithPrefix('formatDu', 'js', 16), ['util.ts']);
    assert.deepEqual(index.filesWithPrefix('fo', 'js', 16), [], 'two letters say too little to look up');
    assert.deepEqual(index.filesWithPrefix('formatDuration', 'js', 16), [], 'nothing longer to complete');
    const before = 'const started = clock();\nlog(formatDu';
    const query = { path: 'app.ts', before, exclude: { startLine: 1, endLine: 2 }, maxSources: 4 };
    assert.deepEqual(findCopySources(index, query), [], 'nothing found without the partial name');
    const got = findCopySources(index, { ...query, partial: partialIdentifier(before) });
    assert.deepEqual(
      got.map((s) => s.path),
      ['util.ts'],
    );
    assert.ok(got[0].text.includes('export function formatDuration('));
  });

  it('returns nothing for a needle too short to mean anything', () => {
    const index = new SnippetIndex();
    index.setFile('cur.ts', 'a = b;\na = b;\n');
    assert.deepEqual(
      findCopySources(index, { path: 'cur.ts', before: '  ', exclude: { startLine: 1, endLine: 2 }, maxSources: 4 }),
      [],
    );
  });
});
