import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CopyCache } from '../../src/engine/generation/copyCache';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { generate, PREFILL_CHUNK } from '../../src/engine/generation/generate';
import { maxAbsDiff, readGolden, ROOT, TEST_MODEL, type Golden } from './helpers';

describe('generation on the test model', () => {
  let model: DecoderModel;
  let golden: Golden;
  before(async () => {
    model = await DecoderModel.load(TEST_MODEL);
    golden = readGolden(TEST_MODEL);
  });
  after(() => model.dispose());

  it('reproduces the reference logits for every golden prompt', async () => {
    for (const c of golden.cases) {
      assert.deepEqual(model.tokenizer.encode(c.prompt), c.input_ids, `${c.name}: tokenization`);
      const rows = await model.logits(c.input_ids);
      let worst = 0;
      rows.forEach((row, t) => (worst = Math.max(worst, maxAbsDiff(row, c.logits[t]))));
      assert.ok(worst <= Math.min(golden.atol, 1e-4), `${c.name}: max |Δlogit| ${worst}`);
    }
  });

  it('reproduces the reference greedy tokens through the KV cache', async () => {
    for (const c of golden.cases) {
      const r = await generate(model, c.input_ids, {
        maxNewTokens: c.greedy_tokens.length,
        stopTokenIds: [],
        reuseCache: false,
      });
      assert.deepEqual(r.tokens, c.greedy_tokens, c.name);
    }
  });

  it("speculative decoding with the copy cache's drafts changes nothing but the number of runs", async () => {
    // a prompt that repeats itself, so the cache has drafts to offer; test-tiny's random weights
    // reject most of them, which exercises dropping a draft's tail from the KV cache
    const unit = golden.cases[0].input_ids.slice(0, 12);
    const prompt = [...unit, ...unit, ...unit, ...unit.slice(0, 5)];
    const run = (speculate: boolean) =>
      generate(model, prompt, {
        maxNewTokens: 40,
        stopTokenIds: [],
        reuseCache: false,
        speculate,
        copyCache: new CopyCache(prompt, model.tokenizer.specialIds),
      });
    assert.equal(model.verifiesDrafts, true);
    const one = await run(false);
    const many = await run(true);
    assert.deepEqual(many.tokens, one.tokens);
    // a row computed in a run of several tokens differs from a single step's in the last bits
    assert.ok(maxAbsDiff(Float32Array.from(many.logprobs), Float32Array.from(one.logprobs)) < 1e-2);
    assert.ok((many.timings.drafted ?? 0) > 0, 'drafts were run');
    // and the cache holds what it says it holds: a request that extends this one reuses it exactly
    const next = [...prompt, ...many.tokens];
    const warm = await generate(model, next, { maxNewTokens: 6, stopTokenIds: [] });
    const cold = await generate(model, next, { maxNewTokens: 6, stopTokenIds: [], reuseCache: false });
    assert.deepEqual(warm.tokens, cold.tokens);
  });

  it('gives identical tokens with prefix reuse as from a cold start', async () => {
    const c = golden.cases[0];
    const cold = await generate(model, c.input_ids, { maxNewTokens: 12, stopTokenIds: [], reuseCache: false });
    // Same prompt plus the first generated token: "the user typed along the suggestion".
    const longer = [...c.input_ids, cold.tokens[0]];
    const warm = await generate(model, longer, { maxNewTokens: 11, stopTokenIds: [] });
    assert.equal(warm.timings.reusedTokens, longer.length - 1, 'everything but the last token came from the cache');
    assert.deepEqual(warm.tokens, cold.tokens.slice(1));
    // And a prompt that diverges in the middle reuses only the shared part.
    const other = [...c.input_ids.slice(0, 3), ...golden.cases[1].input_ids];
    const warm2 = await generate(model, other, { maxNewTokens: 8, stopTokenIds: [] });
    const cold2 = await generate(model, other, { maxNewTokens: 8, stopTokenIds: [], reuseCache: false });
    assert.ok(warm2.timings.reusedTokens >= 3);
    assert.deepEqual(warm2.tokens, cold2.tokens);
  });

  it('samples reproducibly with a seed', async () => {
    const ids = golden.cases[0].input_ids;
    const a = await generate(model, ids, { maxNewTokens: 16, temperature: 1.0, seed: 5, stopTokenIds: [] });
    const b = await generate(model, ids, { maxNewTokens: 16, temperature: 1.0, seed: 5, stopTokenIds: [] });
    const c = await generate(model, ids, { maxNewTokens: 16, temperature: 1.0, seed: 6, stopTokenIds: [] });
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, c.tokens);
  });

  it('a temperature too small to sample at (1e-40) decodes greedily, not an empty "eos"', async () => {
    const ids = golden.cases[0].input_ids;
    const greedy = await generate(model, ids, { maxNewTokens: 12, stopTokenIds: [] });
    const tiny = await generate(model, ids, { maxNewTokens: 12, temperature: 1e-40, seed: 1, stopTokenIds: [] });
    assert.deepEqual(tiny.tokens, greedy.tokens);
    assert.equal(tiny.stopReason, 'max_tokens');
  });

  it('a repetition penalty changes greedy choices but not the reported logprobs', async () => {
    const ids = golden.cases[0].input_ids;
    const plain = await generate(model, ids, { maxNewTokens: 24, stopTokenIds: [], reuseCache: false });
    const pen = await generate(model, ids, {
      maxNewTokens: 24,
      stopTokenIds: [],
      reuseCache: false,
      repetitionPenalty: 3,
    });
    const distinct = (t: number[]) => new Set(t).size;
    assert.ok(
      distinct(pen.tokens) >= distinct(plain.tokens),
      `${distinct(pen.tokens)} vs ${distinct(plain.tokens)} distinct tokens`,
    );
    assert.notDeepEqual(pen.tokens, plain.tokens, 'the penalty steered greedy decoding');
    // Each step's logprob is still the model's own: the same as at that position without the penalty.
    const same = await generate(model, [...ids, ...pen.tokens.slice(0, 5)], {
      maxNewTokens: 1,
      stopTokenIds: [],
      reuseCache: false,
    });
    const check = await generate(model, [...ids, ...pen.tokens.slice(0, 5)], {
      maxNewTokens: 1,
      stopTokenIds: [],
      reuseCache: false,
      repetitionPenalty: 3,
    });
    assert.ok(Math.abs(same.steps[0].top[0].logprob - check.steps[0].top[0].logprob) < 1e-6);
  });

  it('reports logprobs and top-5 alternatives consistent with the logits', async () => {
    const ids = golden.cases[0].input_ids;
    const r = await generate(model, ids, { maxNewTokens: 4, stopTokenIds: [], reuseCache: false });
    for (const step of r.steps) {
      assert.equal(step.top.length, 5);
      assert.equal(step.top[0].id, step.id, 'greedy token is the top alternative');
      assert.ok(step.logprob <= 0);
      assert.equal(step.top[0].logprob, step.logprob);
      for (let i = 1; i < 5; i++) assert.ok(step.top[i].logprob <= step.top[i - 1].logprob);
    }
    assert.deepEqual(
      r.logprobs,
      r.steps.map((s) => s.logprob),
    );
  });

  it("plain greedy decoding from the graph's summary alone gives what the full logits give", async () => {
    for (const c of golden.cases) {
      const opts = { maxNewTokens: 12, stopTokenIds: [], reuseCache: false };
      const lean = await generate(model, c.input_ids, opts); // top 5 ≤ the summary's 8: the logits stay in the runtime
      const full = await generate(model, c.input_ids, { ...opts, topAlternatives: 9 }); // more than the summary has
      assert.deepEqual(lean.tokens, full.tokens, c.name);
      for (let i = 0; i < lean.steps.length; i++) {
        const [a, b] = [lean.steps[i], full.steps[i]];
        assert.ok(Math.abs(a.logprob - b.logprob) <= 1e-6, `${c.name} step ${i}: logprob`);
        assert.deepEqual(
          a.top.map((t) => t.id),
          b.top.slice(0, 5).map((t) => t.id),
        );
        a.top.forEach((t, k) => assert.ok(Math.abs(t.logprob - b.top[k].logprob) <= 1e-6));
        assert.deepEqual(a.source, b.source);
      }
    }
  });

  it('stops at a stop token id and leaves it out', async () => {
    const c = golden.cases[0];
    const stopAt = c.greedy_tokens[3];
    const r = await generate(model, c.input_ids, { maxNewTokens: 16, stopTokenIds: [stopAt], reuseCache: false });
    assert.equal(r.stopReason, 'eos');
    assert.deepEqual(r.tokens, c.greedy_tokens.slice(0, c.greedy_tokens.indexOf(stopAt)));
  });

  it('stops at a stop string, cutting the text before it, and never streams it', async () => {
    const c = golden.cases[0];
    const full = await generate(model, c.input_ids, { maxNewTokens: 16, stopTokenIds: [], reuseCache: false });
    const stop = full.text.slice(Math.floor(full.text.length / 2), Math.floor(full.text.length / 2) + 2);
    assert.ok(stop.length === 2, 'the greedy text is long enough to pick a stop string from');
    let streamed = '';
    const r = await generate(model, c.input_ids, {
      maxNewTokens: 16,
      stopTokenIds: [],
      stopStrings: [stop],
      reuseCache: false,
      onToken: (t) => (streamed += t.text),
    });
    assert.equal(r.stopReason, 'stop_string');
    assert.equal(r.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.ok(!streamed.includes(stop));
    assert.ok(r.text.startsWith(streamed));
  });

  it('streams text whose concatenation is a prefix of the result', async () => {
    let streamed = '';
    const r = await generate(model, golden.cases[2].input_ids, {
      maxNewTokens: 16,
      stopTokenIds: [],
      onToken: (t) => (streamed += t.text),
    });
    assert.ok(r.text.startsWith(streamed));
    assert.equal(r.steps.length, 16);
  });

  it('honours max new tokens and the wall-clock budget', async () => {
    const ids = golden.cases[0].input_ids;
    const r = await generate(model, ids, { maxNewTokens: 3, stopTokenIds: [] });
    assert.equal(r.tokens.length, 3);
    assert.equal(r.stopReason, 'max_tokens');
    const t = await generate(model, ids, { maxNewTokens: 64, stopTokenIds: [], timeBudgetMs: 0 });
    assert.equal(t.stopReason, 'time_budget');
    assert.equal(t.tokens.length, 1, 'the budget is checked after each token');
  });

  it('a long prefill notices a cancellation between its chunks', async () => {
    // the shipped model: test-tiny's 512 positions hold only one chunk
    const big = await DecoderModel.load(path.join(ROOT, 'models', 'glassbox-code'));
    const ctrl = new AbortController();
    const prompt = Array.from({ length: 3 * PREFILL_CHUNK }, (_, i) => 10 + (i % 200));
    const step = big.step.bind(big);
    let runs = 0;
    big.step = async (...args: Parameters<typeof big.step>) => {
      runs++;
      const out = await step(...args);
      ctrl.abort(); // the user typed on while the first chunk ran
      return out;
    };
    try {
      await assert.rejects(
        generate(big, prompt, { maxNewTokens: 4, stopTokenIds: [], signal: ctrl.signal }),
        (e: Error & { code?: string }) => e.code === 'CANCELLED',
      );
      assert.equal(runs, 1, 'the rest of the prompt was not run');
    } finally {
      await big.dispose();
    }
  });

  it('cancels between steps through an AbortSignal', async () => {
    const ctrl = new AbortController();
    let seen = 0;
    await assert.rejects(
      generate(model, golden.cases[0].input_ids, {
        maxNewTokens: 50,
        stopTokenIds: [],
        signal: ctrl.signal,
        onToken: () => {
          if (++seen === 3) ctrl.abort();
        },
      }),
      (e: Error & { code?: string }) => e.code === 'CANCELLED',
    );
    assert.equal(seen, 3, 'no token after the abort');
    // The cache is still usable and consistent afterwards.
    const r = await generate(model, golden.cases[0].input_ids, { maxNewTokens: 4, stopTokenIds: [] });
    assert.deepEqual(r.tokens, golden.cases[0].greedy_tokens.slice(0, 4));
  });

  it('refuses an empty prompt and a prompt longer than the context', async () => {
    await assert.rejects(
      generate(model, [], { maxNewTokens: 4 }),
      (e: Error & { code?: string }) => e.code === 'PROMPT_EMPTY',
    );
    const tooLong = new Array<number>(model.contextLength + 5).fill(golden.cases[0].input_ids[0]);
    await assert.rejects(
      generate(model, tooLong, { maxNewTokens: 4 }),
      (e: Error & { code?: string }) => e.code === 'PROMPT_TOO_LONG' && /context/.test(e.message),
    );
  });

  it('stops at the end of the context', async () => {
    const ids = new Array<number>(model.contextLength - 3).fill(golden.cases[0].input_ids[0]);
    const r = await generate(model, ids, { maxNewTokens: 10, stopTokenIds: [], reuseCache: false });
    assert.equal(r.tokens.length, 3);
    assert.equal(r.stopReason, 'context_full');
  });
});
