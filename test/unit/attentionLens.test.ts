import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { instrumentModel } from '../../src/engine/attention/instrument';
import { runLens } from '../../src/engine/attention/lens';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { makeTensor } from '../../src/engine/runtime/ort';
import { ROOT } from './helpers';

describe('logit lens in bounded runs', () => {
  it('gives the same top-k whether the (row, layer) pairs go through in one run or one at a time', async () => {
    const model = await DecoderModel.load(path.join(ROOT, 'models', 'glassbox-code'));
    const inst = await instrumentModel(model.files.onnxPath, model.io.numLayers, model.io.logits, 1);
    try {
      assert.ok(inst.lens, 'the lens graph was cut from the model');
      const hidden = model.config.hiddenSize!;
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
      const n = 5;
      const residuals = Array.from({ length: model.io.numLayers + 1 }, () =>
        makeTensor('float32', Float32Array.from({ length: n * hidden }, rand), [1, n, hidden]),
      );
      const rows = [0, 2, 4];
      const whole = await runLens(inst.lens!, residuals, rows, 5);
      const vocab = model.config.vocabSize!;
      const oneAtATime = await runLens(inst.lens!, residuals, rows, 5, vocab * 4);
      const threeAtATime = await runLens(inst.lens!, residuals, rows, 5, vocab * 4 * 3);
      for (const other of [oneAtATime, threeAtATime]) {
        assert.deepEqual(other.ids, whole.ids);
        for (let i = 0; i < whole.probs.length; i++) assert.ok(Math.abs(other.probs[i] - whole.probs[i]) < 1e-5);
      }
      assert.equal(whole.ids.length, rows.length * (model.io.numLayers + 1) * 5);
    } finally {
      await inst.session.release();
      await inst.lens?.session.release();
      await model.dispose();
    }
  });
});
