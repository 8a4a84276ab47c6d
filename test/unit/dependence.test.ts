/**
 * "What it depended on" (src/engine/dependence/): on the shipped model, a completion that copies a
 * name from a repository snippet ranks that snippet first, and a line that cannot matter scores
 * near zero; on test-tiny, golden numbers, cancellation, the time budget, a span at the cursor, an
 * empty prompt, and a masked span whose own tokens do not matter. No timing is asserted.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompletionRequest } from '../../src/engine/completion/completion';
import { dependence } from '../../src/engine/dependence/dependence';
import type { DependenceResult, SpanDependence } from '../../src/engine/dependence/types';
import { nearZero, suggestionTokens, verdict } from '../../src/engine/dependence/verdict';
import { Engine } from '../../src/engine/engine';
import { EngineClient } from '../../src/engine/worker/client';
import { TINY } from './dependenceFixtures';
import { FIXTURES, ROOT, TEST_MODEL } from './helpers';

const SHIPPED_MODEL = path.join(ROOT, 'models', 'glassbox-code');

const byText = (d: DependenceResult, text: string) => d.ranking.find((s) => s.span.text.trim() === text);

describe('dependence on test-tiny', () => {
  let engine: Engine;
  let generated: number[];
  before(async () => {
    engine = await Engine.load(TEST_MODEL);
    generated = engine.model.tokenizer.encode('area(2, 3)');
  });
  after(() => engine.dispose());

  it('pins the numbers (golden: baseline, each span, the method, copy sources through the cache)', async () => {
    const d = await dependence(engine, { completion: TINY, generated });
    assert.equal(d.method, 'mask');
    assert.ok(d.copyCache);
    assert.ok(Math.abs(d.baseline - -70.9243) < 1e-3, `baseline ${d.baseline}`);
    const golden: [string, string, number][] = [
      ['prefix', 'print(', -1.1369],
      ['suffix', '# done', -0.5173],
      ['copy', 'total = area(3, 4)', -0.4725],
      ['prefix', 'return width * height', 0.4586],
      ['snippet', 'def perimeter(width, height):\n    return 2 * (width + height)', 0.6326],
      ['suffix', ')', 1.0855],
      ['prefix', 'def main():', 1.8564],
      ['prefix', 'def area(width, height):', 2.4627],
    ];
    assert.deepEqual(
      d.ranking.map((s) => [s.span.kind, s.span.text.trim()]),
      golden.map(([k, t]) => [k, t]),
    );
    golden.forEach(([, , delta], i) =>
      assert.ok(Math.abs(d.ranking[i].delta - delta) < 1e-3, `${i}: ${d.ranking[i].delta}`),
    );
    assert.equal(d.ranking.find((s) => s.span.kind === 'copy')!.method, 'cache');
    // Δ of the whole is the sum of the tokens' Δ, and the largest one is among them
    for (const s of d.ranking) {
      assert.ok(Math.abs(s.delta - s.tokenDeltas.reduce((a, b) => a + b, 0)) < 1e-9);
      assert.equal(Math.max(...s.tokenDeltas.map(Math.abs)), Math.abs(s.maxDelta));
    }
  });

  it('scores the same numbers again from the cache the last ranking left (and after another prompt)', async () => {
    const first = await dependence(engine, { completion: TINY, generated });
    await dependence(engine, { completion: { ...TINY, suffix: ')\n' }, generated });
    const again = await dependence(engine, { completion: TINY, generated });
    assert.deepEqual(
      again.ranking.map((s) => s.delta.toFixed(6)),
      first.ranking.map((s) => s.delta.toFixed(6)),
    );
  });

  it('a masked span is out of view: its own tokens do not change the suggestion', async () => {
    const d = await dependence(engine, { completion: TINY, generated, kinds: ['prefix'] });
    // another first line of as many tokens: every other token keeps its position
    const [line, swap] = ['def area(width, height):', 'def area(count, weight):'];
    const tok = engine.model.tokenizer;
    assert.equal(tok.encode(swap).length, tok.encode(line).length);
    const other = { ...TINY, prefix: TINY.prefix.replace(line, swap) };
    const e = await dependence(engine, { completion: other, generated, kinds: ['prefix'] });
    const a = d.ranking.find((s) => s.span.firstLine === 1)!;
    const b = e.ranking.find((s) => s.span.firstLine === 1)!;
    // the baselines differ (the line is in view there), the scores without it do not
    assert.ok(Math.abs(d.baseline - e.baseline) > 0.1);
    assert.ok(Math.abs(d.baseline + a.delta - (e.baseline + b.delta)) < 1e-3);
  });

  it('scores the span at the cursor (the line being typed, healed)', async () => {
    const d = await dependence(engine, { completion: TINY, generated });
    const cursor = d.spans.filter((s) => s.kind === 'prefix').at(-1)!;
    assert.equal(cursor.text.trim(), 'print(');
    assert.equal(cursor.firstLine, 6);
    const r = d.ranking.find((s) => s.span.id === cursor.id)!;
    assert.ok(Number.isFinite(r.delta) && r.delta !== 0);
  });

  it('streams results, then stops when cancelled', async () => {
    const seen: SpanDependence[] = [];
    const controller = new AbortController();
    await assert.rejects(
      dependence(
        engine,
        { completion: TINY, generated },
        {
          signal: controller.signal,
          onResult: (r) => {
            seen.push(r);
            if (seen.length === 2) controller.abort();
          },
        },
      ),
      (err: Error & { code?: string }) => err.code === 'CANCELLED',
    );
    assert.equal(seen.length, 2);
    assert.equal(seen[0].span.kind, 'copy'); // copy sources first: they cost no model run
    // the next ranking is whole and right
    const d = await dependence(engine, { completion: TINY, generated });
    assert.ok(Math.abs(byText(d, 'print(')!.delta - -1.1369) < 1e-3);
  });

  it('returns what is done, marked partial, when the time budget runs out', async () => {
    const d = await dependence(engine, { completion: TINY, generated, timeBudgetMs: 0 });
    assert.ok(d.partial);
    assert.ok(d.ranking.length < d.spans.length);
    assert.match(verdict(d), /partial/);
    const full = await dependence(engine, { completion: TINY, generated, timeBudgetMs: 60_000 });
    assert.ok(!full.partial);
    assert.equal(full.ranking.length, full.spans.length);
  });

  it('an empty prompt or an empty suggestion has nothing to rank', async () => {
    const empty = await dependence(engine, { completion: { prefix: '', suffix: '' }, generated });
    assert.equal(empty.ranking.length, 0);
    assert.ok(!nearZero(empty));
    assert.match(verdict(empty), /nothing to rank/);
    const none = await dependence(engine, { completion: TINY, generated: [] });
    assert.equal(none.ranking.length, 0);
    assert.match(verdict(none), /suggested nothing/);
  });

  it("refuses a prompt that is not the completion's", async () => {
    await assert.rejects(
      dependence(engine, { completion: TINY, generated, promptText: 'something else' }),
      /could not be rebuilt/,
    );
  });
});

describe('dependence through the worker', () => {
  it('streams each span to the host as it is scored, then the ranking', async () => {
    const client = new EngineClient();
    try {
      await client.load({ modelDir: TEST_MODEL });
      const { ids } = await client.call('tokenize', { text: 'area(2, 3)' });
      const streamed: SpanDependence[] = [];
      const d = await client.call(
        'dependence',
        { completion: TINY, generated: ids },
        { onSpan: (s) => streamed.push(s) },
      );
      assert.equal(streamed.length, d.ranking.length);
      assert.deepEqual(new Set(streamed.map((s) => s.span.id)), new Set(d.ranking.map((s) => s.span.id)));
      assert.ok(Math.abs(byText(d, 'print(')!.delta - -1.1369) < 1e-3);
    } finally {
      await client.dispose();
    }
  });
});

describe('dependence on other graphs', () => {
  it('deletes spans, and says why, where the graph reads the mask only as a length (GroupQueryAttention)', async () => {
    const engine = await Engine.load(path.join(FIXTURES, 'tiny-gqa'));
    try {
      const generated = engine.model.tokenizer.encode('area(2, 3)');
      const d = await dependence(engine, { completion: TINY, generated });
      assert.equal(d.method, 'delete');
      assert.match(d.methodNote ?? '', /does not apply its attention mask/);
      assert.ok(d.ranking.some((s) => s.method === 'delete' && s.delta !== 0));
    } finally {
      await engine.dispose();
    }
  });
});

/** A cursor that starts typing a name only `snippet` defines. */
function copyCase(prefix: string, suffix: string, path: string, snippet: string, others: string[]): CompletionRequest {
  return {
    prefix,
    suffix,
    path,
    startLine: 0,
    maxNewTokens: 16,
    budgetTokens: 1024,
    copySources: [],
    snippets: [
      ...others.map((text, i) => ({ path: `src/other${i}.ts`, startLine: 0, endLine: 6, score: 0.3, text })),
      { path: 'src/helpers.ts', startLine: 11, endLine: 15, score: 0.9, text: snippet },
    ],
  };
}

const OTHERS = [
  'export const PORT = 8080;\nexport const HOST = "localhost";\n',
  'import * as fs from "node:fs";\n\nexport function readJson(file: string): unknown {\n  return JSON.parse(fs.readFileSync(file, "utf8"));\n}\n',
];

const CASES: { name: string; req: CompletionRequest }[] = [
  {
    name: 'formatDurationMillis',
    req: copyCase(
      '// report how long it took\nexport function report(start: number): void {\n  const elapsed = Date.now() - start;\n  console.log(formatDur',
      ');\n}\n',
      'src/app.ts',
      'export function formatDurationMillis(ms: number): string {\n  return `${(ms / 1000).toFixed(1)} s`;\n}\n',
      OTHERS,
    ),
  },
  {
    name: 'normalizeWhitespace',
    req: copyCase(
      'export function clean(lines: string[]): string[] {\n  return lines.map((line) => normalizeWh',
      ');\n}\n',
      'src/clean.ts',
      'export function normalizeWhitespace(text: string): string {\n  return text.replace(/\\s+/g, " ").trim();\n}\n',
      OTHERS,
    ),
  },
  {
    name: 'compute_checksum',
    req: copyCase(
      'import sys\n\n\ndef verify(path):\n    data = open(path, "rb").read()\n    return compute_ch',
      '\n',
      'tools/verify.py',
      'def compute_checksum(data):\n    total = 0\n    for byte in data:\n        total = (total + byte) % 65521\n    return total\n',
      OTHERS,
    ),
  },
];

describe('dependence on glassbox-code', () => {
  let engine: Engine;
  before(async () => (engine = await Engine.load(SHIPPED_MODEL)));
  after(() => engine.dispose());

  for (const c of CASES)
    it(`a completion that copies ${c.name} from a snippet ranks that snippet first`, async () => {
      const r = await engine.complete(c.req);
      const typed = c.req.prefix.match(/\w+$/)![0];
      assert.ok(
        r.text.startsWith(c.name.slice(typed.length)),
        `the completion copies the name: ${JSON.stringify(r.text)}`,
      );
      const d = await dependence(engine, {
        completion: c.req,
        generated: suggestionTokens(r),
        promptText: r.promptText,
      });
      assert.equal(d.method, 'mask');
      assert.equal(d.ranking[0].span.kind, 'snippet');
      assert.equal(d.ranking[0].span.path, 'src/helpers.ts');
      assert.equal(d.ranking[0].span.firstLine, 12);
      assert.ok(d.ranking[0].delta < -1, `Δ ${d.ranking[0].delta}`);
      assert.match(verdict(d), /^Mostly the snippet from src\/helpers\.ts:12–/);
    });

  it('a comment at the end of the suffix window cannot matter (|Δ| < 0.1 nats)', async () => {
    const req = { ...CASES[0].req, suffix: ');\n}\n\n// (c) the authors; see LICENSE\n' };
    const r = await engine.complete(req);
    const d = await dependence(engine, { completion: req, generated: suggestionTokens(r) });
    const comment = byText(d, '// (c) the authors; see LICENSE')!;
    assert.equal(comment.span.kind, 'suffix');
    assert.ok(Math.abs(comment.delta) < 0.1, `Δ ${comment.delta}`);
  });

  it("measures a copied token's dependence on its copy source (the cache loses the source too)", async () => {
    const req: CompletionRequest = {
      ...CASES[0].req,
      snippets: [],
      copySources: [
        { path: 'src/helpers.ts', startLine: 11, endLine: 15, score: 1, text: CASES[0].req.snippets!.at(-1)!.text },
      ],
    };
    const r = await engine.complete(req);
    assert.ok(
      r.provenance.some((t) => t.kind === 'cache'),
      'the copy cache chose some tokens',
    );
    const d = await dependence(engine, { completion: req, generated: suggestionTokens(r) });
    assert.equal(d.ranking[0].span.kind, 'copy');
    assert.equal(d.ranking[0].method, 'cache');
    assert.ok(d.ranking[0].delta < -1, `Δ ${d.ranking[0].delta}`);
  });
});
