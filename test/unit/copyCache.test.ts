/**
 * Copy-aware decoding's pieces: the cache model's distribution (copyCache.ts), its mixing table,
 * the greedy choice under the mixture and token healing's constraint (tokenChoice.ts). Token ids
 * are small integers where the vocabulary does not matter, and the test model's real BPE
 * vocabulary where it does.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  bucket,
  CopyCache,
  DEFAULT_COPY_TABLE,
  parseCopyTable,
  spaceInsensitiveIds,
  type CopyCacheTable,
} from '../../src/engine/generation/copyCache';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { logSumExp, seededRandom } from '../../src/engine/generation/sampling';
import { allowedOf, chooseGreedy, HealingConstraint, vocabularyTexts } from '../../src/engine/generation/tokenChoice';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { ROOT, TEST_MODEL } from './helpers';

const NONE = new Set<number>();
/** A table with the same λ everywhere. */
const tableOf = (w: number): CopyCacheTable => ({
  ...DEFAULT_COPY_TABLE,
  weights: DEFAULT_COPY_TABLE.weights.map((row) => row.map((cell) => cell.map(() => w))),
});

describe('copy cache', () => {
  it('proposes what followed earlier occurrences, as a distribution', () => {
    const c = new CopyCache([1, 2, 3, 4, 9, 1, 2, 5, 8, 2], NONE);
    const pred = c.predict()!;
    assert.ok(pred);
    const sum = pred.candidates.reduce((s, x) => s + x.p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `p sums to ${sum}`);
    assert.deepEqual(pred.candidates.map((x) => x.id).sort(), [3, 5]);
    assert.equal(pred.purity, pred.candidates[0].p);
    for (let i = 1; i < pred.candidates.length; i++)
      assert.ok(pred.candidates[i - 1].p >= pred.candidates[i].p, 'most probable first');
  });

  it('is null when the last token was never followed', () => {
    assert.equal(new CopyCache([1, 2, 3], NONE).predict(), null);
    assert.equal(new CopyCache([], NONE).predict(), null);
  });

  it('lets the context that matches more tokens back dominate, and points at the copied token', () => {
    // "… 1 2 3" occurred before followed by 7 (three tokens match) and by 6 (only "2 3" matches)
    const seq = [5, 1, 2, 3, 7, 8, 2, 3, 6, 9, 1, 2, 3];
    const c = new CopyCache(seq, NONE);
    const pred = c.predict()!;
    assert.equal(pred.candidates[0].id, 7);
    assert.ok(pred.candidates[0].p > 0.7, `p(7) = ${pred.candidates[0].p}`);
    assert.equal(pred.length, 3);
    assert.equal(pred.candidates[0].from, 4, 'index of the 7 that would be copied');
    const six = pred.candidates.find((x) => x.id === 6)!;
    assert.equal(six.from, 8);
    assert.equal(seq[six.from], 6);
  });

  it('follows generated tokens as they are pushed', () => {
    const c = new CopyCache([4, 5, 6, 0, 4], NONE);
    assert.equal(c.predict()!.candidates[0].id, 5);
    c.push(5);
    assert.equal(c.length, 6);
    const pred = c.predict()!;
    assert.equal(pred.candidates[0].id, 6);
    assert.equal(pred.candidates[0].from, 2);
    assert.equal(pred.length, 2);
  });

  it('truncated to a prefix and pushed a new tail predicts as a cache built on the new sequence', () => {
    let seed = 99;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const c = new CopyCache([], NONE);
    let generatedFrom = Infinity; // the first generated token still kept
    for (let trial = 0; trial < 30; trial++) {
      const keep = rand(c.length + 1);
      c.truncate(keep);
      assert.equal(c.length, keep);
      if (generatedFrom >= keep) generatedFrom = Infinity;
      const tail = Array.from({ length: 1 + rand(40) }, () => rand(6)); // a small alphabet: many matches
      const half = Math.ceil(tail.length / 2); // the tail's second half as generated
      tail.forEach((t, i) => c.push(t, i >= half));
      if (half < tail.length) generatedFrom = Math.min(generatedFrom, keep + half);
      const fresh = new CopyCache([], NONE);
      c.tokens.forEach((t, i) => fresh.push(t, i >= generatedFrom));
      assert.deepEqual(c.predict(), fresh.predict(), `trial ${trial}`);
      assert.deepEqual(c.draft(c.length - 5, 4), fresh.draft(fresh.length - 5, 4));
    }
  });

  it('never proposes an excluded (special) id', () => {
    const special = new Set([0]);
    // "1" was followed by the end-of-text token 0 and once by 6
    const c = new CopyCache([1, 0, 5, 1, 0, 1, 6, 2, 1], special);
    const pred = c.predict()!;
    assert.deepEqual(
      pred.candidates.map((x) => x.id),
      [6],
    );
    assert.equal(new CopyCache([1, 0, 5, 1], special).predict(), null, 'nothing left to propose');
  });

  it('matches a name with and without its leading space when built with spaceInsensitiveIds', () => {
    const tok = TextTokenizer.load(locateModelFiles(TEST_MODEL));
    const texts = vocabularyTexts(tok);
    const spaced = texts.indexOf(' name');
    const bare = texts.indexOf('name');
    assert.ok(spaced > 0 && bare > 0, 'the test vocabulary has " name" and "name"');
    const norm = spaceInsensitiveIds(texts);
    assert.equal(norm[spaced], bare);
    assert.equal(norm[bare], bare);
    for (const id of tok.specialIds) assert.equal(norm[id], id);
    // "def f( name = x" … "(name" : after "name" the cache proposes " =" copied from the spaced one
    const eq = tok.encode(' =')[0];
    const open = tok.encode('(')[0];
    const seq = [...tok.encode('def'), spaced, eq, ...tok.encode(' x\n'), open, bare];
    const pred = new CopyCache(seq, tok.specialIds, DEFAULT_COPY_TABLE, norm).predict();
    assert.ok(pred, 'a prediction across the space');
    assert.equal(pred.candidates[0].id, eq);
    assert.equal(seq[pred.candidates[0].from], eq);
    assert.equal(new CopyCache(seq, tok.specialIds).predict(), null, 'without normalization the ids differ');
  });

  it('tells a match that reaches into the prompt from an echo of the output', () => {
    // prompt: "f ( a , b ) ; x ="; generated: "(" — the "(" matches the prompt's "(" but that match is
    // wholly in the output, so it is an echo; matching "x =" reaches into the prompt
    const sep = 0;
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const weightOf = (p: { length: number; purity: number }, echo: 0 | 1) =>
      DEFAULT_COPY_TABLE.weights[bucket(DEFAULT_COPY_TABLE.lengthBuckets, p.length)][
        bucket(DEFAULT_COPY_TABLE.purityBuckets, p.purity)
      ][echo];
    const echo = new CopyCache(prompt, new Set([sep]));
    echo.push(2, true);
    const e = echo.predict()!;
    assert.equal(e.candidates[0].id, 3);
    assert.equal(e.echo, true);
    assert.equal(e.weight, weightOf(e, 1));
    const reaching = new CopyCache([...prompt, 8], new Set([sep])).predict()!; // "... 8 9 8": "8" was seen in the prompt
    assert.equal(reaching.echo, false);
    assert.equal(reaching.weight, weightOf(reaching, 0));
    assert.ok(weightOf(e, 1) < weightOf(e, 0), 'the default table halves λ for an echo');
  });
});

describe('copy table', () => {
  it('accepts the default table', () => {
    assert.deepEqual(parseCopyTable(DEFAULT_COPY_TABLE), DEFAULT_COPY_TABLE);
  });

  it("accepts the shipped model's fitted table (else the engine silently falls back to the default)", () => {
    const shipped = path.join(ROOT, 'models', 'glassbox-code', 'copy_cache.json');
    if (fs.existsSync(shipped))
      assert.ok(
        parseCopyTable(JSON.parse(fs.readFileSync(shipped, 'utf8'))),
        'a table the engine would silently replace by the default',
      );
  });

  it('rejects malformed tables', () => {
    const d = DEFAULT_COPY_TABLE;
    const bad: [string, unknown][] = [
      ['null', null],
      ['a number', 3],
      ['empty object', {}],
      ['missing purityBuckets', { lengthBuckets: d.lengthBuckets, weights: d.weights }],
      [
        'four weights per cell (not one per echo flag)',
        { ...d, weights: d.weights.map((r) => r.map((c) => [...c, ...c])) },
      ],
      ['one length row short', { ...d, weights: d.weights.slice(1) }],
      ['one purity column short', { ...d, weights: d.weights.map((r) => r.slice(1)) }],
      ['one weight per cell', { ...d, weights: d.weights.map((r) => r.map((c) => c.slice(1))) }],
      [
        'a weight above 1',
        { ...d, weights: d.weights.map((r, i) => r.map((c) => (i === 2 ? [1.5, ...c.slice(1)] : c))) },
      ],
      ['a negative weight', { ...d, weights: d.weights.map((r) => r.map((c) => [-0.1, ...c.slice(1)])) }],
      ['a string weight', { ...d, weights: d.weights.map((r) => r.map((c) => ['0.5', ...c.slice(1)])) }],
      ['empty buckets', { ...d, lengthBuckets: [], weights: [] }],
      ['NaN bucket', { ...d, purityBuckets: [0, NaN, 0.8, 0.99] }],
    ];
    for (const [name, t] of bad) assert.equal(parseCopyTable(t), null, name);
  });
});

describe('greedy choice under the mixture', () => {
  const logits = Float32Array.from([0.1, 3, 0.5, 1, -2]);
  const lse = logSumExp(logits);
  const best = 1;
  // a cache whose only candidate is 3 ("5 6" was followed by 3 at index 4)
  const cacheSaying3 = (w: number) => new CopyCache([8, 8, 5, 6, 3, 4, 5, 6], NONE, tableOf(w)).predict();

  it('without a cache prediction is the model argmax, kind model', () => {
    const c = chooseGreedy(logits, lse, best, null, null);
    assert.equal(c.id, 1);
    assert.equal(c.source.kind, 'model');
    assert.equal(c.source.weight, 0);
    assert.ok(Math.abs(c.source.p - Math.exp(logits[1] - lse)) < 1e-6);
    assert.equal(c.source.from, undefined);
  });

  it('with weight 0 the cache changes nothing', () => {
    const pred = cacheSaying3(0)!;
    assert.equal(pred.candidates[0].id, 3);
    const c = chooseGreedy(logits, lse, best, pred, null);
    assert.deepEqual(c, chooseGreedy(logits, lse, best, null, null));
  });

  it("with weight 1 takes the cache's first candidate, kind cache, with where it was copied from", () => {
    const pred = cacheSaying3(1)!;
    const c = chooseGreedy(logits, lse, best, pred, null);
    assert.equal(c.id, 3);
    assert.equal(c.source.kind, 'cache');
    assert.equal(c.source.weight, 1);
    assert.equal(c.source.from, pred.candidates[0].from);
    assert.equal(c.source.from, 4);
    assert.equal(c.source.match, pred.length);
  });

  it('never leaves the allowed ids, whatever the model and the cache prefer', () => {
    for (const w of [0, 0.5, 1]) {
      for (const allowed of [[0, 2], [4], [2, 0, 4]]) {
        const c = chooseGreedy(logits, lse, best, cacheSaying3(w), allowedOf(allowed));
        assert.ok(allowed.includes(c.id), `weight ${w}, allowed ${allowed}: chose ${c.id}`);
      }
    }
    assert.equal(chooseGreedy(logits, lse, best, null, allowedOf([0, 2])).id, 2, 'the best allowed by the model');
    assert.equal(
      chooseGreedy(logits, lse, best, cacheSaying3(1), allowedOf([0, 3])).id,
      3,
      'the cache when it is allowed',
    );
  });
});

describe('healing constraint', () => {
  const tok = TextTokenizer.load(locateModelFiles(TEST_MODEL));
  const vocab = vocabularyTexts(tok);

  /** Every allowed id extends the rest, is its canonical first token, or is whitespace it starts with. */
  function checkAllowed(rest: string, allowed: number[]): void {
    const first = tok.encode(rest)[0];
    assert.ok(allowed.includes(first), `canonical first token of ${JSON.stringify(rest)}`);
    for (const id of allowed) {
      const t = vocab[id];
      const ok = t.startsWith(rest) || id === first || (rest.startsWith(t) && t.trim() === '' && t !== '');
      assert.ok(ok, `${JSON.stringify(t)} is not allowed before ${JSON.stringify(rest)}`);
      assert.ok(!tok.specialIds.has(id), 'no special tokens');
    }
    // and nothing that extends the rest is missing
    vocab.forEach(
      (t, id) =>
        t &&
        !t.includes('\uFFFD') &&
        t.startsWith(rest) &&
        assert.ok(allowed.includes(id), `missing ${JSON.stringify(t)}`),
    );
  }

  it('allows only tokens consistent with the healed text, and consumes it as tokens are chosen', () => {
    const h = new HealingConstraint('formatDu', vocab, tok);
    assert.equal(h.active, true);
    checkAllowed('formatDu', h.allowedIds());
    assert.ok(!h.allowedIds().includes(tok.encode('x')[0]), 'an unrelated letter is not allowed');
    h.advance('f');
    checkAllowed('ormatDu', h.allowedIds());
    h.advance('ormat');
    checkAllowed('Du', h.allowedIds());
    h.advance('Duration'); // a token longer than the rest consumes all of it
    assert.equal(h.active, false);
  });

  it("takes its first token from the prompt's own tokens of the healed text, with no tokenizer call", () => {
    for (const rest of ['formatDu', '    return', ' x']) {
      const own = tok.encode(rest);
      const plain = new HealingConstraint(rest, vocab, tok);
      const h = new HealingConstraint(rest, vocab, tok, own);
      const encode = tok.encode;
      let calls = 0;
      const counted = <T>(fn: () => T): T => {
        tok.encode = (text: string) => (calls++, encode.call(tok, text));
        try {
          return fn();
        } finally {
          tok.encode = encode;
        }
      };
      assert.deepEqual(
        counted(() => h.allowedIds()),
        plain.allowedIds(),
        rest,
      );
      counted(() => h.advance(vocab[own[0]]));
      plain.advance(vocab[own[0]]);
      if (h.active)
        assert.deepEqual(
          counted(() => h.allowedIds()),
          plain.allowedIds(),
          `${rest} after one token`,
        );
      assert.equal(calls, 0, 'no tokenizer call');
      // own tokens that do not spell the rest are not used
      assert.deepEqual(
        new HealingConstraint(rest, vocab, tok, [own[0] + 1]).allowedIds(),
        new HealingConstraint(rest, vocab, tok).allowedIds(),
      );
    }
  });

  it('answers membership and the best allowed id as the listed ids do', () => {
    const rnd = seededRandom(5);
    const logits = Float32Array.from({ length: vocab.length }, () => Math.round(rnd() * 40) / 4); // ties too
    for (const rest of ['formatDu', '    return', ' x', ' ', 'e', '\n    ', ')', 'zzzzqq']) {
      const h = new HealingConstraint(rest, vocab, tok);
      const set = h.allowedSet();
      const list = h.allowedIds();
      const listed = allowedOf(list);
      for (let id = 0; id < vocab.length; id++)
        assert.equal(set.has(id), listed.has(id), `${JSON.stringify(rest)}: id ${id}`);
      assert.equal(set.best(logits), listed.best(logits), JSON.stringify(rest));
      let best = -1;
      for (const id of list) if (best < 0 || logits[id] > logits[best]) best = id;
      assert.equal(set.best(logits), best, `${JSON.stringify(rest)}: the first of the highest, by id`);
    }
    assert.equal(allowedOf([]).best(new Float32Array(4)), -1, 'none allowed');
  });

  it('allows runs of whitespace within an indented rest', () => {
    const rest = '    return';
    const h = new HealingConstraint(rest, vocab, tok);
    const allowed = h.allowedIds();
    checkAllowed(rest, allowed);
    const spaces = vocab.findIndex((t) => t === ' ');
    assert.ok(spaces >= 0 && allowed.includes(spaces), 'a single space fits');
    assert.ok(!allowed.some((id) => vocab[id] === '     '), 'five spaces do not');
  });
});
