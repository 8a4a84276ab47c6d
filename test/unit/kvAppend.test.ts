import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { generate } from '../../src/engine/generation/generate';
import { FIXTURES, maxAbsDiff, TEST_MODEL } from './helpers';

/** A token sequence of length n from the model's vocabulary, deterministic. */
function ids(n: number, vocab: number, seed = 7): number[] {
  return Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + ((i * i) % 13)) % Math.min(vocab, 250));
}

describe('appended KV cache (graph/kvAppend.ts, kvAppendCache.ts)', () => {
  for (const dir of [TEST_MODEL, path.join(FIXTURES, 'tiny-q4'), path.join(FIXTURES, 'tiny-int8')]) {
    it(`${path.basename(dir)}: prefill, decode past the first buffer, a dropped draft and a new prompt give the exported graph's logits`, async () => {
      const model = await DecoderModel.load(dir);
      const reference = await DecoderModel.load(dir, { appendKv: false });
      try {
        assert.equal(model.io.appendKv, true, 'the rewrite applied');
        assert.equal(reference.io.appendKv, undefined);
        const vocab = model.tokenizer.vocabSize;
        const [a, b] = [model.newCache(), reference.newCache()];
        const same = async (tokens: number[], what: string) => {
          const [x, y] = [await model.steps(tokens, a), await reference.steps(tokens, b)];
          assert.equal(x.length, y.length);
          for (let i = 0; i < x.length; i++)
            assert.ok(maxAbsDiff(x[i].logits, y[i].logits) <= 1e-4, `${what}, row ${i}`);
          assert.deepEqual(a.tokens, b.tokens);
        };
        const seq = ids(300, vocab);
        await same(seq.slice(0, 200), 'prefill of 200');
        const before = a.bytes();
        await same(seq.slice(200, 201), 'one decode step');
        assert.equal(a.bytes(), before, 'a step within the capacity allocates nothing');
        for (let i = 201; i < 270; i++) await same([seq[i]], `decode step at ${i}`); // grows past 256 positions
        assert.ok(a.bytes() > before, 'the buffers grew');
        // a 4-token draft of which one token is kept
        await same(seq.slice(270, 274), 'a draft');
        a.truncate(a.length - 3);
        b.truncate(b.length - 3);
        await same([seq[280]], 'the step after the dropped draft');
        // the next request shares only a prefix
        a.truncate(120);
        b.truncate(120);
        await same(ids(40, vocab, 3), 'a new prompt after the kept prefix');
        a.clear();
        b.clear();
        await same(seq.slice(0, 5), 'after clear');
      } finally {
        await model.dispose();
        await reference.dispose();
      }
    });
  }

  it('greedy generation gives the same tokens with and without the appended cache', async () => {
    const model = await DecoderModel.load(TEST_MODEL);
    const reference = await DecoderModel.load(TEST_MODEL, { appendKv: false });
    try {
      const prompt = ids(250, model.tokenizer.vocabSize, 11);
      for (const reuseCache of [false, true]) {
        const opts = { maxNewTokens: 24, stopTokenIds: [], reuseCache };
        const [x, y] = [await generate(model, prompt, opts), await generate(reference, prompt, opts)];
        assert.deepEqual(x.tokens, y.tokens, `reuseCache ${reuseCache}`);
      }
    } finally {
      await model.dispose();
      await reference.dispose();
    }
  });

  // combined caches (GPT-2 style past_N), a present cast back to float16 after a float32 Concat,
  // and a fused GroupQueryAttention: the exported graph's own caches
  for (const name of ['tiny-gpt2', 'tiny-fp16', 'tiny-gqa']) {
    it(`${name}: left to the exported graph's present outputs, and generation works`, async () => {
      const model = await DecoderModel.load(path.join(FIXTURES, name));
      try {
        assert.equal(model.io.appendKv, undefined);
        const r = await generate(model, [1, 2, 3], { maxNewTokens: 4, stopTokenIds: [] });
        assert.equal(r.tokens.length, 4);
      } finally {
        await model.dispose();
      }
    });
  }
});
