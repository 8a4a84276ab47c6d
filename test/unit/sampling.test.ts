import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyProcessors,
  argmax,
  logSoftmax,
  repetitionPenalty,
  sampleFromLogits,
  seededRandom,
  temperature,
  topIndices,
  topK,
  topP,
} from '../../src/engine/generation/sampling';
import { TextStopper } from '../../src/engine/generation/stopping';

const logits = Float32Array.from([1, 3, 2, 0.5, 2.9]);

describe('sampling', () => {
  it('greedy picks the argmax', () => {
    assert.equal(argmax(logits), 1);
  });

  it('the same seed gives the same samples; another seed gives others', () => {
    const draw = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 50 }, () => sampleFromLogits(logits, r));
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  it('samples follow softmax(logits)', () => {
    const r = seededRandom(1);
    const counts = new Array<number>(logits.length).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleFromLogits(logits, r)]++;
    const p = Array.from(logSoftmax(logits), Math.exp);
    counts.forEach((c, i) => assert.ok(Math.abs(c / n - p[i]) < 0.015, `token ${i}: ${c / n} vs ${p[i]}`));
  });

  it('top-k keeps exactly k tokens', () => {
    const out = applyProcessors([topK(2)], [], logits);
    assert.deepEqual(
      Array.from(out).map((v) => Number.isFinite(v)),
      [false, true, false, false, true],
    );
    assert.equal(logits[0], 1, 'input untouched');
  });

  it('top-p keeps the smallest set reaching p', () => {
    const p = Array.from(logSoftmax(logits), Math.exp); // ≈ [.05 .37 .14 .03 .34]
    const out = applyProcessors([topP(p[1] + 0.01)], [], logits);
    assert.deepEqual(
      Array.from(out).map((v) => Number.isFinite(v)),
      [false, true, false, false, true],
    );
  });

  it('temperature sharpens towards greedy', () => {
    const r = seededRandom(3);
    const cold = applyProcessors([temperature(0.01)], [], logits);
    for (let i = 0; i < 100; i++) assert.equal(sampleFromLogits(cold, r), 1);
  });

  it('repetition penalty divides positive and multiplies negative logits of generated tokens only', () => {
    const x = Float32Array.from([2, -1, 4, 1]);
    // ids: prompt [3], then generated 0, 1, 0
    const out = applyProcessors([repetitionPenalty(2, 1)], [3, 0, 1, 0], x);
    assert.deepEqual(Array.from(out), [1, -2, 4, 1], 'token 3 is only in the prompt: untouched');
    assert.deepEqual(Array.from(x), [2, -1, 4, 1], 'the input is not modified');
  });

  it('top indices are sorted by value', () => {
    assert.deepEqual(topIndices(logits, 3), [1, 4, 2]);
  });
});

describe('stop strings', () => {
  it('holds back a possible stop string and cuts at it', () => {
    const f = new TextStopper(['\n\n']);
    assert.equal(f.push('a = 1'), 'a = 1');
    assert.equal(f.push('\n'), '', 'a lone newline might start the stop string');
    assert.equal(f.push('b'), '\nb');
    assert.equal(f.push('\n\nc'), '');
    assert.ok(f.stopped);
    assert.equal(f.visible, 'a = 1\nb');
  });

  it('finds a stop string that spans pushes', () => {
    const f = new TextStopper(['END']);
    f.push('xx E');
    f.push('N');
    f.push('D yy');
    assert.ok(f.stopped);
    assert.equal(f.visible, 'xx ');
  });
});
