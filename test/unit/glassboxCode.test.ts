/**
 * The model Glassbox ships (models/glassbox-code, built by models/recipe/): its tokenizer round-trips
 * any text and matches the native library, the engine reproduces PyTorch's golden outputs for every
 * ONNX variant it names, and the engine recognises its FIM and explain formats. Skipped until the
 * folder exists.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tokenizer as NativeTokenizer } from 'tokenizers';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { detectFimTemplate } from '../../src/engine/completion/fim';
import { generate } from '../../src/engine/generation/generate';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { buildExplainPrompt } from '../../src/engine/explain/prompts';
import { seededRandom } from '../../src/engine/generation/sampling';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { maxAbsDiff, readGolden, ROOT, type Golden } from './helpers';

const MODEL = path.join(ROOT, 'models', 'glassbox-code');
const present = fs.existsSync(path.join(MODEL, 'golden.json'));

/** Random valid Unicode: ASCII, code, whitespace, Latin, CJK, emoji and astral code points. */
function randomText(random: () => number, length: number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e],
    [0x20, 0x7e],
    [0x09, 0x0d],
    [0xa0, 0x24f],
    [0x4e00, 0x9fff],
    [0x1f300, 0x1faff],
    [0x10000, 0x10ffff],
  ];
  let s = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = ranges[Math.floor(random() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
  }
  return s;
}

describe('glassbox-code (the shipped model)', { skip: present ? false : 'models/glassbox-code not built yet' }, () => {
  let tok: TextTokenizer;
  let golden: Golden;
  before(() => {
    tok = TextTokenizer.load(locateModelFiles(MODEL));
    golden = readGolden(MODEL);
  });

  it('round-trips 300 random Unicode strings and matches the native tokenizer', async () => {
    const random = seededRandom(11);
    const native = NativeTokenizer.fromFile(path.join(MODEL, 'tokenizer.json'));
    for (let i = 0; i < 300; i++) {
      const text = randomText(random, 1 + Math.floor(random() * 80));
      const ids = tok.encode(text);
      assert.equal(tok.decode(ids), text, `failed on ${JSON.stringify(text)}`);
      if (i % 10 === 0) assert.deepEqual(ids, (await native.encode(text, null, { addSpecialTokens: false })).getIds());
    }
  });

  it("has the special-token ids the recipe and the engine agree on, and Glassbox's FIM and explain formats", () => {
    const specials = [
      '<|endoftext|>',
      '<|fim_prefix|>',
      '<|fim_middle|>',
      '<|fim_suffix|>',
      '<|fim_pad|>',
      '<|file_sep|>',
      '<|explain|>',
    ];
    specials.forEach((t, i) => assert.equal(tok.tokenId(t), i, t));
    assert.equal(detectFimTemplate(tok).family, 'glassbox');
    const p = buildExplainPrompt(tok, { code: 'def f():\n    pass\n' });
    assert.equal(p.style, 'glassbox');
    assert.equal(p.ids.at(-1), tok.tokenId('<|explain|>'));
    // A selection without a final newline gets one, as every training pair's code had.
    assert.deepEqual(buildExplainPrompt(tok, { code: 'def f():\n    pass' }).ids, p.ids);
  });

  describe('fp32 graph against the PyTorch goldens', () => {
    let model: DecoderModel;
    before(async () => {
      model = await DecoderModel.load(MODEL, { onnxFile: golden.onnx });
    });
    after(() => model.dispose());

    it('reproduces the reference logits at every prompt position', async () => {
      for (const c of golden.cases) {
        assert.deepEqual(model.tokenizer.encode(c.prompt), c.input_ids, `${c.name}: tokenization`);
        const rows = await model.logits(c.input_ids);
        let worst = 0;
        rows.forEach((row, t) => (worst = Math.max(worst, maxAbsDiff(row, c.logits[t]))));
        assert.ok(worst <= golden.atol, `${c.name}: max |Δlogit| ${worst} > ${golden.atol}`);
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
  });

  it('loads the default variant config.json names, and it agrees with fp32 on the first greedy token of most prompts', async () => {
    const model = await DecoderModel.load(MODEL);
    try {
      let agree = 0;
      for (const c of golden.cases) {
        const r = await generate(model, c.input_ids, { maxNewTokens: 1, stopTokenIds: [], reuseCache: false });
        if (r.tokens[0] === c.greedy_tokens[0]) agree++;
      }
      assert.ok(
        agree >= golden.cases.length - 2,
        `${path.basename(model.files.onnxPath)} agrees on ${agree}/${golden.cases.length}`,
      );
    } finally {
      await model.dispose();
    }
  });
});
