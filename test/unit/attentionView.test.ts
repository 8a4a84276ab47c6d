import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapBySearch, mapFromStart, tintLevels } from '../../src/attention/sourceMap';
import { summarize } from '../../src/attention/viewData';
import type { AttentionCapture } from '../../src/engine/attention/types';
import { processedDistribution } from '../../webview/attention/distribution';
import { isViewToHost } from '../../webview/attention/protocol';

describe('tokens placed in the source document', () => {
  const doc = 'def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n';

  it('maps a selection token by token from its start', () => {
    const start = doc.indexOf('def sub');
    const pieces = ['def', ' sub', '(a', ', b', '):'];
    const r = mapFromStart(pieces, doc, start)!;
    assert.deepEqual(
      r.map((x) => doc.slice(x.start, x.end)),
      pieces,
    );
    assert.equal(mapFromStart(['nope'], doc, start), null, 'text that is not there is not mapped');
  });

  it('finds each run between special tokens, nearest the cursor (a FIM prompt)', () => {
    const cursor = doc.indexOf('    return a - b');
    const pieces = [
      '<|fim_prefix|>',
      'def',
      ' sub',
      '(a, b):\n',
      '<|fim_suffix|>',
      '    return a - b\n',
      '<|fim_middle|>',
      'x',
    ];
    const special = pieces.map((p) => p.startsWith('<|'));
    const r = mapBySearch(pieces, special, doc, cursor);
    const placed = new Map(r.map((x) => [x.token, doc.slice(x.start, x.end)]));
    assert.equal(placed.get(1), 'def');
    assert.equal(r.find((x) => x.token === 1)!.start, doc.indexOf('def sub'), 'the occurrence next to the cursor');
    assert.equal(placed.get(5), '    return a - b\n');
    assert.ok(!placed.has(7), 'a run shorter than 4 characters is too ambiguous to place');
    assert.ok(!placed.has(0) && !placed.has(4), 'special tokens are not in the code');
  });

  it("places an SPM prompt's prefix although the generated tokens follow it directly", () => {
    // Glassbox's own model: <pre><suf> suffix <mid> prefix, then the completion with no special token between.
    const cursor = doc.indexOf('    return a - b');
    const pieces = [
      '<|fim_prefix|>',
      '<|fim_suffix|>',
      '    return a - b\n',
      '<|fim_middle|>',
      'def',
      ' sub',
      '(a, b):\n',
      '    return',
      ' a',
      ' *',
      ' b',
    ];
    const special = pieces.map((p) => p.startsWith('<|'));
    const generatedFrom = 7;
    const placed = new Map(
      mapBySearch(pieces, special, doc, cursor, generatedFrom).map((x) => [x.token, doc.slice(x.start, x.end)]),
    );
    assert.equal(placed.get(2), '    return a - b\n');
    assert.deepEqual(
      [4, 5, 6].map((t) => placed.get(t)),
      ['def', ' sub', '(a, b):\n'],
    );
    assert.ok(![7, 8, 9, 10].some((t) => placed.has(t)), 'generated tokens are not in the document');
    assert.equal(
      mapBySearch(pieces, special, doc, cursor).filter((x) => x.token >= 4).length,
      0,
      'without the boundary the prefix run holds text the document lacks',
    );
  });

  it('bands tokens by weight relative to the strongest, leaving the query and faint ones plain', () => {
    const ranges = [0, 1, 2, 3].map((token) => ({ token, start: token * 2, end: token * 2 + 1 }));
    const levels = tintLevels(ranges, [0.5, 0.01, 0.25, 0.9], 3, 8);
    const byToken = new Map(levels.flatMap((l) => l.ranges.map((r) => [r.token, l.level])));
    assert.equal(byToken.get(0), 7, 'the strongest key gets the top band');
    assert.equal(byToken.get(2), 4);
    assert.ok(!byToken.has(1), 'under 1/16 of the strongest: plain');
    assert.ok(!byToken.has(3), 'the query itself is not tinted');
  });
});

describe('final distribution sliders', () => {
  const logits = Float32Array.from([2, 1, 0, -1, -5]);
  const softmax = (x: number[]) => {
    const e = x.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };

  it('is the softmax at temperature 1 with no truncation', () => {
    const { bars, kept } = processedDistribution(logits, { temperature: 1, topK: 0, topP: 1 }, 5);
    const want = softmax([2, 1, 0, -1, -5]);
    assert.equal(kept, 5);
    bars.forEach((b, i) => assert.ok(Math.abs(b.prob - want[i]) < 1e-9 && b.id === i));
  });

  it('applies temperature, then top-k, then top-p, and renormalises', () => {
    const hot = processedDistribution(logits, { temperature: 2, topK: 0, topP: 1 }, 5);
    const want = softmax([1, 0.5, 0, -0.5, -2.5]);
    hot.bars.forEach((b, i) => assert.ok(Math.abs(b.prob - want[i]) < 1e-9));
    const k2 = processedDistribution(logits, { temperature: 1, topK: 2, topP: 1 }, 5);
    assert.equal(k2.kept, 2);
    assert.ok(Math.abs(k2.bars[0].prob + k2.bars[1].prob - 1) < 1e-9);
    const p = processedDistribution(logits, { temperature: 1, topK: 0, topP: 0.7 }, 5);
    assert.equal(p.kept, 2, 'the smallest set reaching 70%: 66.5% + 24.5%');
  });
});

describe('attention view protocol', () => {
  it('accepts well-formed messages and rejects others', () => {
    assert.ok(isViewToHost({ type: 'select', captureId: 1, position: 3, pin: true, rollout: false }));
    assert.ok(isViewToHost({ type: 'export', format: 'png', dataUrl: 'data:image/png;base64,AAAA' }));
    assert.ok(!isViewToHost({ type: 'export', format: 'png', dataUrl: 'javascript:alert(1)' }));
    assert.ok(!isViewToHost({ type: 'run', command: 'workbench.action.quit' }));
    assert.ok(!isViewToHost({ type: 'select', captureId: 1, position: '3', pin: true, rollout: false }));
    assert.ok(!isViewToHost(null));
  });
});

describe('a completion in the Attention view', () => {
  // a capture of 10 prompt tokens and 6 generated ones; only the fields summarize() reads
  const capture = {
    generatedFrom: 10,
    seqLen: 16,
    ids: Array.from({ length: 16 }, (_, i) => i),
    labels: Array.from({ length: 16 }, (_, i) => `t${i}`),
    special: Array.from({ length: 16 }, () => false),
    method: { kind: 'softmax', nodes: [] },
    model: 'tiny',
    numLayers: 1,
    numHeads: 1,
    storage: 'full',
    queries: [],
    thumbs: { size: 0, layers: [] },
    headStats: [],
    lens: { unavailable: 'not computed' },
    notices: [],
    storedBytes: 0,
    budgetBytes: 0,
    timings: { totalMs: 1 },
  } as unknown as AttentionCapture;
  const origin = (token: number, kind: 'model' | 'cache' = 'model') => ({
    token,
    text: 'x',
    kind,
    weight: 0.5,
    p: 0.9,
  });

  it('places each origin at its own token, after the tokens that only re-type the healed text', () => {
    // token 0 re-typed the healed end of the prefix; tokens 1–3 are the ghost text; 4–5 were cut
    const s = summarize(capture, 1, 'completion', 'title', [origin(1, 'cache'), origin(2), origin(3)]);
    assert.deepEqual(
      s.origins.map((o) => [o.position, o.kind]),
      [
        [11, 'cache'],
        [12, 'model'],
        [13, 'model'],
      ],
    );
    assert.deepEqual(s.ghost, { from: 11, to: 14 });
  });

  it('marks every generated token as outside the ghost text when the suggestion was hidden', () => {
    const s = summarize(capture, 1, 'completion', 'title', []);
    assert.deepEqual(s.ghost, { from: 10, to: 10 });
    assert.deepEqual(s.origins, []);
  });

  it('has no ghost span for what is not a completion', () => {
    assert.equal(summarize(capture, 1, 'selection', 'title').ghost, undefined);
  });
});
