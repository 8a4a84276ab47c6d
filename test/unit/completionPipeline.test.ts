/**
 * The completion pipeline on the shipped model (models/glassbox-code): the prompt's layout with
 * repository snippets and the file's path, where each prompt token came from, token healing, the
 * copy cache's effect and provenance, the confidence gate, and the guards on a case that loops.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MIN_CONFIDENCE } from '../../src/engine/completion/completion';
import type { ContextSnippet } from '../../src/engine/context/snippetIndex';
import { Engine } from '../../src/engine/engine';
import { buildFimPrompt, sourceOfPromptToken } from '../../src/engine/completion/fimPrompt';
import { hasRepeatedNgram } from '../../src/engine/generation/guards';
import type { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { ROOT } from './helpers';

const MODEL = path.join(ROOT, 'models', 'glassbox-code');
const present = fs.existsSync(path.join(MODEL, 'golden.json'));

const snippet = (p: string, startLine: number, text: string): ContextSnippet => ({
  path: p,
  startLine,
  endLine: startLine + text.split('\n').length - 1,
  text,
  score: 1,
});

/** The excerpt a copy cache may copy from: where formatDuration is defined. */
const COPY_SOURCES = [snippet('src/time.ts', 12, 'export function formatDuration(ms: number): string {\n')];
const COPY_PREFIX = 'const elapsed = Date.now() - start;\nconsole.log(formatDu';

describe(
  'completion pipeline on glassbox-code',
  { skip: present ? false : 'models/glassbox-code not built yet' },
  () => {
    let engine: Engine;
    let tok: TextTokenizer;
    before(async () => {
      engine = await Engine.load(MODEL);
      tok = engine.model.tokenizer;
    });
    after(() => engine.dispose());

    it('lays out snippets, the path and the FIM part in the trained order', () => {
      const p = buildFimPrompt(tok, engine.fim, {
        prefix: 'let x = ',
        suffix: ';\n',
        budgetTokens: 400,
        path: 'cur.ts',
        snippets: [snippet('a.ts', 0, 'const a = 1;\n')],
      });
      assert.equal(
        tok.decode(p.ids),
        '<|file_sep|>a.ts\nconst a = 1;\n<|file_sep|>cur.ts\n<|fim_prefix|><|fim_suffix|>;\n<|fim_middle|>let x = ',
      );
      assert.equal(p.snippetsUsed, 1);
      assert.equal(
        p.contextTokens + p.prefixTokens + p.suffixTokens + 3,
        p.ids.length,
        'everything but the three FIM tokens is accounted for',
      );
    });

    it('drops the least relevant snippets (the first ones) when they exceed the context share', () => {
      const snippets = [
        snippet('a.ts', 0, 'const alphaValue = 1;\n'),
        snippet('b.ts', 0, 'const betaValue = 2;\n'),
        snippet('c.ts', 0, 'const gammaValue = 3;\n'),
      ];
      const size = (s: ContextSnippet) => 1 + tok.encode(`${s.path}\n`).length + tok.encode(s.text).length;
      const budgetTokens = 1000;
      const room = size(snippets[1]) + size(snippets[2]); // b and c fit, a does not
      const p = buildFimPrompt(tok, engine.fim, {
        prefix: 'x = ',
        suffix: '',
        budgetTokens,
        snippets,
        contextShare: (room + 0.5) / budgetTokens,
      });
      const text = tok.decode(p.ids);
      assert.equal(p.snippetsUsed, 2);
      assert.ok(!text.includes('alphaValue'), text);
      assert.ok(text.indexOf('betaValue') < text.indexOf('gammaValue'), 'kept in their order, most relevant last');
      assert.ok(p.contextTokens <= Math.floor(budgetTokens * ((room + 0.5) / budgetTokens)));
    });

    it('maps a prompt token back to its file and line', () => {
      const prefix = 'function f() {\n  const x = 1;\n  return ';
      const p = buildFimPrompt(tok, engine.fim, {
        prefix,
        suffix: ';\n}\n',
        budgetTokens: 400,
        path: 'src/cur.ts',
        startLine: 40,
        snippets: [snippet('lib/b.ts', 7, 'const beta = 2;\nconst betaTwo = 3;\n')],
      });
      const seg = (kind: string) => p.segments.find((s) => s.kind === kind)!;
      const snip = seg('snippet');
      assert.deepEqual(sourceOfPromptToken(tok, p, snip.start), { path: 'lib/b.ts', line: 7, kind: 'snippet' });
      assert.deepEqual(sourceOfPromptToken(tok, p, snip.end - 1), { path: 'lib/b.ts', line: 8, kind: 'snippet' });
      const pre = seg('prefix');
      assert.deepEqual(sourceOfPromptToken(tok, p, pre.start), { path: 'src/cur.ts', line: 40, kind: 'prefix' });
      assert.deepEqual(sourceOfPromptToken(tok, p, pre.end - 1), { path: 'src/cur.ts', line: 42, kind: 'prefix' });
      assert.deepEqual(
        sourceOfPromptToken(tok, p, seg('suffix').start),
        { path: 'src/cur.ts', line: 42, kind: 'suffix' },
        'the suffix starts on the cursor line',
      );
      const middle = p.ids.indexOf(tok.tokenId('<|fim_middle|>')!);
      assert.equal(sourceOfPromptToken(tok, p, middle), undefined, 'special tokens come from no file');
    });

    it('heals a half-typed name: the prompt ends before it and the completion must retype it', () => {
      const healed = buildFimPrompt(tok, engine.fim, {
        prefix: 'log(formatDu',
        suffix: '',
        budgetTokens: 400,
        heal: true,
      });
      assert.equal(healed.healText, 'formatDu');
      const cut = buildFimPrompt(tok, engine.fim, { prefix: 'log(', suffix: '', budgetTokens: 400 });
      assert.deepEqual(healed.ids, cut.ids);
      assert.ok(tok.decode(healed.ids).endsWith('<|fim_middle|>log('));
      const plain = buildFimPrompt(tok, engine.fim, { prefix: 'log(formatDu', suffix: '', budgetTokens: 400 });
      assert.equal(plain.healText, '');
      assert.ok(tok.decode(plain.ids).endsWith('log(formatDu'));
    });

    it('completes a name from a copy source and says where the copy came from', async () => {
      const r = await engine.complete({
        prefix: COPY_PREFIX,
        suffix: ');\n',
        path: 'app.ts',
        copySources: COPY_SOURCES,
        maxNewTokens: 16,
      });
      assert.equal(r.prompt.healed, 'formatDu');
      assert.ok(r.text.startsWith('ration'), JSON.stringify(r.text));
      const copied = r.provenance.filter((t) => t.kind === 'cache');
      assert.ok(copied.length > 0, 'some token was copied');
      assert.deepEqual(copied[0].source, { kind: 'excerpt', path: 'src/time.ts', line: 12 });
      assert.ok(copied[0].weight > 0 && copied[0].weight <= 1);
    });

    it('does not let the retyped half name lower the confidence of the suggestion', async () => {
      // The healed tokens are the user's own text, not part of what is shown: the default gate must
      // judge the suggestion by the tokens it shows.
      const r = await engine.complete({
        prefix: COPY_PREFIX,
        suffix: ');\n',
        path: 'app.ts',
        copySources: COPY_SOURCES,
        maxNewTokens: 16,
        minConfidence: DEFAULT_MIN_CONFIDENCE,
      });
      let at = -r.prompt.healed.length;
      const healedOnly = r.steps.findIndex((s) => (at += tok.tokenText(s.id).length) > 0);
      assert.ok(healedOnly >= 0);
      assert.equal(
        r.provenance[0]?.text,
        tok.tokenText(r.steps[healedOnly].id),
        'provenance lists only tokens of the shown text',
      );
      assert.equal(r.provenance[0].token, healedOnly, "each entry names its token's index in `tokens`");
      for (const t of r.provenance) assert.equal(tok.tokenText(r.tokens[t.token]), t.text);
      assert.ok(
        r.text.startsWith('ration'),
        `hidden: ${JSON.stringify(r.hidden)}, confidence ${JSON.stringify(r.confidence)}`,
      );
    });

    it('with copy, healing and guards off gives exactly what generate() gives on the same prompt', async () => {
      const prefix = 'def total(items):\n    s = 0\n    for x in items:\n        ';
      const suffix = '\n    return s\n';
      const maxNewTokens = 12;
      const r = await engine.complete({
        prefix,
        suffix,
        path: 'a.py',
        copy: false,
        heal: false,
        guards: false,
        shaping: false,
        maxNewTokens,
        budgetTokens: 512,
        stopTokenIds: [],
      });
      const ids = buildFimPrompt(tok, engine.fim, { prefix, suffix, path: 'a.py', budgetTokens: 512 }).ids;
      const g = await engine.generate(ids, { maxNewTokens, stopTokenIds: [] });
      assert.equal(r.tokens.length, maxNewTokens);
      assert.deepEqual(r.tokens, g.tokens);
      assert.equal(r.text, g.text);
      assert.ok(
        r.steps.every((s) => !s.source || (s.source.kind === 'model' && s.source.weight === 0)),
        'no cache weight anywhere',
      );
    });

    it('hides a suggestion below minConfidence and says so', async () => {
      const r = await engine.complete({
        prefix: COPY_PREFIX,
        suffix: ');\n',
        path: 'app.ts',
        copySources: COPY_SOURCES,
        maxNewTokens: 16,
        minConfidence: 0.999999,
      });
      assert.equal(r.text, '');
      assert.equal(r.hidden?.reason, 'confidence');
      assert.ok(r.hidden.text.startsWith('ration'), 'what was hidden');
      assert.ok(r.confidence.mean < 0.999999);
    });

    it('completes `return ` in a small function with one line that does not loop', async () => {
      // No confidence gate here (the next test has it): the model's own line, shaped for the cursor.
      const prefix = 'export function add(a: number, b: number): number {\n  return ';
      const r = await engine.complete({ prefix, suffix: '\n}\n', path: 'math.ts' });
      const shown = JSON.stringify(r.text);
      assert.equal(r.hidden, undefined, `nothing hidden: ${JSON.stringify(r.hidden)}`);
      assert.ok(r.text.trim().length > 0, `a completion, not nothing: ${shown}`);
      assert.ok(!r.text.includes('\n'), `a single line: ${shown}`);
      assert.doesNotMatch(r.text, /^\s/, `it goes on after the typed space of "return ", not with another: ${shown}`);
      assert.ok(['stop_string', 'eos'].includes(r.stopReason), `it ended by itself, not at the cap: ${r.stopReason}`);
      assert.equal(hasRepeatedNgram(tok.encode(r.text)), false, shown);
      assert.equal(hasRepeatedNgram(r.tokens), false, 'the generated tokens do not loop');
    });

    it("verifies the copy cache's drafts several tokens a run, with the same output as one token a run", async () => {
      // code that repeats itself, as code does: the second method copies most of the first
      const prefix = [
        'export class Totals {',
        '  private readonly items: number[] = [];',
        '  sumOfSquares(): number {',
        '    let total = 0;',
        '    for (const item of this.items) total += item * item;',
        '    return total;',
        '  }',
        '  sumOfCubes(): number {',
        '    let total = 0;',
        '    for (const item of this.',
      ].join('\n');
      let drafted = 0;
      let kept = 0;
      for (const [prefixText, suffix] of [
        [prefix, '\n  }\n}\n'],
        [prefix.slice(0, prefix.lastIndexOf('let total')), '\n}\n'],
        [COPY_PREFIX, ');\n'],
      ]) {
        const req = {
          prefix: prefixText,
          suffix,
          path: 'totals.ts',
          copySources: COPY_SOURCES,
          maxNewTokens: 32,
          shaping: false,
          stopTokenIds: [],
        };
        const one = await engine.complete({ ...req, speculate: false, reuseCache: false });
        const many = await engine.complete({ ...req, reuseCache: false });
        assert.deepEqual(many.tokens, one.tokens, JSON.stringify(one.text));
        assert.equal(one.timings.drafted, undefined, 'no drafts when speculation is off');
        drafted += many.timings.drafted ?? 0;
        kept += many.timings.draftsKept ?? 0;
      }
      assert.ok(kept > 0, `drafts were verified and kept (${kept} of ${drafted})`);
    });

    it('does not copy the signature into the `return ` of that function', async () => {
      // A return expression never holds a parameter's type annotation: `(a: number, b: number): number {`
      // after `return ` is the copy cache repeating the line above, and it must not look confident.
      const prefix = 'export function add(a: number, b: number): number {\n  return ';
      const r = await engine.complete({
        prefix,
        suffix: '\n}\n',
        path: 'math.ts',
        minConfidence: DEFAULT_MIN_CONFIDENCE,
      });
      assert.ok(
        !r.text.includes('a: number'),
        `shown: ${JSON.stringify(r.text)}, confidence ${r.confidence.mean.toFixed(2)}`,
      );
    });
  },
);
