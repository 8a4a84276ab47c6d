/**
 * The line judge's shortcuts change its cost, never its choice: candidates that share their first
 * tokens are scored from the shared KV and rows as if each were scored alone; candidates whose
 * bound cannot beat the best are left unscored, and the line chosen is the one scoring all would
 * choose; a second prefill of the prompt the cache still holds gives the row the first run gave.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CopyCache } from '../../src/engine/generation/copyCache';
import { matchIdsOf } from '../../src/engine/completion/completion';
import { Engine } from '../../src/engine/engine';
import { prefill } from '../../src/engine/generation/generate';
import type { LineCandidate } from '../../src/engine/completion/lineCandidates';
import {
  DEFAULT_JUDGE,
  judgeLines,
  scoreBound,
  type JudgedCandidate,
  type JudgeInput,
} from '../../src/engine/completion/lineJudge';
import { StageClock } from '../../src/engine/runtime/stageClock';
import { ROOT } from './helpers';

const MODEL = path.join(ROOT, 'models', 'glassbox-code');
const PROMPT = 'def main(config):\n    load_model(config)\n    load_data(config)\n    train(co';

const line = (text: string, origin: LineCandidate['origin'] = 'copy', match = 8): LineCandidate => ({
  text,
  origin,
  match: origin === 'model' ? 0 : match,
  votes: 1,
});

// lines that share their first tokens (`nfig`), and one that shares nothing
const CANDIDATES = [
  line('nfig)', 'model'),
  line('nfig):', 'copy', 17),
  line('nfig, epochs=3)', 'copy', 6),
  line('unt += 1', 'copy', 4),
  line('}]', 'copy', 1), // no copy evidence, nothing like the others: it cannot win
];

describe('line judge', { skip: !fs.existsSync(path.join(MODEL, 'golden.json')) && 'model not built' }, () => {
  let engine: Engine;
  before(async () => (engine = await Engine.load(MODEL)));
  after(async () => engine.dispose());

  function input(): JudgeInput {
    const model = engine.model;
    const prompt = model.tokenizer.encodeText(PROMPT);
    const copy = new CopyCache(prompt, model.tokenizer.specialIds, engine.copyTable, matchIdsOf(model.tokenizer));
    return { model, copy, base: prompt.length, prompt, healText: '', clock: new StageClock(), reuseCache: false };
  }

  it('scores lines that share their first tokens as it scores each alone', async () => {
    const { judged } = await judgeLines(input(), CANDIDATES, DEFAULT_JUDGE, true);
    for (const c of judged as JudgedCandidate[]) {
      const alone = (await judgeLines(input(), [c], DEFAULT_JUDGE, true)).judged[0] as JudgedCandidate;
      for (const k of ['meanLogprob', 'endLogprob', 'meanLogMixture', 'minMixture'] as const)
        assert.ok(Math.abs(c[k] - alone[k]) < 1e-3, `${c.text} ${k}: ${c[k]} shared, ${alone[k]} alone`);
      assert.equal(c.tokens, alone.tokens);
    }
  });

  it('leaves unscored only candidates that could not win, and chooses what scoring all chooses', async () => {
    const all = await judgeLines(input(), CANDIDATES, DEFAULT_JUDGE, true);
    const pruned = await judgeLines(input(), CANDIDATES, DEFAULT_JUDGE, false);
    assert.equal(pruned.best.text, all.best.text);
    assert.equal(pruned.judged[0].text, all.judged[0].text);
    assert.ok(
      all.judged.every((c) => 'score' in c),
      'all: every candidate is scored',
    );
    const best = (pruned.judged[0] as JudgedCandidate).score;
    assert.ok(
      pruned.judged.some((c) => !('score' in c)),
      'the line that cannot win is left unscored',
    );
    for (const c of pruned.judged) {
      if ('score' in c) continue;
      assert.ok(scoreBound(c, DEFAULT_JUDGE) < best, `${c.text} was left unscored with a bound that could win`);
    }
    // the bound is a bound: no scored candidate beats it
    for (const c of all.judged as JudgedCandidate[]) assert.ok(c.score <= scoreBound(c, DEFAULT_JUDGE) + 1e-9);
  });

  it('a weight that makes the bound meaningless scores every candidate', async () => {
    const weights = { ...DEFAULT_JUDGE, endLogprob: -1 };
    assert.equal(scoreBound(CANDIDATES[0] as LineCandidate & { consensus: number }, weights), Infinity);
    const { judged } = await judgeLines(input(), CANDIDATES, weights, false);
    assert.ok(judged.every((c) => 'score' in c));
  });

  it('a second prefill of the prompt the cache holds gives the same row without running it', async () => {
    const { model, prompt } = input();
    const clock = new StageClock();
    const first = await prefill(model, prompt, { clock, lean: false, reuseCache: false });
    await model.steps(model.tokenizer.encodeText('nfig)\n'), model.cache); // the cache goes on past the prompt
    const again = new StageClock();
    const second = await prefill(model, prompt, { clock: again, lean: false });
    assert.equal(second.reused, prompt.length);
    assert.equal(again.ms.run_prefill ?? 0, 0, 'no run');
    assert.equal(model.cache.length, prompt.length, 'the cache is cut back to the prompt');
    assert.deepEqual(Array.from(second.step.logits.slice(0, 64)), Array.from(first.step.logits.slice(0, 64)));
    // another prompt (one token less) runs
    const other = await prefill(model, prompt.slice(0, -1), { clock: again, lean: false, reuseCache: false });
    assert.ok(other.reused === 0);
  });
});
