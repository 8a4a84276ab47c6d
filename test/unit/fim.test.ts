import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { detectFimTemplate, type FimFamily } from '../../src/engine/completion/fim';
import { buildFimPrompt, PREFIX_CUT_STEP } from '../../src/engine/completion/fimPrompt';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { copyModel, TEST_MODEL } from './helpers';

const base = TextTokenizer.load(locateModelFiles(TEST_MODEL));

/**
 * The test model's real BPE tokenizer with its special tokens replaced by another family's, so
 * each family's detection and layout run on a real tokenizer.json.
 */
function tokenizerWith(specials: string[], extraConfig: Record<string, unknown> = {}): TextTokenizer {
  const dir = copyModel(TEST_MODEL);
  const file = path.join(dir, 'tokenizer.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const t of json.added_tokens as { content: string }[]) delete json.model.vocab[t.content];
  let next = Math.max(...Object.values(json.model.vocab as Record<string, number>)) + 1;
  json.added_tokens = specials.map((content) => ({
    id: next++,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  fs.writeFileSync(file, JSON.stringify(json));
  const configFile = path.join(dir, 'tokenizer_config.json');
  fs.writeFileSync(configFile, JSON.stringify({ ...extraConfig }));
  return TextTokenizer.load(locateModelFiles(dir));
}

const families: Record<
  Exclude<FimFamily, 'none' | 'glassbox'>,
  { specials: string[]; order: string[]; config?: Record<string, unknown> }
> = {
  qwen: {
    specials: [
      '<|endoftext|>',
      '<|fim_prefix|>',
      '<|fim_middle|>',
      '<|fim_suffix|>',
      '<|fim_pad|>',
      '<|file_sep|>',
      '<|im_end|>',
    ],
    order: ['<|fim_prefix|>', 'P', '<|fim_suffix|>', 'S', '<|fim_middle|>'],
  },
  starcoder: {
    specials: ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<file_sep>'],
    order: ['<fim_prefix>', 'P', '<fim_suffix>', 'S', '<fim_middle>'],
  },
  deepseek: {
    specials: [
      '<｜begin▁of▁sentence｜>',
      '<｜end▁of▁sentence｜>',
      '<｜fim▁hole｜>',
      '<｜fim▁begin｜>',
      '<｜fim▁end｜>',
      '<|EOT|>',
    ],
    order: ['<｜fim▁begin｜>', 'P', '<｜fim▁hole｜>', 'S', '<｜fim▁end｜>'],
  },
  codellama: {
    specials: ['<s>', '</s>', '▁<PRE>', '▁<MID>', '▁<SUF>', '▁<EOT>'],
    order: ['<s>', '▁<PRE>', 'P', '▁<SUF>', 'S', '▁<MID>'],
    config: { bos_token: '<s>' },
  },
};

/** Splits prompt ids back into special-token names and the text between them. */
function layout(tok: TextTokenizer, ids: number[], prefix: string, suffix: string): string[] {
  const out: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length) {
      const text = tok.decode(run);
      out.push(text === prefix ? 'P' : text === suffix ? 'S' : `?${text}`);
      run = [];
    }
  };
  for (const id of ids) {
    if (tok.specialIds.has(id)) {
      flush();
      out.push(tok.decode([id]));
    } else run.push(id);
  }
  flush();
  return out;
}

describe('FIM prompts', () => {
  const prefix = 'def add(a, b):\n    return ';
  const suffix = '\n\nprint(add(1, 2))\n';

  it("uses Glassbox's own format for the embedded model: SPM, the order it was trained on", () => {
    const t = detectFimTemplate(base);
    assert.equal(t.family, 'glassbox');
    assert.equal(t.order, 'spm');
    const p = buildFimPrompt(base, t, { prefix, suffix, budgetTokens: 400 });
    assert.deepEqual(layout(base, p.ids, prefix, suffix), [
      '<|fim_prefix|>',
      '<|fim_suffix|>',
      'S',
      '<|fim_middle|>',
      'P',
    ]);
    assert.ok(t.stopTokenIds.includes(base.tokenId('<|endoftext|>')!));
  });

  for (const [family, spec] of Object.entries(families)) {
    it(`detects and lays out ${family}`, () => {
      const tok = tokenizerWith(spec.specials, spec.config);
      const t = detectFimTemplate(tok);
      assert.equal(t.family, family);
      const p = buildFimPrompt(tok, t, { prefix, suffix, budgetTokens: 400 });
      assert.deepEqual(layout(tok, p.ids, prefix, suffix), spec.order);
      assert.ok(t.stopTokenIds.length > 0, 'family has stop tokens');
    });
  }

  it('falls back to prefix-only when the model has no FIM tokens', () => {
    const tok = tokenizerWith(['<|endoftext|>']);
    const t = detectFimTemplate(tok);
    assert.equal(t.family, 'none');
    const p = buildFimPrompt(tok, t, { prefix, suffix, budgetTokens: 400 });
    assert.equal(tok.decode(p.ids), prefix);
    assert.equal(p.suffixTokens, 0);
  });

  it('cuts the prefix from the left and the suffix from the right, about 85/15', () => {
    const t = detectFimTemplate(base);
    const longPrefix = Array.from({ length: 200 }, (_, i) => `x${i} = ${i}\n`).join('');
    const longSuffix = Array.from({ length: 200 }, (_, i) => `y${i} = ${i}\n`).join('');
    const p = buildFimPrompt(base, t, { prefix: longPrefix, suffix: longSuffix, budgetTokens: 203 });
    assert.ok(p.ids.length <= 203);
    assert.ok(p.prefixTokens <= 170 && p.prefixTokens > 170 - PREFIX_CUT_STEP, `prefix tokens ${p.prefixTokens}`);
    assert.equal(p.cutPrefix % PREFIX_CUT_STEP, 0, 'cut in whole steps');
    assert.equal(p.suffixTokens, 30);
    assert.ok(p.cutPrefix > 0 && p.cutSuffix > 0);
    const text = base.decode(p.ids);
    assert.ok(text.endsWith('x199 = 199\n'), 'the end of the prefix is kept, next to the hole');
    assert.ok(text.includes('<|fim_suffix|>y0 = 0\n'), 'the start of the suffix is kept');
  });

  it('keeps the same prompt start while the user types at the cursor', () => {
    const t = detectFimTemplate(base);
    const longPrefix = Array.from({ length: 200 }, (_, i) => `x${i} = ${i}\n`).join('');
    const first = buildFimPrompt(base, t, { prefix: longPrefix, suffix: '', budgetTokens: 300 });
    let same = 0;
    let typed = '';
    for (const ch of 'print(x199 + x198)') {
      typed += ch;
      const next = buildFimPrompt(base, t, { prefix: longPrefix + typed, suffix: '', budgetTokens: 300 });
      if (next.cutPrefix === first.cutPrefix && next.ids[3] === first.ids[3]) same++;
    }
    assert.ok(same >= 15, `the start moved on ${18 - same} of 18 keystrokes`);
  });

  it('gives the prefix the room a short suffix leaves', () => {
    const t = detectFimTemplate(base);
    const longPrefix = Array.from({ length: 200 }, (_, i) => `x${i} = ${i}\n`).join('');
    const p = buildFimPrompt(base, t, { prefix: longPrefix, suffix: '\n', budgetTokens: 203 });
    assert.equal(p.suffixTokens, base.encode('\n').length);
    assert.ok(p.prefixTokens > 200 - p.suffixTokens - PREFIX_CUT_STEP && p.prefixTokens <= 200 - p.suffixTokens);
  });
});
