import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { captureAttention, releaseAttention } from '../../src/engine/attention/capture';
import { planCapture } from '../../src/engine/attention/instrument';
import type { AttentionCapture, LogitLens } from '../../src/engine/attention/types';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { decodeModelProto, encodeModelProto, readModelProto } from '../../src/engine/onnx/onnxFile';
import { EngineClient } from '../../src/engine/worker/client';
import { copyModel, FIXTURES, readGolden, TEST_MODEL, type GoldenCase } from './helpers';

type Coded = Error & { code?: string };
type LensCase = GoldenCase & { lens_logits?: number[][] };

/** max |captured − golden| over every layer, head, query and key. */
function maxDiffToGolden(c: AttentionCapture, want: number[][][][]): number {
  const T = c.seqLen;
  let d = 0;
  want.forEach((layer, l) =>
    layer.forEach((head, h) =>
      head.forEach((row, q) =>
        row.forEach((p, k) => {
          d = Math.max(d, Math.abs(c.heads[l][(h * T + q) * T + k] - p));
        }),
      ),
    ),
  );
  return d;
}

/** Rows sum to 1 over keys ≤ query; keys after the query are exactly 0. */
function assertCausalRows(c: AttentionCapture): void {
  const T = c.seqLen;
  for (let l = 0; l < c.numLayers; l++) {
    for (let h = 0; h < c.numHeads; h++) {
      for (let q = 0; q < T; q++) {
        const row = c.heads[l].subarray((h * T + q) * T, (h * T + q + 1) * T);
        let sum = 0;
        for (let k = 0; k <= q; k++) sum += row[k];
        assert.ok(Math.abs(sum - 1) < 1e-5, `layer ${l} head ${h} row ${q} sums to ${sum}`);
        for (let k = q + 1; k < T; k++)
          assert.equal(row[k], 0, `layer ${l} head ${h}: causal entry [${q}][${k}] = ${row[k]}`);
      }
    }
  }
}

function softmax(x: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(x));
  const e = Array.from(x, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Lens rows of the last position against PyTorch's lm_head(norm(h)) for every residual stream. */
function assertLensMatchesGolden(lens: LogitLens, want: number[][]): number {
  const p = lens.positions.length - 1;
  const layers = lens.layerNames.length;
  assert.equal(layers, want.length);
  let d = 0;
  for (let l = 0; l < layers; l++) {
    const probs = softmax(want[l]);
    const order = probs
      .map((v, i) => [v, i])
      .sort((a, b) => b[0] - a[0])
      .slice(0, lens.k);
    for (let j = 0; j < lens.k; j++) {
      const id = lens.topIds[(p * layers + l) * lens.k + j];
      assert.equal(id, order[j][1], `layer ${l} rank ${j}`);
      d = Math.max(d, Math.abs(lens.topProbs[(p * layers + l) * lens.k + j] - probs[id]));
    }
  }
  return d;
}

describe('attention capture: graph surgery on unfused attention', () => {
  let model: DecoderModel;
  let golden: GoldenCase;
  before(async () => {
    model = await DecoderModel.load(TEST_MODEL);
    golden = readGolden(TEST_MODEL).cases[0];
  });
  after(async () => {
    await releaseAttention(model);
    await model.dispose();
  });

  it('equals the reference attention probabilities within 1e-4; rows sum to 1, causal entries are 0', async (t) => {
    for (const chunkTokens of [undefined, 5]) {
      const c = await captureAttention(model, { prompt: golden.input_ids, chunkTokens });
      assert.equal(c.method.kind, 'softmax');
      assert.deepEqual(c.method.nodes, ['/model/layers.0/self_attn/Softmax', '/model/layers.1/self_attn/Softmax']);
      assert.equal(c.storage, 'full');
      const d = maxDiffToGolden(c, golden.attentions!);
      t.diagnostic(
        `test-tiny (${chunkTokens ? `steps of ${chunkTokens} tokens` : 'one step'}): max |Δp| = ${d.toExponential(2)}`,
      );
      assert.ok(d <= 1e-4, `max diff ${d}`);
      assertCausalRows(c);
    }
  });

  it('gives the same rows whatever the step size (every token of a long input is covered)', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => (i * 31) % 500);
    const stepped = await captureAttention(model, { prompt: ids });
    const whole = await captureAttention(model, { prompt: ids, chunkTokens: 300 });
    assert.ok(stepped.timings.steps > 1 && whole.timings.steps === 1);
    let d = 0;
    stepped.heads.forEach((a, l) => a.forEach((v, i) => (d = Math.max(d, Math.abs(v - whole.heads[l][i])))));
    assert.ok(d <= 1e-5, `max diff ${d}`);
    const T = stepped.seqLen;
    const last = stepped.heads[0].subarray((T - 1) * T, T * T);
    assert.ok(Math.abs(last.reduce((s, v) => s + v, 0) - 1) < 1e-5, 'the last row was captured');
    assert.equal((stepped.lens as LogitLens).positions.length, T);
  });

  it("applies the final norm and LM head to each layer: the last layer equals the model's logits", async (t) => {
    const c = await captureAttention(model, { prompt: golden.input_ids });
    assert.ok('positions' in c.lens, 'lens available');
    const lens = c.lens as LogitLens;
    const real = await model.logits(golden.input_ids);
    const layers = lens.layerNames.length;
    assert.equal(layers, model.io.numLayers + 1);
    let dProb = 0;
    let dFinal = 0;
    lens.positions.forEach((pos, p) => {
      const probs = softmax(real[pos]);
      const top = probs.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
      for (let j = 0; j < lens.k; j++) {
        const at = (p * layers + layers - 1) * lens.k + j;
        assert.equal(lens.topIds[at], top[j][1], `position ${pos} rank ${j}`);
        dProb = Math.max(dProb, Math.abs(lens.topProbs[at] - top[j][0]));
      }
      for (let v = 0; v < lens.vocab; v++)
        dFinal = Math.max(dFinal, Math.abs(lens.final[p * lens.vocab + v] - real[pos][v]));
    });
    t.diagnostic(
      `lens at the last layer vs DecoderModel.logits: max |Δp| = ${dProb.toExponential(2)}; final logits max |Δ| = ${dFinal.toExponential(2)}`,
    );
    assert.equal(lens.positions.length, golden.input_ids.length);
    assert.ok(dProb <= 1e-5 && dFinal <= 1e-4);
    assert.ok(lens.labels[lens.topIds[0]] !== undefined, 'labels for lens ids');
  });

  it('cuts a 10,000-token input to the budget with a notice, and keeps only selected rows over the memory budget', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 500);
    const c = await captureAttention(model, {
      prompt: ids,
      budgetBytes: 16 * 1024 * 1024,
      maxTokens: 2048,
      queries: [-1, -2],
    });
    assert.equal(c.seqLen, 2048);
    assert.equal(c.cut, 10_000 - 2048);
    assert.deepEqual(c.ids, ids.slice(-2048));
    assert.match(c.notices[0], /Cut to the last 2,048 of 10,000 tokens/);
    assert.equal(c.storage, 'rows');
    assert.deepEqual(c.queries, [2046, 2047]);
    assert.equal(c.means, null);
    assert.ok(c.notices.some((n) => /over the 16 MB budget/.test(n)));
    assert.ok(c.heads.reduce((s, a) => s + a.byteLength, 0) <= 16 * 1024 * 1024);
    const byDefault = await captureAttention(model, { prompt: ids.slice(0, 600) });
    assert.equal(byDefault.seqLen, model.contextLength, 'default budget: the model context');
    assert.match(byDefault.notices[0], /Cut to the last 512 of 600 tokens/);
  });

  it('stops at the next step or layer when cancelled halfway, and the next capture works', async () => {
    const ctrl = new AbortController();
    let seen = 0;
    await assert.rejects(
      captureAttention(
        model,
        {
          prompt: golden.input_ids.concat(golden.input_ids, golden.input_ids),
          chunkTokens: 4,
          onProgress: (f) => ((seen = f), f >= 0.5 && ctrl.abort()),
        },
        ctrl.signal,
      ),
      (e: Coded) => e.code === 'CANCELLED',
    );
    assert.ok(seen >= 0.5 && seen < 1, `stopped at ${seen}`);
    const c = await captureAttention(model, { prompt: golden.input_ids });
    assert.ok(maxDiffToGolden(c, golden.attentions!) <= 1e-4);
  });
});

describe('attention capture: other graphs', () => {
  it('graph surgery works on a decoder exported with GPT-2 style names (transformer.h.N.attn)', async (t) => {
    const dir = path.join(FIXTURES, 'tiny-renamed');
    const model = await DecoderModel.load(dir);
    try {
      const g = readGolden(dir).cases[0] as LensCase;
      const c = await captureAttention(model, { prompt: g.input_ids, chunkTokens: 4 });
      assert.deepEqual(c.method, {
        kind: 'softmax',
        nodes: ['/transformer/h.0/attn/Softmax', '/transformer/h.1/attn/Softmax'],
      });
      const d = maxDiffToGolden(c, g.attentions!);
      const dLens = assertLensMatchesGolden(c.lens as LogitLens, g.lens_logits!);
      t.diagnostic(
        `tiny-renamed: max |Δp| = ${d.toExponential(2)}; logit lens (every layer, last position) max |Δp| = ${dLens.toExponential(2)}`,
      );
      assert.ok(d <= 1e-4 && dLens <= 1e-4);
      assertCausalRows(c);
    } finally {
      await releaseAttention(model);
      await model.dispose();
    }
  });

  it('finds attention and the residual stream with every node name erased', async (t) => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'onnx', 'model.onnx');
    const proto = readModelProto(file);
    for (const n of proto.graph!.node!) n.name = '';
    fs.writeFileSync(file, encodeModelProto(proto));
    const plan = planCapture(decodeModelProto(fs.readFileSync(file), file), 2, 'logits', file);
    assert.equal(plan.method.kind, 'softmax');
    assert.equal(plan.residuals?.length, 3);
    const model = await DecoderModel.load(dir);
    try {
      const g = readGolden(TEST_MODEL).cases[0];
      const c = await captureAttention(model, { prompt: g.input_ids });
      const d = maxDiffToGolden(c, g.attentions!);
      t.diagnostic(`flattened names: max |Δp| = ${d.toExponential(2)}`);
      assert.ok(d <= 1e-4);
      assert.ok('positions' in c.lens);
    } finally {
      await releaseAttention(model);
      await model.dispose();
    }
  });

  it('recomputes softmax(QKᵀ/√d + causal mask) for GroupQueryAttention (do_rotary and RoPE-before) against PyTorch', async (t) => {
    const dir = path.join(FIXTURES, 'tiny-gqa');
    const model = await DecoderModel.load(dir);
    try {
      const g = readGolden(dir).cases[0] as LensCase;
      for (const chunkTokens of [undefined, 5]) {
        const c = await captureAttention(model, { prompt: g.input_ids, chunkTokens });
        assert.equal(c.method.kind, 'fused');
        assert.equal(c.method.kind === 'fused' && c.method.op, 'GroupQueryAttention');
        assert.equal(c.numHeads, 4);
        const d = maxDiffToGolden(c, g.attentions!);
        const dLens = assertLensMatchesGolden(c.lens as LogitLens, g.lens_logits!);
        t.diagnostic(
          `tiny-gqa (${chunkTokens ? `steps of ${chunkTokens}` : 'one step'}): max |Δp| = ${d.toExponential(2)}; lens max |Δp| = ${dLens.toExponential(2)}`,
        );
        assert.ok(d <= 1e-4 && dLens <= 1e-4);
        assertCausalRows(c);
      }
    } finally {
      await releaseAttention(model);
      await model.dispose();
    }
  });

  it('reads weights from external data when the instrumented graph loads from bytes', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'onnx', 'model.onnx');
    const proto = readModelProto(file);
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const init of proto.graph!.initializer!) {
      const raw = Buffer.from(init.rawData ?? []);
      if (raw.length < 1024) continue;
      init.rawData = new Uint8Array(0);
      init.dataLocation = 1; // EXTERNAL
      init.externalData = [
        { key: 'location', value: 'model.onnx_data' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      chunks.push(raw);
      offset += raw.length;
    }
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(chunks));
    fs.writeFileSync(file, encodeModelProto(proto));
    const model = await DecoderModel.load(dir);
    try {
      const g = readGolden(TEST_MODEL).cases[0];
      const c = await captureAttention(model, { prompt: g.input_ids });
      assert.ok(maxDiffToGolden(c, g.attentions!) <= 1e-4);
      assert.ok('positions' in c.lens, 'lens loads its external weights too');
    } finally {
      await releaseAttention(model);
      await model.dispose();
    }
  });

  it('says attention was found by neither path, and the model still generates', async () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'onnx', 'model.onnx');
    const proto = readModelProto(file);
    // Softmax → a normalisation the explorer does not recognise (the graph still runs).
    for (const n of proto.graph!.node!) if (n.opType === 'Softmax') n.opType = 'LogSoftmax';
    fs.writeFileSync(file, encodeModelProto(proto));
    const model = await DecoderModel.load(dir);
    try {
      await assert.rejects(
        captureAttention(model, { prompt: 'def f(x):' }),
        (e: Coded) => e.code === 'GRAPH_UNSUPPORTED' && /neither path/.test(e.message),
      );
      const logits = await model.logits(model.tokenizer.encode('def f(x):'));
      assert.ok(logits.length > 0);
    } finally {
      await releaseAttention(model);
      await model.dispose();
    }
  });
});

describe('attention capture through the worker', () => {
  const client = new EngineClient();
  after(() => client.dispose());

  it('returns the capture with its typed arrays', async () => {
    await client.load({ modelDir: TEST_MODEL });
    const g = readGolden(TEST_MODEL).cases[0];
    const c = await client.call('captureAttention', { prompt: g.prompt, generated: [5, 6] });
    assert.ok(c.heads[0] instanceof Float32Array);
    assert.equal(c.seqLen, g.input_ids.length + 2);
    assert.equal(c.generatedFrom, g.input_ids.length);
    assert.deepEqual(c.ids.slice(0, g.input_ids.length), g.input_ids);
    assert.equal(c.pieces.join(''), g.prompt + c.pieces.slice(g.input_ids.length).join(''));
    assert.ok(
      maxDiffToGolden(
        { ...c, seqLen: c.seqLen },
        g.attentions!.map((l) => l.map((h) => h.map((r) => [...r, 0, 0]))),
      ) <= 1e-4,
    );
  });
});
