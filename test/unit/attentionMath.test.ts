import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineEdges, queryView, rolloutRow, type CaptureData } from '../../src/engine/attention/analysis';
import { headStatsOf, inductionTargets } from '../../src/engine/attention/headScores';
import { planStorage } from '../../src/engine/attention/store';
import { tokenPieces } from '../../src/engine/attention/tokenPieces';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { TEST_MODEL } from './helpers';

/** A T×T row-stochastic causal matrix from a rule giving each row's weights over keys 0..t. */
function matrix(T: number, row: (t: number) => number[]): Float32Array {
  const m = new Float32Array(T * T);
  for (let t = 0; t < T; t++) {
    const w = row(t);
    const s = w.reduce((a, b) => a + b, 0);
    w.forEach((v, k) => (m[t * T + k] = v / s));
  }
  return m;
}

const oneHot = (t: number, k: number) => Array.from({ length: t + 1 }, (_, i) => (i === k ? 1 : 0));

/** Dense rollout for checking: Ã = 0.5A + 0.5I (rows renormalised), R = Ã_L ⋯ Ã_1. */
function denseRollout(ms: Float32Array[], T: number): number[][] {
  const tilde = ms.map((m) =>
    Array.from({ length: T }, (_, j) => {
      const row = Array.from({ length: T }, (_, k) => 0.5 * m[j * T + k] + (j === k ? 0.5 : 0));
      const s = row.reduce((a, b) => a + b, 0);
      return row.map((v) => v / s);
    }),
  );
  let r = tilde[0];
  for (let l = 1; l < tilde.length; l++) {
    const a = tilde[l];
    r = a.map((row) => Array.from({ length: T }, (_, k) => row.reduce((s, v, j) => s + v * r[j][k], 0)));
  }
  return r;
}

describe('attention rollout', () => {
  it('equals the dense product of (0.5·A + 0.5·I) over layers', () => {
    const T = 6;
    const a1 = matrix(T, (t) => Array.from({ length: t + 1 }, (_, k) => 1 + ((k * 7 + t * 3) % 5)));
    const a2 = matrix(T, (t) => Array.from({ length: t + 1 }, (_, k) => (k === 0 ? 4 : 1)));
    const a3 = matrix(T, (t) => oneHot(t, Math.max(0, t - 1)));
    const want = denseRollout([a1, a2, a3], T);
    for (let q = 0; q < T; q++) {
      const got = rolloutRow([a1, a2, a3], T, q);
      for (let k = 0; k < T; k++)
        assert.ok(Math.abs(got[k] - want[q][k]) < 1e-6, `row ${q} key ${k}: ${got[k]} vs ${want[q][k]}`);
      assert.ok(Math.abs(got.reduce((s, v) => s + v, 0) - 1) < 1e-6, 'rollout rows sum to 1');
    }
  });

  it('keeps a token on itself when every layer attends to itself, and spreads with previous-token layers', () => {
    const T = 4;
    const self = matrix(T, (t) => oneHot(t, t));
    assert.deepEqual(Array.from(rolloutRow([self, self], T, 2)), [0, 0, 1, 0]);
    const prev = matrix(T, (t) => oneHot(t, Math.max(0, t - 1)));
    // one layer: 0.5 on itself, 0.5 on the previous token
    assert.deepEqual(Array.from(rolloutRow([prev], T, 3)), [0, 0, 0.5, 0.5]);
    // two layers: 0.25 itself, 0.5 one back, 0.25 two back
    assert.deepEqual(Array.from(rolloutRow([prev, prev], T, 3)), [0, 0.25, 0.5, 0.25]);
  });
});

describe('head labels', () => {
  const T = 48;
  const period = 12; // the repeat lies outside the local window, so induction is not also local
  const ids = Array.from({ length: T }, (_, t) => 100 + (t % period));
  const previous = matrix(T, (t) => oneHot(t, Math.max(0, t - 1)));
  const sink = matrix(T, (t) => oneHot(t, 0));
  const local = matrix(T, (t) => Array.from({ length: t + 1 }, (_, k) => (k > t - 8 ? 1 : 0)));
  const induction = matrix(T, (t) => oneHot(t, t >= period + 1 ? t - period + 1 : t));
  const uniform = matrix(T, (t) => new Array<number>(t + 1).fill(1));

  it('labels previous-token, sink, local, induction-like and mixed heads, with their scores', () => {
    // one layer, five heads: [head][T][T]
    const layer = new Float32Array(5 * T * T);
    [previous, sink, local, induction, uniform].forEach((m, h) => layer.set(m, h * T * T));
    const stats = headStatsOf([layer], 5, ids);
    assert.deepEqual(
      stats.map((s) => s.label),
      ['previous-token', 'first-token sink', 'local window', 'induction-like', 'mixed'],
    );
    assert.ok(Math.abs(stats[0].scores.previousToken - 1) < 1e-6);
    assert.ok(Math.abs(stats[1].scores.sink - 1) < 1e-6);
    assert.ok(Math.abs(stats[2].scores.local - 1) < 1e-6 && stats[2].scores.previousToken < 0.2);
    assert.ok(stats[3].scores.induction > 0.95, `induction ${stats[3].scores.induction}`);
    assert.ok(stats[4].score === 0 && stats[4].scores.sink < 0.1);
  });

  it('finds induction targets: the token after each earlier occurrence, strictly before the query', () => {
    assert.deepEqual(
      inductionTargets([1, 2, 1, 2, 1]).map((a) => Array.from(a)),
      [[], [], [1], [2], [1, 3]],
    );
    assert.deepEqual(Array.from(inductionTargets([7, 7])[1]), [], 'j+1 = t is the query itself');
  });
});

describe('memory budget policy', () => {
  const MB = 1024 * 1024;
  it('keeps everything when full T×T×heads×layers fits', () => {
    const p = planStorage(2, 4, 1024, [1023], 256 * MB);
    assert.equal(p.storage, 'full');
    assert.equal(p.queries.length, 1024);
  });
  it('keeps head means and the selected rows when only they fit', () => {
    const p = planStorage(24, 14, 2048, [2000, 2047], 512 * MB);
    assert.equal(p.storage, 'mean');
    assert.deepEqual(p.queries, [2000, 2047]);
    assert.ok(p.bytes <= 512 * MB);
    assert.match(p.notice!, /over the 512 MB budget/);
  });
  it('keeps only selected rows (as many as fit) when the means do not fit either', () => {
    const p = planStorage(24, 14, 2048, Array.from({ length: 3000 }, (_, i) => i % 2048).slice(0, 2048), 256 * MB);
    assert.equal(p.storage, 'rows');
    assert.ok(p.bytes <= 256 * MB);
    assert.match(p.notice!, /rollout is off/);
  });
});

describe('per-click views', () => {
  const T = 4;
  const H = 2;
  const head0 = matrix(T, (t) => oneHot(t, 0));
  const head1 = matrix(T, (t) => oneHot(t, t));
  const layer = new Float32Array(H * T * T);
  layer.set(head0, 0);
  layer.set(head1, T * T);
  const mean = new Float32Array(T * T).map((_, i) => (head0[i] + head1[i]) / 2);
  const full: CaptureData = {
    numLayers: 1,
    numHeads: H,
    seqLen: T,
    storage: 'full',
    queries: [],
    heads: [layer],
    means: [mean],
  };

  it("gathers one query's rows, their mean, max and rollout", () => {
    const v = queryView(full, 2)!;
    assert.deepEqual(Array.from(v.heads), [1, 0, 0, 0, 0, 0, 1, 0]);
    assert.deepEqual(Array.from(v.mean), [0.5, 0, 0.5, 0]);
    assert.deepEqual(Array.from(v.max), [1, 0, 1, 0]);
    assert.deepEqual(Array.from(v.rollout!), [0.25, 0, 0.75, 0]);
  });

  it('reads rows storage by slot and has no rollout without the means', () => {
    const rowsOnly = new Float32Array(H * 1 * T);
    rowsOnly.set(head0.subarray(3 * T, 4 * T), 0);
    rowsOnly.set(head1.subarray(3 * T, 4 * T), T);
    const c: CaptureData = {
      numLayers: 1,
      numHeads: H,
      seqLen: T,
      storage: 'rows',
      queries: [3],
      heads: [rowsOnly],
      means: null,
    };
    assert.equal(queryView(c, 2), null);
    const v = queryView(c, 3)!;
    assert.deepEqual(Array.from(v.mean), [0.5, 0, 0, 0.5]);
    assert.equal(v.rollout, null);
  });

  it('a layer that does not exist gives no lines (not a TypeError); threshold 0 over all heads keeps the heaviest', () => {
    const bad = lineEdges(full, 99, -1, 0, T, 0.5);
    assert.equal(bad.total, 0);
    assert.equal(bad.query.length, 0);
    assert.equal(lineEdges(full, 0.5, -1, 0, T, 0.5).total, 0);
    // every weight counts at threshold 0; only the heaviest 3 are kept, heaviest first
    const all = lineEdges(full, 0, -1, -5, 1e9, 0, 3);
    assert.equal(all.total, (H * T * (T + 1)) / 2);
    assert.equal(all.weight.length, 3);
    const every = lineEdges(full, 0, -1, 0, T, 0, 1000);
    const top = Array.from(every.weight)
      .sort((a, b) => b - a)
      .slice(0, 3);
    assert.deepEqual(Array.from(all.weight), top);
  });

  it('draws only lines above the threshold, heaviest first', () => {
    const e = lineEdges(full, 0, -1, 0, T, 0.5);
    assert.equal(e.total, 8); // each query: head 0 → token 0, head 1 → itself (query 0 counts twice)
    assert.ok(e.weight.every((w) => w >= 0.5));
    const one = lineEdges(full, 0, 1, 1, 3, 0.5);
    assert.deepEqual(
      [Array.from(one.query), Array.from(one.key)],
      [
        [1, 2],
        [1, 2],
      ],
    );
  });
});

describe('token pieces', () => {
  it('join to the decoded text, with partial UTF-8 characters grouped', () => {
    const tok = TextTokenizer.load(locateModelFiles(TEST_MODEL));
    const text = 's = "héllo 👋 你好"  # 🌍\n';
    const ids = tok.encode(text);
    const pieces = tokenPieces(tok, ids);
    assert.equal(pieces.length, ids.length);
    assert.equal(pieces.join(''), text);
  });
});
