import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { TEST_MODEL } from './helpers';

describe('engine: completion and explain', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load(TEST_MODEL);
  });
  after(() => engine.dispose());

  it('completes at a cursor with a FIM prompt in the model format', async () => {
    const r = await engine.complete({ prefix: 'def add(a, b):\n    return ', suffix: '\n', maxNewTokens: 8 });
    assert.equal(r.fimFamily, 'glassbox');
    // glassbox's format puts the prefix last, after <|fim_middle|>; the typed space is healed (the
    // model generates it again), so the prompt ends before it
    assert.equal(r.promptText, '<|fim_prefix|><|fim_suffix|>\n<|fim_middle|>def add(a, b):\n    return');
    assert.equal(r.prompt.healed, ' ');
    assert.equal(r.prompt.prefixTokens, engine.tokenize('def add(a, b):\n    return').ids.length);
    assert.equal(r.prompt.suffixTokens, engine.tokenize('\n').ids.length);
    assert.equal(r.prompt.tokens, r.prompt.prefixTokens + r.prompt.suffixTokens + 3, 'and the three FIM tokens');
    assert.equal(r.timings.promptTokens, r.prompt.tokens);
    // test-tiny's random weights end neither the text nor the line here: it completes all 8 tokens
    assert.equal(r.stopReason, 'max_tokens');
    assert.equal(r.tokens.length, 8);
    assert.equal(r.timings.generatedTokens, 8);
    // and shows what they say after the cursor: the healed space is not shown again
    const said = engine.model.tokenizer.decode(r.tokens).replaceAll('\uFFFD', '');
    assert.equal(` ${r.text}`, said, JSON.stringify(said));
  });

  it('typing one more character reuses the cached prefix', async () => {
    const prefix = 'import os\nimport sys\n\ndef main(argv):\n    for arg in argv:\n        print(arg';
    await engine.complete({ prefix, suffix: ')\n', maxNewTokens: 4 });
    const r = await engine.complete({ prefix: prefix + 'v', suffix: ')\n', maxNewTokens: 4 });
    assert.ok(
      r.timings.reusedTokens >= r.prompt.prefixTokens - 3,
      `reused ${r.timings.reusedTokens} of ${r.prompt.prefixTokens} prefix tokens`,
    );
  });

  it('completes at the very start of an empty file', async () => {
    // No stop tokens: a model that runs from the bare FIM frame generates exactly maxNewTokens.
    const r = await engine.complete({ prefix: '', suffix: '', maxNewTokens: 4, stopTokenIds: [] });
    assert.equal(r.prompt.prefixTokens, 0);
    assert.equal(r.prompt.suffixTokens, 0);
    assert.ok(r.prompt.tokens > 0, 'the prompt is the FIM markers alone');
    assert.equal(r.tokens.length, 4);
    assert.equal(r.stopReason, 'max_tokens');
    assert.equal(r.timings.generatedTokens, 4);
  });

  it('cuts a prompt longer than the context to the budget', async () => {
    const huge = 'x = 1\n'.repeat(5000);
    const r = await engine.complete({ prefix: huge, suffix: huge, maxNewTokens: 4 });
    assert.ok(r.prompt.cutPrefix > 0 && r.prompt.cutSuffix > 0);
    assert.ok(r.prompt.tokens + 4 <= engine.info().contextLength);
  });

  it('a 16 MB single word is cut to what the context holds before it is tokenized', { timeout: 60_000 }, async () => {
    const word = 'a'.repeat(16 * 2 ** 20);
    const r = await engine.generate(word, { maxNewTokens: 1, stopTokenIds: [] });
    assert.equal(r.tokens.length, 1);
    assert.ok(r.cutTokens >= 0);
    const e = await engine.explain({ code: word, maxNewTokens: 1 });
    assert.ok(e.promptText.length <= engine.model.contextLength * 64 + 64, 'the explain prompt holds the end of it');
  });

  it("explains with the embedded model's explain format and streams", async () => {
    const streamed: string[] = [];
    const r = await engine.explain({
      code: 'def add(a, b):\n    return a + b\n',
      maxNewTokens: 12,
      onToken: (t) => streamed.push(t.text),
    });
    assert.equal(r.style, 'glassbox');
    assert.ok(r.promptText.endsWith('<|explain|>'));
    assert.ok(streamed.length > 0, 'tokens were streamed through onToken');
    assert.ok(r.text.length > 0);
    assert.equal(streamed.join(''), r.text, 'the streamed pieces are the explanation');
  });

  it('refuses to explain nothing', async () => {
    await assert.rejects(
      engine.explain({ code: '   \n' }),
      (e: Error & { code?: string }) => e.code === 'PROMPT_EMPTY',
    );
  });

  it('generate() drops the start of an over-long prompt and says how much', async () => {
    const r = await engine.generate('a = 1\n'.repeat(2000), { maxNewTokens: 2, stopTokenIds: [] });
    assert.ok(r.cutTokens > 0);
    assert.equal(r.tokens.length, 2);
  });

  it('runs concurrent requests one after another without mixing caches', async () => {
    const a = engine.generate('def f(x):\n', { maxNewTokens: 6, stopTokenIds: [], reuseCache: false });
    const b = engine.generate('class A:\n', { maxNewTokens: 6, stopTokenIds: [], reuseCache: false });
    const [ra, rb] = await Promise.all([a, b]);
    const ra2 = await engine.generate('def f(x):\n', { maxNewTokens: 6, stopTokenIds: [], reuseCache: false });
    const rb2 = await engine.generate('class A:\n', { maxNewTokens: 6, stopTokenIds: [], reuseCache: false });
    assert.deepEqual(ra.tokens, ra2.tokens);
    assert.deepEqual(rb.tokens, rb2.tokens);
  });
});
