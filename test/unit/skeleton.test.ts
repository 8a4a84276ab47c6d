import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { encodeModelProto, externalRef, readModelProto } from '../../src/engine/onnx/onnxFile';
import { readModelSkeleton } from '../../src/engine/onnx/skeleton';
import { setInt4Accuracy } from '../../src/engine/onnx/matMulNBits';
import { FIXTURES, maxAbsDiff, readGolden, ROOT, TEST_MODEL } from './helpers';

const GLASSBOX_CODE = path.join(ROOT, 'models', 'glassbox-code');

describe("a graph's skeleton (the rewrite of a model of any size)", () => {
  it('leaves the large weights in the file, as external data that points at their bytes', () => {
    const file = path.join(GLASSBOX_CODE, 'onnx', 'model.onnx');
    const whole = readModelProto(file);
    const skeleton = readModelSkeleton(file);
    const bytes = fs.readFileSync(file);
    const encoded = encodeModelProto(skeleton).length;
    assert.ok(encoded < fs.statSync(file).size / 20, `${encoded} bytes encoded`);
    assert.deepEqual(
      skeleton.graph!.initializer!.map((t) => t.name),
      whole.graph!.initializer!.map((t) => t.name),
      'the same initializers, in order',
    );
    let moved = 0;
    for (const [i, t] of skeleton.graph!.initializer!.entries()) {
      const ref = externalRef(t);
      const original = whole.graph!.initializer![i].rawData!;
      if (!ref) {
        assert.deepEqual(t.rawData, original, `${t.name}: a small tensor is read as it is`);
        continue;
      }
      moved++;
      assert.equal(ref.location, 'model.onnx');
      assert.ok(
        bytes.subarray(ref.offset, ref.offset + ref.length!).equals(Buffer.from(original)),
        `${t.name}: the reference holds its bytes`,
      );
    }
    assert.ok(moved >= 6 * 7, `${moved} weights left in the file`);
    // the rest of the graph is the same message
    assert.deepEqual(skeleton.graph!.node, whole.graph!.node);
    assert.deepEqual(skeleton.opsetImport, whole.opsetImport);
  });

  for (const [dir, file] of [
    [TEST_MODEL, undefined],
    [path.join(FIXTURES, 'tiny-q4'), undefined],
    [path.join(FIXTURES, 'tiny-external-data'), undefined],
    [GLASSBOX_CODE, 'onnx/model.onnx'],
    [GLASSBOX_CODE, 'onnx/model_q4.onnx'],
  ] as const) {
    it(`${path.basename(dir)}${file ? ` (${file})` : ''}: loaded from its skeleton, it computes what the whole graph does`, async () => {
      const opts = file ? { onnxFile: file } : {};
      const skeletal = await DecoderModel.load(dir, { ...opts, maxInlineRewriteBytes: 0 });
      const whole = await DecoderModel.load(dir, opts);
      try {
        assert.equal(skeletal.lastPositionOnly, true, 'the last-position rewrite applied');
        assert.equal(skeletal.summarizesLogits, true, 'the logits summary was added');
        assert.equal(skeletal.io.appendKv, whole.io.appendKv, 'the KV append rewrite applied the same');
        const golden = file ? undefined : readGolden(dir);
        const prompts = golden?.cases.map((c) => c.input_ids) ?? [
          skeletal.tokenizer.encode('def add(a, b):\n    return'),
          skeletal.tokenizer.encode('function greet(name: string) {\n  return'),
        ];
        for (const ids of prompts) {
          const a = await skeletal.step(ids, skeletal.newCache());
          const b = await whole.step(ids, whole.newCache());
          assert.ok(maxAbsDiff(a.logits, b.logits) <= 1e-5, `next-token logits of ${ids.length} tokens`);
          assert.deepEqual(a.topIds, b.topIds);
        }
      } finally {
        await skeletal.dispose();
        await whole.dispose();
      }
    });
  }

  it('names the file when it is truncated', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-skeleton-'));
    try {
      const file = path.join(dir, 'model.onnx');
      const bytes = fs.readFileSync(path.join(GLASSBOX_CODE, 'onnx', 'model_q4.onnx'));
      fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      assert.throws(
        () => readModelSkeleton(file),
        (err: Error & { code?: string }) => err.code === 'ONNX_INVALID' && err.message.includes(file),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("int4 MatMulNBits' accuracy_level, set at load", () => {
  it('marks every MatMulNBits node, and int8 activations give the same next tokens as the default', async () => {
    const proto = readModelProto(path.join(GLASSBOX_CODE, 'onnx', 'model_q4.onnx'));
    const count = setInt4Accuracy(proto, 4);
    const nodes = proto.graph!.node!.filter((n) => n.opType === 'MatMulNBits');
    assert.equal(count, nodes.length);
    assert.equal(count, 6 * 7 + 1, 'seven linear layers per block and the LM head');
    for (const n of nodes) assert.equal(n.attribute!.filter((a) => a.name === 'accuracy_level').length, 1);
    assert.ok(nodes.every((n) => n.attribute!.find((a) => a.name === 'accuracy_level')!.i === 4));

    const int8 = await DecoderModel.load(GLASSBOX_CODE, { int4AccuracyLevel: 4 });
    const plain = await DecoderModel.load(GLASSBOX_CODE);
    try {
      for (const text of ['def add(a, b):\n    return', 'export function greet(name: string) {\n  return ']) {
        const ids = plain.tokenizer.encode(text);
        const a = await int8.step(ids, int8.newCache());
        const b = await plain.step(ids, plain.newCache());
        assert.equal(a.topIds![0], b.topIds![0], text);
        assert.ok(maxAbsDiff(a.logits, b.logits) < 0.5, `${maxAbsDiff(a.logits, b.logits)}`);
      }
    } finally {
      await int8.dispose();
      await plain.dispose();
    }
  });
});
