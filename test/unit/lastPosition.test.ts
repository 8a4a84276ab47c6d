import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { SUMMARY_TOP_K } from '../../src/engine/onnx/logitsSummary';
import { logSumExp, topIndices } from '../../src/engine/generation/sampling';
import { FIXTURES, maxAbsDiff, readGolden, TEST_MODEL } from './helpers';

describe('last-position logits (in-memory graph rewrite for generation)', () => {
  for (const dir of [
    TEST_MODEL,
    path.join(FIXTURES, 'tiny-genai'),
    path.join(FIXTURES, 'tiny-fp16'),
    path.join(FIXTURES, 'tiny-q4'),
  ]) {
    it(`${path.basename(dir)}: the rewritten session's next-token logits equal the full graph's last row`, async () => {
      const model = await DecoderModel.load(dir);
      const reference = await DecoderModel.load(dir, { lastPositionLogits: false });
      try {
        assert.equal(model.lastPositionOnly, true, 'the rewrite applied');
        assert.equal(reference.lastPositionOnly, false);
        assert.equal(model.summarizesLogits, true, 'the logits summary was added');
        assert.equal(reference.summarizesLogits, false);
        const golden = readGolden(dir);
        for (const c of golden.cases) {
          const next = await model.forward(c.input_ids, model.newCache());
          const all = await reference.logits(c.input_ids);
          assert.ok(maxAbsDiff(next, all[all.length - 1]) <= 1e-4, c.name);
          // Every position's logits, from the rewritten model, come from the file as it is.
          const rows = await model.logits(c.input_ids);
          assert.equal(rows.length, c.input_ids.length);
          assert.ok(maxAbsDiff(rows[0], all[0]) === 0);
          // the graph's summary of the same logits: log Σ exp and the top ids, in order
          const step = await model.step(c.input_ids, model.newCache());
          assert.ok(Math.abs(step.logSumExp! - logSumExp(step.logits)) <= 1e-4, `${c.name}: log Σ exp`);
          assert.deepEqual(step.topIds, topIndices(step.logits, SUMMARY_TOP_K), `${c.name}: top ids`);
        }
      } finally {
        await model.dispose();
        await reference.dispose();
      }
    });
  }
});
