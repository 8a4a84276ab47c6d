// Completion at the edges of real documents, through the same window → engine path the
// extension uses: the very start and end of a file, an empty file, a 50,000-line file, a
// 10,000-character line, and CRLF line endings.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contextWindow, type TextSource } from '../../src/engine/context/cursorContext';
import { Engine } from '../../src/engine/engine';
import { TEST_MODEL } from './helpers';

function source(text: string): TextSource {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return {
    lineCount: starts.length,
    length: text.length,
    lineStartOffset: (l) => starts[l],
    slice: (a, b) => text.slice(a, b),
  };
}

describe('completion at the edges of a document', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load(TEST_MODEL);
  });
  after(() => engine.dispose());

  async function completeAt(text: string, offset: number) {
    const doc = source(text);
    const line = text.slice(0, offset).split('\n').length - 1;
    const w = contextWindow(doc, line, offset, 1024);
    const r = await engine.complete({ ...w, maxNewTokens: 8, budgetTokens: 400 });
    assert.ok(r.prompt.tokens <= 400, 'within the budget');
    return { window: w, result: r };
  }

  it('at the very start of a file', async () => {
    const text = 'def f():\n    return 1\n';
    const { window, result } = await completeAt(text, 0);
    assert.deepEqual(window, { prefix: '', suffix: text, startLine: 0, endLine: 3 }, 'the whole file is the suffix');
    // nothing before the cursor: the prompt is the FIM frame around the file, nothing healed
    assert.equal(result.promptText, `<|fim_prefix|><|fim_suffix|>${text}<|fim_middle|>`);
    assert.equal(result.prompt.prefixTokens, 0);
    assert.equal(result.prompt.suffixTokens, engine.tokenize(text).ids.length);
    assert.equal(result.prompt.healed, '');
    // and the model ran on that prompt (not the empty-prompt early return): tokens came back
    assert.equal(result.timings.promptTokens, result.prompt.tokens);
    assert.ok(result.tokens.length > 0, 'the model generated');
    assert.equal(result.timings.generatedTokens, result.tokens.length);
  });

  it('at the very end of a file', async () => {
    const text = 'def f():\n    return 1\n';
    const { window } = await completeAt(text, text.length);
    assert.equal(window.suffix, '');
  });

  it('in an empty file', async () => {
    const { window } = await completeAt('', 0);
    assert.deepEqual(window, { prefix: '', suffix: '', startLine: 0, endLine: 1 });
  });

  it('in a 50,000-line file, reading only a window around the cursor', async () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `value_${i} = compute(${i})`).join('\n');
    const offset = text.indexOf('value_40000 =');
    const { window, result } = await completeAt(text, offset);
    assert.ok(window.prefix.length < 5_000 && window.suffix.length < 1_000);
    assert.ok(window.prefix.endsWith('value_39999 = compute(39999)\n'));
    assert.ok(result.prompt.tokens > 0);
  });

  it('in a file with 10,000-character lines', async () => {
    const long = 'x = [' + '1, '.repeat(3333) + ']';
    const text = `${long}\n${long}\n${long}\n`;
    const { window } = await completeAt(text, long.length + 1 + 5000);
    assert.ok(window.prefix.length <= 1024 * 0.85 * 3);
  });

  it('in a CRLF file: the window keeps the CRs and the completion carries no stray CR', async () => {
    const text = 'def f():\r\n    a = 1\r\n    return \r\n\r\nprint(f())\r\n';
    const offset = text.indexOf('return ') + 'return '.length;
    const { window, result } = await completeAt(text, offset);
    assert.ok(window.prefix.includes('\r\n'));
    assert.ok(window.suffix.startsWith('\r\n'));
    assert.ok(!/\r(?!\n)/.test(result.text), 'a CR only ever comes before an LF');
  });
});
