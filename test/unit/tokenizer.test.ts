import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Tokenizer as NativeTokenizer } from 'tokenizers';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { seededRandom } from '../../src/engine/generation/sampling';
import { IncrementalDecoder, TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { copyModel, ROOT, TEST_MODEL } from './helpers';

const tok = TextTokenizer.load(locateModelFiles(TEST_MODEL));

/** A random string of valid Unicode scalar values from several planes (no lone surrogates). */
function randomUnicode(random: () => number, length: number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e], // ASCII
    [0x09, 0x0d], // tabs, newlines, CR
    [0xa0, 0x24f], // Latin
    [0x370, 0x3ff], // Greek
    [0x4e00, 0x9fff], // CJK
    [0xac00, 0xd7a3], // Hangul
    [0xe000, 0xf8ff], // private use
    [0x1f300, 0x1faff], // emoji
    [0x10000, 0x10ffff], // everything astral
  ];
  let s = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = ranges[Math.floor(random() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
  }
  return s;
}

describe('tokenizer', () => {
  const samples = {
    emoji: 'const ok = "✅ done 🎉👩🏽‍💻";',
    cjk: '# 计算两个数的和\ndef 加法(a, b):\n    return a + b  # 日本語のコメント',
    crlf: 'line one\r\nline two\r\n\r\n',
    tabs: 'function f() {\n\tif (x) {\n\t\treturn 1;\t// tab\n\t}\n}',
    mixed: '\uFEFFzero\u200Bwidth  and  double  spaces\n\n\n',
  };

  for (const [name, text] of Object.entries(samples)) {
    it(`round-trips ${name}`, () => {
      const ids = tok.encode(text);
      assert.ok(ids.length > 0);
      assert.equal(tok.decode(ids), text);
    });
  }

  it('round-trips 300 random Unicode strings exactly', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 300; i++) {
      const text = randomUnicode(random, 1 + Math.floor(random() * 60));
      assert.equal(tok.decode(tok.encode(text)), text, `failed on ${JSON.stringify(text)}`);
    }
  });

  it('gives the same ids as the native Hugging Face tokenizers library', async () => {
    const native = NativeTokenizer.fromFile(path.join(TEST_MODEL, 'tokenizer.json'));
    const texts = [
      ...Object.values(samples),
      fs.readFileSync(path.join(ROOT, 'src/engine/generation/generate.ts'), 'utf8').slice(0, 3000),
    ];
    for (const text of texts) {
      const ref = await native.encode(text, null, { addSpecialTokens: false });
      assert.deepEqual(tok.encode(text), ref.getIds());
    }
  });

  it('maps special-token text to its single id and can skip it when decoding', () => {
    const eos = tok.tokenId('<|endoftext|>');
    assert.ok(eos !== undefined && tok.specialIds.has(eos));
    const ids = tok.encode('a<|endoftext|>b');
    assert.ok(ids.includes(eos));
    assert.equal(tok.decode(ids, { skipSpecial: true }), 'ab');
  });

  it('streams text without splitting a UTF-8 sequence across tokens', () => {
    const text = '🎉 ok 计算';
    const ids = tok.encode(text);
    const dec = new IncrementalDecoder(tok);
    const parts = ids.map((id) => dec.push(id));
    assert.equal(parts.join('') + dec.rest(), text);
    for (const p of parts) assert.ok(!p.includes('\uFFFD'), `partial character streamed: ${JSON.stringify(p)}`);
  });

  it('decodes by joining cached token texts exactly as the tokenizer library does', () => {
    for (const text of [
      'def f(x):\n\treturn x  # done\n',
      'a<|endoftext|>b',
      'const s = "naïve ✓ 🎉";\n',
      '    \n\n  return {\r\n}',
    ]) {
      const ids = tok.encode(text);
      assert.equal(tok.decode(ids), text, JSON.stringify(text));
    }
  });

  it('decodes any id sequence as the library does, parts of UTF-8 sequences among whole tokens', () => {
    const library = (ids: number[]) => tok['libraryDecode'](ids, {});
    const partial = [...Array(tok.vocabSize).keys()].filter((id) => tok.tokenText(id).includes('\uFFFD'));
    assert.ok(partial.length > 0, 'the test tokenizer has byte tokens that are parts of characters');
    const ascii = tok.encode('let x = 1; // ok\n');
    let seed = 12345;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let trial = 0; trial < 200; trial++) {
      const ids = Array.from({ length: 2 + rand(30) }, () =>
        rand(3) === 0 ? partial[rand(partial.length)] : ascii[rand(ascii.length)],
      );
      assert.equal(tok.decode(ids), library(ids), JSON.stringify(ids));
    }
    const mixed = tok.encode('// naïve → ✓ 🎉 done\nconst π = 3.14; /* ü */');
    assert.equal(tok.decode(mixed), library(mixed));
  });

  it('decodes a prompt that shares its start with the last one as decode() does, partial characters at the seam too', () => {
    const partial = [...Array(tok.vocabSize).keys()].filter((id) => tok.tokenText(id).includes('\uFFFD'));
    const ascii = tok.encode('let x = 1; // ok\n');
    let seed = 777;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const pick = () => (rand(3) === 0 ? partial[rand(partial.length)] : ascii[rand(ascii.length)]);
    let ids = Array.from({ length: 40 }, pick);
    for (let trial = 0; trial < 300; trial++) {
      // a keystroke: the last few ids change, or (a new window) all of them
      const keep = rand(5) === 0 ? 0 : rand(ids.length + 1);
      ids = [...ids.slice(0, keep), ...Array.from({ length: rand(6) }, pick)];
      assert.equal(tok.decodePrompt(ids), tok.decode(ids), JSON.stringify(ids));
    }
    const text = '// naïve → ✓ 🎉 done\nconst π = 3.14;';
    const whole = tok.encode(text);
    assert.equal(tok.decodePrompt(whole), text);
    assert.equal(tok.decodePrompt(whole.slice(0, -3)), tok.decode(whole.slice(0, -3)));
    assert.equal(tok.decodePrompt([]), '');
  });

  it("streams a byte-level tokenizer by its tokens' own texts, exactly as decoding the whole", () => {
    assert.equal(tok.concatenates, true, 'a ByteLevel decoder');
    const text = 'function f(a: number) {\n  return "✓ ok" + a; // 🎉 done\n}\n\n\tconst x = [1, 2];';
    const ids = tok.encode(text);
    const dec = new IncrementalDecoder(tok);
    const parts = ids.map((id) => dec.push(id));
    assert.equal(parts.join('') + dec.rest(), tok.decode(ids, { skipSpecial: true }));
  });

  it('rejects a tokenizer.json of an unsupported type with a message naming the file', () => {
    const dir = copyModel(TEST_MODEL);
    const file = path.join(dir, 'tokenizer.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.model.type = 'SentencePieceMagic';
    fs.writeFileSync(file, JSON.stringify(json));
    assert.throws(
      () => TextTokenizer.load(locateModelFiles(dir)),
      (e: Error & { code?: string }) =>
        e.code === 'TOKENIZER_INVALID' && e.message.includes(file) && e.message.includes('SentencePieceMagic'),
    );
  });

  it('rejects a tokenizer.json that is not JSON', () => {
    const dir = copyModel(TEST_MODEL);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ');
    assert.throws(() => TextTokenizer.load(locateModelFiles(dir)), /TOKENIZER_INVALID|could not be read as JSON/);
  });
});
