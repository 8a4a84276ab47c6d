import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { EMBEDDED_MODEL } from '../../src/engine/runtime/embedded';
import {
  commonPrefixChars,
  cutAtLines,
  IncrementalEncoder,
  lineCutRule,
  PieceCache,
} from '../../src/engine/runtime/lineChunks';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { seededRandom } from '../../src/engine/generation/sampling';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { ROOT } from './helpers';

const MODEL_DIR = path.join(ROOT, 'models', EMBEDDED_MODEL);
const tokenizerJson = () =>
  JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;

/** The embedded model's vocabulary and merges under another pre-tokenizer, as a model folder. */
function withPreTokenizer(preTokenizer: unknown): TextTokenizer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-pretok-'));
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({ ...tokenizerJson(), pre_tokenizer: preTokenizer }),
  );
  return TextTokenizer.load({ tokenizerPath: path.join(dir, 'tokenizer.json') });
}

const GPT2_BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
const LLAMA3_SPLIT = {
  type: 'Sequence',
  pretokenizers: [
    {
      type: 'Split',
      pattern: {
        Regex:
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      },
      behavior: 'Isolated',
      invert: false,
    },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};

/** Source text with the shapes that matter at line starts: indentation, blank lines, CRLF, tabs, non-ASCII. */
function sampleTexts(): string[] {
  const files = [
    'src/engine/generation/generate.ts',
    'src/engine/completion/fim.ts',
    'models/recipe/model.py',
    'README.md',
  ].map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8'));
  const rnd = seededRandom(7);
  const odd = Array.from(
    { length: 200 },
    () => ['\n', '\r\n', '\n\n', '  ', '\t', 'x', '🙂', 'é', '}', '\n   \n', ' \n'][Math.floor(rnd() * 11)],
  ).join('');
  return [...files, files[0].replaceAll('\n', '\r\n'), odd, files[1].slice(0, 3000) + odd + files[2].slice(0, 3000)];
}

describe('line-cached encoding', () => {
  it('picks the cut rule from the pre-tokenizer, and none where cutting could change tokens', () => {
    const json = tokenizerJson();
    assert.equal(lineCutRule(json), 'before-any-line');
    assert.equal(lineCutRule({ ...json, pre_tokenizer: GPT2_BYTE_LEVEL }), 'before-text');
    assert.equal(lineCutRule({ ...json, pre_tokenizer: LLAMA3_SPLIT }), 'before-any-line');
    assert.equal(lineCutRule({ ...json, pre_tokenizer: { type: 'Metaspace' } }), undefined);
    assert.equal(lineCutRule({ ...json, normalizer: { type: 'Lowercase' } }), undefined);
    assert.equal(lineCutRule({ ...json, model: { type: 'Unigram' } }), undefined);
    assert.equal(lineCutRule({ ...json, added_tokens: [{ lstrip: true }] }), undefined);
    assert.equal(lineCutRule({ ...json, added_tokens: [{ content: '\n    ' }] }), undefined);
    assert.equal(
      lineCutRule({
        ...json,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [{ type: 'Split', pattern: { Regex: '.+' } }, GPT2_BYTE_LEVEL],
        },
      }),
      undefined,
    );
  });

  it('cuts after line breaks only, and the pieces join back to the text', () => {
    const text = 'a\n  b\n\nc\r\n\td\ne';
    assert.deepEqual(cutAtLines(text, 'before-any-line'), ['a\n', '  b\n\n', 'c\r\n', '\td\n', 'e']);
    assert.deepEqual(cutAtLines(text, 'before-text'), ['a\n  b\n\nc\r\n\td\n', 'e']);
    for (const t of sampleTexts())
      for (const rule of ['before-any-line', 'before-text'] as const) assert.equal(cutAtLines(t, rule).join(''), t);
  });

  for (const [name, make] of [
    ['the embedded model', () => TextTokenizer.load(locateModelFiles(MODEL_DIR))],
    ["GPT-2's byte-level regex", () => withPreTokenizer(GPT2_BYTE_LEVEL)],
    ["Llama 3's split regex", () => withPreTokenizer(LLAMA3_SPLIT)],
  ] as const) {
    it(`gives exactly the ids of encoding the text whole: ${name}`, () => {
      const tok = make();
      assert.ok(tok.lineCut, 'the cache is on for this tokenizer');
      for (const text of sampleTexts()) {
        assert.deepEqual(tok.encode(text), tok.encodeWhole(text));
        // Typing at the end, as completion requests do: only the last line is new.
        for (const typed of ['x', '\n', ' ', '\n    ', '('])
          assert.deepEqual(tok.encode(text + typed), tok.encodeWhole(text + typed));
      }
    });

    it(`gives exactly the ids of encoding the text whole after edits anywhere: ${name}`, () => {
      const tok = make();
      const rnd = seededRandom(11);
      const inserts = ['x', '\n', ' ', '\n    ', '\r\n', '\t', '}', 'é', '🙂', '\n\n'];
      for (const start of sampleTexts()) {
        let text = start.slice(0, 4000);
        const other = start.slice(-1500); // a second text alternating with the first, as a suffix does
        for (let edit = 0; edit < 40; edit++) {
          // mostly at the end (typing), sometimes anywhere, sometimes a deletion
          const at = rnd() < 0.6 ? text.length : Math.floor(rnd() * text.length);
          text =
            rnd() < 0.2
              ? text.slice(0, Math.max(0, at - 3)) + text.slice(at)
              : text.slice(0, at) + inserts[Math.floor(rnd() * inserts.length)] + text.slice(at);
          assert.deepEqual(tok.encode(text), tok.encodeWhole(text), `edit ${edit} at ${at}`);
          assert.deepEqual(tok.encode(other), tok.encodeWhole(other));
        }
      }
    });
  }

  it('encodes each piece once while it stays cached, and forgets pieces unused for a while', () => {
    const pieceCache = new PieceCache(4);
    // the ids of pieces joined, as the incremental encoder reads them
    const cache = {
      encode: (pieces: string[], encodePiece: (p: string) => number[]) =>
        pieces.flatMap((p) => pieceCache.idsOf(p, encodePiece)),
      get size() {
        return pieceCache.size;
      },
    };
    const calls: string[] = [];
    const enc = (p: string) => (calls.push(p), [p.length]);
    assert.deepEqual(cache.encode(['a\n', 'bb\n', 'a\n'], enc), [2, 3, 2]);
    assert.deepEqual(calls, ['a\n', 'bb\n'], 'each piece encoded once');
    // a piece read by every request stays; the others age out, and no more than 4 are kept
    for (const other of ['c\n', 'd\n', 'e\n', 'f\n', 'g\n']) {
      calls.length = 0;
      assert.deepEqual(cache.encode(['a\n', other], enc), [2, other.length]);
      assert.deepEqual(calls, [other]);
      assert.ok(cache.size <= 4, `${cache.size} pieces kept`);
    }
    calls.length = 0;
    cache.encode(['a\n'], enc);
    assert.deepEqual(calls, [], 'the piece read every time is still cached');
    cache.encode(['bb\n'], enc);
    assert.deepEqual(calls, ['bb\n'], 'a piece unused for a while was dropped');
  });
});

describe('incremental encoding', () => {
  it('re-reads only the text from the last cut before a change', () => {
    const pieces = new PieceCache(16);
    const enc = new IncrementalEncoder('before-any-line', pieces);
    const calls: string[] = [];
    const piece = (p: string) => (calls.push(p), Array.from(p, (c) => c.charCodeAt(0)));
    const codes = (t: string) => Array.from(t, (c) => c.charCodeAt(0));
    const text = 'aa\nbb\ncc\ndd';
    assert.deepEqual(enc.encode(text, piece), codes(text));
    assert.deepEqual(calls, ['aa\n', 'bb\n', 'cc\n', 'dd']);
    // typing at the end: the unchanged pieces are not even looked up
    calls.length = 0;
    const lookups = new PieceCache(16);
    const enc2 = new IncrementalEncoder('before-any-line', lookups);
    enc2.encode(text, piece);
    const idsOf = lookups.idsOf.bind(lookups);
    const looked: string[] = [];
    lookups.idsOf = (p, f) => (looked.push(p), idsOf(p, f));
    assert.deepEqual(enc2.encode(text + 'x', piece), codes(text + 'x'));
    assert.deepEqual(looked, ['ddx']);
    // a line break typed before a line's start moves the cut: the piece before it is read again
    looked.length = 0;
    assert.deepEqual(enc2.encode('aa\nbb\n\ncc\nddx', piece), codes('aa\nbb\n\ncc\nddx'));
    assert.deepEqual(looked, ['bb\n\n', 'cc\n', 'ddx']);
    // a text with nothing in common starts from its beginning, and the other texts stay
    looked.length = 0;
    enc2.encode('zz\nyy', piece);
    assert.deepEqual(looked, ['zz\n', 'yy']);
    looked.length = 0;
    enc2.encode('aa\nbb\n\ncc\nddxy', piece);
    assert.deepEqual(looked, ['ddxy']);
  });

  it('returns ids the caller may change without changing the next result', () => {
    const enc = new IncrementalEncoder('before-any-line', new PieceCache(16));
    const piece = (p: string) => Array.from(p, (c) => c.charCodeAt(0));
    const first = enc.encode('aa\nbb', piece);
    first.fill(0);
    assert.deepEqual(
      enc.encode('aa\nbbc', piece),
      Array.from('aa\nbbc', (c) => c.charCodeAt(0)),
    );
  });

  it('measures the common prefix in UTF-16 units', () => {
    assert.equal(commonPrefixChars('abc', 'abd'), 2);
    assert.equal(commonPrefixChars('', 'a'), 0);
    assert.equal(commonPrefixChars('a🙂b', 'a🙂c'), 3);
  });
});
