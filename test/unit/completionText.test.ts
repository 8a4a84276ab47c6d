import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completionRule, trimAgainstSuffix } from '../../src/engine/completion/completionText';
import { TextStopper } from '../../src/engine/generation/stopping';

/** Feeds text through the rule in small chunks, as tokens would arrive. */
function run(
  linePrefix: string,
  multiline: boolean,
  text: string,
  restOfLine = '',
): { visible: string; streamed: string } {
  const s = new TextStopper([], [completionRule({ linePrefix, multiline, restOfLine })]);
  let streamed = '';
  for (let i = 0; i < text.length && !s.stopped; i += 3) streamed += s.push(text.slice(i, i + 3));
  return { visible: s.visible, streamed };
}

describe('completion shape', () => {
  it('single-line completions end at the newline', () => {
    assert.equal(run('x = foo(', false, 'a, b\nprint(x)').visible, 'a, b');
  });

  it('a completion that starts with a newline is empty in single-line mode', () => {
    assert.equal(run('x = ', false, '\n    y').visible, '');
  });

  it('multi-line completions stop before a line that dedents below the cursor', () => {
    const text = 'total = 0\n    for x in xs:\n        total += x\n    return total\n\ndef other():\n    pass';
    assert.equal(run('    ', true, text).visible, 'total = 0\n    for x in xs:\n        total += x\n    return total');
  });

  it('multi-line completions stop at two blank lines', () => {
    assert.equal(run('', true, 'a = 1\nb = 2\n\n\nc = 3').visible, 'a = 1\nb = 2');
  });

  it('stops before a bracket that closes one opened before the cursor, where the editor closed it', () => {
    assert.equal(run('call(', false, 'a, b) + 1', ')').visible, 'a, b');
    assert.equal(run('if (call(', false, 'a, b)) {', ') {').visible, 'a, b');
    assert.equal(
      trimAgainstSuffix(run('  if (ok) {', true, '\n    go();\n  }\n}\nnext();').visible, '\n}'),
      '\n    go();',
    );
  });

  it('keeps the closing bracket when nothing follows the cursor on its line (train(co -> nfig))', () => {
    assert.equal(run('    train(co', false, 'nfig)\n    eval()').visible, 'nfig)');
    assert.equal(run('x = call(', false, 'a, b) + 1', '  ').visible, 'a, b) + 1');
  });

  it('brackets inside strings do not count', () => {
    assert.equal(run('log(', false, '")", x)', ')').visible, '")", x');
  });

  it('never streams text the rule later cuts', () => {
    const r = run('    ', true, 'a()\n    b()\n\ndef c():\n    pass');
    assert.ok(r.visible.startsWith(r.streamed));
    assert.equal(r.visible, 'a()\n    b()');
  });
});

describe('trimming against the suffix', () => {
  it('drops an overlap with the rest of the line', () => {
    assert.equal(trimAgainstSuffix('a, b)', ')'), 'a, b');
    assert.equal(trimAgainstSuffix('a, b);', ');\n'), 'a, b');
  });

  it('drops lines that repeat the next lines of the file', () => {
    assert.equal(trimAgainstSuffix('x = 1\nreturn x\n', '\nreturn x\n'), 'x = 1');
  });

  it('keeps a completion that does not repeat anything', () => {
    assert.equal(trimAgainstSuffix('a + b', '\n\nprint(1)'), 'a + b');
  });

  it('drops trailing newlines and indentation', () => {
    assert.equal(trimAgainstSuffix('a + b\n    ', ''), 'a + b');
  });
});
