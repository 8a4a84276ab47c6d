import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompletionCache } from '../../src/completion/cache';
import { contextWindow, type TextSource } from '../../src/engine/context/cursorContext';
import { AdaptiveDebounce, MAX_DEBOUNCE_MS, MIN_DEBOUNCE_MS, sleep } from '../../src/completion/debounce';
import { enclosingBlock } from '../../src/explain/enclosingBlock';
import { describeStages } from '../../src/engine/runtime/stageClock';

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

describe('completion cache', () => {
  it('answers exact repeats', () => {
    const c = new CompletionCache();
    c.set('def f(', ')', 'x, y');
    assert.equal(c.get('def f(', ')'), 'x, y');
    assert.equal(c.get('def g(', ')'), undefined);
  });

  it('serves the rest of a suggestion the user is typing along', () => {
    const c = new CompletionCache();
    c.set('return ', '\n', 'a + b');
    assert.equal(c.get('return a', '\n'), ' + b');
    assert.equal(c.get('return a +', '\n'), ' b');
    assert.equal(c.get('return x', '\n'), undefined, 'typed something else');
    assert.equal(c.get('return a + b', '\n'), undefined, 'suggestion fully typed');
  });

  it('stays within its capacity (memory stays flat while typing)', () => {
    const c = new CompletionCache(8);
    for (let i = 0; i < 1000; i++) c.set(`p${i}`, '', 'x');
    assert.equal(c.size, 8);
    assert.equal(c.get('p999', ''), 'x');
    assert.equal(c.get('p0', ''), undefined);
  });
});

describe('adaptive debounce', () => {
  it('stays within 100–400 ms and follows typing speed', () => {
    const fast = new AdaptiveDebounce();
    for (let t = 0; t < 1000; t += 40) fast.keystroke(t);
    assert.equal(fast.delay(), MIN_DEBOUNCE_MS);
    const slow = new AdaptiveDebounce();
    for (let t = 0; t < 10000; t += 600) slow.keystroke(t);
    assert.equal(slow.delay(), MAX_DEBOUNCE_MS);
    const medium = new AdaptiveDebounce();
    for (let t = 0; t < 5000; t += 150) medium.keystroke(t);
    assert.equal(medium.delay(), 225);
  });

  it('sleep resolves false as soon as the request is superseded', async () => {
    const ctrl = new AbortController();
    const p = sleep(10_000, ctrl.signal);
    ctrl.abort();
    assert.equal(await p, false);
    assert.equal(await sleep(1, new AbortController().signal), true);
  });
});

describe('context window', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n');
  const doc = source(text);

  it('takes text around the cursor within the budget, never the whole file', () => {
    const line = 1500;
    const offset = doc.lineStartOffset(line) + 3;
    const w = contextWindow(doc, line, offset, 200);
    assert.ok(w.prefix.length <= 200 * 0.85 * 3 && w.prefix.length > 0);
    assert.ok(w.suffix.length <= 200 * 0.15 * 3 + 1);
    assert.ok(w.prefix.endsWith('lin'));
    assert.ok(w.suffix.startsWith('e 1500'));
  });

  it('keeps the same prompt start while the user types on a line', () => {
    const line = 1500;
    const base = doc.lineStartOffset(line);
    const a = contextWindow(doc, line, base + 1, 200);
    const b = contextWindow(doc, line, base + 5, 200);
    assert.equal(text.indexOf(a.prefix), text.indexOf(b.prefix));
  });

  it('handles a 10,000-character line', () => {
    const long = source('x'.repeat(10_000));
    const w = contextWindow(long, 0, 9_000, 200);
    assert.equal(w.prefix.length, Math.floor(200 * 0.85 * 3));
  });
});

describe('enclosing block for Explain', () => {
  const py = [
    'import os',
    '',
    'def add(a, b):',
    '    """Sum."""',
    '    total = a + b',
    '    return total',
    '',
    'print(add(1, 2))',
  ];

  it('finds the function around the cursor', () => {
    assert.deepEqual(enclosingBlock(py, 4), { start: 2, end: 5 });
  });

  it('on a loop inside a function, takes the function', () => {
    const code = [
      '# note',
      '',
      'def total(values):',
      '    result = 0',
      '    for v in values:',
      '        result += v',
      '    return result',
      'x = 1',
    ];
    assert.deepEqual(enclosingBlock(code, 4), { start: 2, end: 6 });
    assert.deepEqual(enclosingBlock(code, 5), { start: 2, end: 6 });
    const ts = ['export function f(xs: number[]) {', '  for (const x of xs) {', '    use(x);', '  }', '}'];
    assert.deepEqual(enclosingBlock(ts, 1), { start: 0, end: 4 });
  });

  it('includes the closing brace of a brace block', () => {
    const ts = ['function f(x) {', '  const y = x * 2;', '  return y;', '}', 'f(1);'];
    assert.deepEqual(enclosingBlock(ts, 1), { start: 0, end: 3 });
  });

  it('at the top of a file with a blank first line, takes the next code', () => {
    assert.deepEqual(enclosingBlock(['', 'x = 1', 'y = 2'], 0), { start: 1, end: 1 });
  });

  it('finds nothing in an empty file', () => {
    assert.equal(enclosingBlock(['', '  ', ''], 0), null);
  });
});

describe("the status bar's line on where a request's time went", () => {
  it('splits the model runs from Glassbox own work and the messages, with the drafts kept', () => {
    const line = describeStages(
      { message_in: 0.3, prompt: 0.2, tokenize: 0.4, run_prefill: 2.5, run_decode: 14, choose: 0.6, reply: 0.5 },
      { drafted: 12, draftsKept: 9 },
    );
    assert.equal(
      line,
      'model 17 ms (prompt 2.5, new tokens 14), Glassbox 1.2 ms, messages 0.8 ms; 9 of 12 drafted tokens kept',
    );
  });

  it('says nothing for a result without model runs (a model server)', () => {
    assert.equal(describeStages({}), undefined);
  });
});
