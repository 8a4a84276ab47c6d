// "What the model did not expect": the surprisal of code under the shipped model (with the copy
// cache) puts a misspelled name first, its tokens give the code back, and a long selection is
// scored in windows without losing a token.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { mostSurprising, type WordSurprisal } from '../../src/engine/explain/surprisal';
import { ROOT } from './helpers';

describe('surprisal of code', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load(path.join(ROOT, 'models', 'glassbox-code'));
  });
  after(() => engine.dispose());

  const CODE =
    'def total(values):\n    result = 0\n    for value in values:\n        result += value\n    return reslut\n';

  it('ranks a misspelled name first, and its tokens give the code back', async () => {
    const r = await engine.surprisal(CODE);
    assert.equal(r.tokens.map((t) => t.text).join(''), CODE);
    assert.equal(r.words[r.top[0]].text.trim(), 'reslut');
    assert.ok(r.top.length <= 5);
    assert.ok(r.tokens.every((t) => Number.isFinite(t.bits) && t.bits >= 0 && t.rank >= 1));
  });

  it('ranks it first with the file before the function as context, as Explain scores it', async () => {
    const r = await engine.surprisal(CODE, "# A function with a slip in it, for the Explain panel's surprisal.\n\n\n");
    assert.equal(r.words[r.top[0]].text.trim(), 'reslut');
  });

  it('ranks a name the code introduces and goes on to use after every other word', () => {
    const w = (text: string, bits: number): WordSurprisal => ({ start: 0, end: 1, text, bits });
    // `values` (introduced, used again) is the most surprising by bits; `reslut` (used once) comes first
    const words = [w('values', 9), w(' ', 0), w('reslut', 7), w(' (', 3), w(' values', 1), w(' x', 2)];
    assert.deepEqual(mostSurprising(words, 5), [2, 3, 5, 4, 0]);
  });

  it('the same name spelled right costs a fraction of the misspelling', async () => {
    const typo = await engine.surprisal(CODE);
    const right = await engine.surprisal(CODE.replace('reslut', 'result'));
    const last = (r: typeof typo, name: string) => [...r.words].reverse().find((w) => w.text.trim() === name)!.bits;
    assert.ok(
      last(right, 'result') < last(typo, 'reslut') / 3,
      `${last(right, 'result').toFixed(1)} vs ${last(typo, 'reslut').toFixed(1)} bits`,
    );
  });

  it('scores code longer than one window, every token once', async () => {
    const long = Array.from({ length: 200 }, (_, i) => `x${i} = compute(x${i - 1 < 0 ? 0 : i - 1})\n`).join('');
    const r = await engine.surprisal(long);
    assert.equal(r.tokens.map((t) => t.text).join(''), long);
    assert.ok(r.tokens.length > 1024, `${r.tokens.length} tokens`);
    assert.ok(
      r.tokens.slice(1).every((t) => t.rank >= 1 && t.bits > 0),
      'every token after the first was scored',
    );
  });
});
