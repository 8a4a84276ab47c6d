/**
 * The copied line, the completion's second candidate (src/engine/completion/copyLine.ts), on the shipped
 * model: what it copies, and that each of its tokens' probabilities is the mixture's, as an
 * independent run over the whole sequence and a fresh copy cache give it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { matchIdsOf } from '../../src/engine/completion/completion';
import { CopyCache } from '../../src/engine/generation/copyCache';
import { copiedLine, copyLine } from '../../src/engine/completion/copyLine';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { hasRepeatedNgram } from '../../src/engine/generation/guards';
import { logSumExp } from '../../src/engine/generation/sampling';
import { StageClock } from '../../src/engine/runtime/stageClock';
import { ROOT } from './helpers';

const MODEL = path.join(ROOT, 'models', 'glassbox-code');
const present = fs.existsSync(path.join(MODEL, 'golden.json'));

const SOURCE = '  const total = cart.items.reduce((sum, item) => sum + item.price * item.quantity, 0);\n';
/** The prefix as token healing leaves it: `reduce(` without its `(` (the source has `((`), which the completion retypes. */
const TEXT = `function subtotal(cart) {\n${SOURCE}  return total;\n}\n\nfunction checkout(cart) {\n  const total = cart.items.reduce`;
const HEAL = '(';

describe('the copied line on glassbox-code', { skip: present ? false : 'models/glassbox-code not built yet' }, () => {
  let model: DecoderModel;
  before(async () => {
    model = await DecoderModel.load(MODEL);
  });
  after(() => model.dispose());

  const newCopy = (ids: readonly number[]) =>
    new CopyCache(ids, model.tokenizer.specialIds, undefined, matchIdsOf(model.tokenizer));

  it('copies the rest of the matched line, each token at the mixture probability', async () => {
    const tok = model.tokenizer;
    const prompt = tok.encode(TEXT);
    const copy = newCopy(prompt);
    const alt = await copyLine({
      model,
      copy,
      base: prompt.length,
      prompt,
      healText: HEAL,
      maxTokens: 64,
      stopStrings: ['\n'],
      textRules: [],
      clock: new StageClock(),
    });
    assert.ok(alt, 'a candidate');
    assert.equal(alt.text, '(sum, item) => sum + item.price * item.quantity, 0);');
    assert.deepEqual(model.cache.tokens, [...prompt, ...alt.tokens.slice(0, -1)], 'the KV cache holds the copy');

    // the same probabilities from one run over the whole sequence and a fresh cache
    const rows = await model.logits([...prompt, ...alt.tokens]);
    const fresh = newCopy(prompt);
    alt.tokens.forEach((id, i) => {
      const row = rows[prompt.length - 1 + i];
      const pModel = Math.exp(row[id] - logSumExp(row));
      const pred = fresh.predict();
      const lambda = pred?.weight ?? 0;
      const pCache = pred?.candidates.find((c) => c.id === id)?.p ?? 0;
      const p = (1 - lambda) * pModel + lambda * pCache;
      const got = alt.steps[i].source!;
      assert.ok(Math.abs(got.p - p) < 2e-3, `token ${i}: ${got.p} vs ${p}`);
      assert.equal(got.weight, lambda);
      fresh.push(id, true);
    });
  });

  it('offers nothing without a match, or where the match contradicts the healed text', async () => {
    const tok = model.tokenizer;
    const input = { model, maxTokens: 64, stopStrings: ['\n'], textRules: [], clock: new StageClock() };
    const prompt = tok.encode(TEXT);
    assert.equal(
      await copyLine({ ...input, copy: newCopy(prompt), base: prompt.length, prompt, healText: 'x =' }),
      null,
    );
    const fresh = tok.encode('let alpha = 1;\nreturn zeta');
    assert.equal(
      await copyLine({ ...input, copy: newCopy(fresh), base: fresh.length, prompt: fresh, healText: '' }),
      null,
    );
  });

  it('stops a copied line before a token trigram repeats a third time', () => {
    const tok = model.tokenizer;
    const text =
      'const zeros = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];\nconst ones = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];\nconst more = [';
    const prompt = tok.encode(text);
    const line = copiedLine(tok, {
      copy: newCopy(prompt),
      base: prompt.length,
      prompt,
      healText: '',
      maxTokens: 64,
      stopStrings: ['\n'],
      textRules: [],
    });
    assert.ok(line, 'a copy');
    assert.ok(!hasRepeatedNgram(line.ids), JSON.stringify(line.text));
    assert.ok(line.text.startsWith('0, 0'), JSON.stringify(line.text));
  });
});
