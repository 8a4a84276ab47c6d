/**
 * The guards that keep junk off the screen (guards.ts): a looping completion is cut exactly before
 * the loop's third turn, an absurdly long line is dropped, a suggestion that only retypes what
 * follows the cursor is hidden, and the confidence figure is the geometric mean it claims to be.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  confidenceOf,
  declarationInExpressionCut,
  hasRepeatedNgram,
  lineLengthCut,
  MAX_LINE_CHARS,
  onlyRetypesSuffix,
  RepetitionGuard,
  REPEAT_N,
} from '../../src/engine/generation/guards';

/** Pushes ids until the guard says stop; the index of that push and the guard's keep. */
function runGuard(ids: number[]): { stoppedAt: number; keep: number } {
  const g = new RepetitionGuard();
  const stoppedAt = ids.findIndex((id) => g.push(id));
  return { stoppedAt, keep: g.keep };
}

describe('repetition guard', () => {
  it('stops at the token that completes the third occurrence of a trigram and keeps what came before it', () => {
    // `b: number, b: number, b: number` as ids: 1 2 3 | 1 2 3 | 1 2 3
    const { stoppedAt, keep } = runGuard([1, 2, 3, 1, 2, 3, 1, 2, 3, 4]);
    assert.equal(stoppedAt, 8, 'the third "1 2 3" is complete at index 8');
    assert.equal(keep, 6, 'the output keeps two turns of the loop: 1 2 3 1 2 3');
  });

  it('counts overlapping occurrences: a run of one token is cut after two tokens', () => {
    const { stoppedAt, keep } = runGuard([7, 7, 7, 7, 7, 7]);
    assert.equal(stoppedAt, 4);
    assert.equal(keep, 2);
  });

  it('lets two occurrences through and ignores repeated bigrams', () => {
    assert.deepEqual(runGuard([1, 2, 3, 9, 1, 2, 3, 8]), { stoppedAt: -1, keep: -1 });
    assert.deepEqual(
      runGuard([1, 2, 5, 1, 2, 6, 1, 2, 7]),
      { stoppedAt: -1, keep: -1 },
      '"1 2" thrice, but no trigram thrice',
    );
  });

  it('tells trigrams apart for any vocabulary size (ids past 2^17 and mixed with small ones)', () => {
    const big = 200_000; // a large vocabulary's ids
    assert.deepEqual(runGuard([big, big + 1, 5, big, big + 1, 5, big, big + 1, 5]), { stoppedAt: 8, keep: 6 });
    assert.deepEqual(runGuard([0, 1, big, 0, 1, big + 1, 0, 1, big + 2]), { stoppedAt: -1, keep: -1 });
    assert.deepEqual(
      runGuard([1, 2, 131_071, 1, 2, 131_071, 1, 2, 131_071]),
      { stoppedAt: 8, keep: 6 },
      'the largest id kept as a number',
    );
    // packed as 17-bit digits, an id of 2^17 would carry into the next: [1, 0, 2^17] would read as [1, 1, 0]
    assert.deepEqual(
      runGuard([1, 0, 131_072, 9, 1, 1, 0, 9, 1, 1, 0]),
      { stoppedAt: -1, keep: -1 },
      '[1, 0, 2^17] once and [1, 1, 0] twice are not three of one trigram',
    );
  });

  it('hasRepeatedNgram says whether any n-gram (n ≥ 3) occurs three times', () => {
    assert.equal(REPEAT_N, 3);
    assert.equal(hasRepeatedNgram([1, 2, 3, 4, 1, 2, 3, 5, 1, 2, 3]), true);
    assert.equal(
      hasRepeatedNgram([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]),
      true,
      'a 6-gram thrice contains a trigram thrice',
    );
    assert.equal(hasRepeatedNgram([1, 2, 1, 2, 1, 2]), false, 'each trigram of an alternation occurs twice');
    assert.equal(hasRepeatedNgram([1, 2, 1, 2, 1, 2, 1]), true, 'a third "1 2 1"');
    assert.equal(hasRepeatedNgram([1, 2, 3, 1, 2, 3]), false);
    assert.equal(hasRepeatedNgram([]), false);
    assert.equal(hasRepeatedNgram([5, 5]), false);
  });
});

describe('line length cut', () => {
  it('drops the whole completion when its first line, with what is left of the cursor, is too long', () => {
    const prefix = '    const message = ';
    const text = 'x'.repeat(MAX_LINE_CHARS - prefix.length + 1) + '\nnext';
    assert.equal(lineLengthCut(text, prefix), 0);
    // the same text after a short prefix is fine up to the limit
    assert.equal(lineLengthCut('x'.repeat(MAX_LINE_CHARS - prefix.length), prefix), -1, 'exactly at the limit');
  });

  it('cuts before the newline that starts a later long line', () => {
    const text = 'a + b;\nreturn c;\n' + 'y'.repeat(MAX_LINE_CHARS + 1) + '\nmore';
    const cut = lineLengthCut(text, '  return ');
    assert.equal(text.slice(0, cut), 'a + b;\nreturn c;');
    assert.equal(cut, text.indexOf('\nyyy'));
  });

  it('keeps short text whole', () => {
    assert.equal(lineLengthCut('a + b;\n}\n', '  return '), -1);
    assert.equal(lineLengthCut('', 'x'.repeat(MAX_LINE_CHARS)), -1, 'an empty completion adds nothing to a long line');
  });
});

describe('retype guard', () => {
  it('hides a completion that only types what already follows the cursor', () => {
    assert.equal(onlyRetypesSuffix(')', ')\n'), true);
    assert.equal(onlyRetypesSuffix(');', ');\n}\n'), true);
    // the next line, modulo whitespace
    assert.equal(onlyRetypesSuffix('\n  return a + b;', '\n    return a+b;\n}\n'), true);
  });

  it('lets new text through', () => {
    assert.equal(onlyRetypesSuffix('a, b)', ')\n'), false);
    assert.equal(onlyRetypesSuffix('return a - b;', '\n  return a + b;\n'), false);
    assert.equal(onlyRetypesSuffix('x', ''), false);
    assert.equal(onlyRetypesSuffix('  \n', ')\n'), false, 'whitespace only is not a retype');
  });
});

describe('confidence', () => {
  it('is the geometric mean and the least probability', () => {
    const c = confidenceOf([1, 0.25]);
    assert.ok(Math.abs(c.mean - 0.5) < 1e-12);
    assert.equal(c.min, 0.25);
    assert.equal(c.tokens, 2);
    const d = confidenceOf([0.9, 0.8, 0.1]);
    assert.ok(Math.abs(d.mean - Math.cbrt(0.9 * 0.8 * 0.1)) < 1e-12);
    assert.equal(d.min, 0.1);
  });

  it('is zero for nothing and for a token with probability zero', () => {
    assert.deepEqual(confidenceOf([]), { mean: 0, min: 0, first: 0, tokens: 0 });
    const z = confidenceOf([0, 1]);
    assert.equal(z.min, 0);
    assert.ok(z.mean < 1e-5, `mean ${z.mean}`);
  });
});

describe("a declaration's header copied into an expression", () => {
  it('keeps the name and drops the typed parameters and the brace', () => {
    assert.equal(declarationInExpressionCut('ration(ms: number): string {', '  const label = formatDu'), 6);
    assert.equal(declarationInExpressionCut('tal(values):', 'x = compute_to'), 3);
    assert.equal(declarationInExpressionCut('(a: number, b: number): number {', '  return add'), 0);
  });

  it('leaves declarations, conditions, calls and arrow functions alone', () => {
    assert.equal(declarationInExpressionCut('ration(ms: number): string {', 'export function formatDu'), -1);
    assert.equal(declarationInExpressionCut('(values):', 'def mean'), -1);
    assert.equal(declarationInExpressionCut('x > 0) {', 'if ('), -1);
    assert.equal(declarationInExpressionCut('} else if (x) {', '  '), -1, 'not in an expression');
    assert.equal(declarationInExpressionCut('ration(took);', '  const label = formatDu'), -1);
    assert.equal(declarationInExpressionCut('(x) => {', '  items.map('), -1);
    assert.equal(declarationInExpressionCut('ms === 0) {', '  while ('), -1);
    assert.equal(
      declarationInExpressionCut('tion(a: number): void {', '  const f = func'),
      -1,
      'a function expression',
    );
    assert.equal(declarationInExpressionCut(' function (a, b) {', "  describe('x',"), -1);
    assert.equal(declarationInExpressionCut(' async (req: Request): Promise<void> {', '  const handler ='), -1);
  });
});
