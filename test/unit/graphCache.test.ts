/**
 * The optimized-graph cache (src/engine/runtime/graphCache.ts): a second load of a model reuses the graph the
 * first load saved, generates exactly what an uncached load generates, and every kind of stale,
 * damaged or unwritable cache falls back to a normal load.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DecoderModel, type LoadOptions } from '../../src/engine/runtime/decoder';
import { generate } from '../../src/engine/generation/generate';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { copyModel, maxAbsDiff, readGolden, ROOT, TEST_MODEL } from './helpers';

const SHIPPED = path.join(ROOT, 'models', 'glassbox-code');
const scratch: string[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-graphs-'));
  scratch.push(d);
  return d;
}

async function withModel<T>(dir: string, opts: LoadOptions, fn: (m: DecoderModel) => Promise<T>): Promise<T> {
  const m = await DecoderModel.load(dir, opts);
  try {
    return await fn(m);
  } finally {
    await m.dispose();
  }
}

/** Greedy tokens and the first step's last-position logits for one prompt. */
async function greedy(m: DecoderModel, ids: number[], n: number): Promise<{ tokens: number[]; logits: Float32Array }> {
  const cache = m.newCache();
  const logits = await m.forward(ids, cache);
  const r = await generate(m, ids, { maxNewTokens: n, stopTokenIds: [], reuseCache: false });
  return { tokens: r.tokens, logits };
}

const cacheFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => !f.endsWith('.tmp'))
    .sort();

describe('optimized-graph cache', () => {
  after(() => {
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });

  it('writes the graph on the first load, reuses it on the second, and generates the golden tokens from it', async () => {
    const cacheDir = tempDir();
    const golden = readGolden(TEST_MODEL);
    const first = await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async (m) => m.graphCache);
    assert.equal(first, 'written');
    assert.equal(cacheFiles(cacheDir).length, 2, 'one graph and one sidecar');
    await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async (m) => {
      assert.equal(m.graphCache, 'hit');
      assert.equal(m.lastPositionOnly, true, 'the cached graph keeps the last-position rewrite');
      for (const c of golden.cases) {
        const r = await generate(m, c.input_ids, {
          maxNewTokens: c.greedy_tokens.length,
          stopTokenIds: [],
          reuseCache: false,
        });
        assert.deepEqual(r.tokens, c.greedy_tokens, c.name);
      }
    });
  });

  it(
    'gives the shipped int4 model the same logits and tokens as an uncached load',
    { skip: fs.existsSync(path.join(SHIPPED, 'config.json')) ? false : 'no shipped model' },
    async () => {
      const cacheDir = tempDir();
      const prompt = 'def fibonacci(n):\n    if n < 2:\n        return n\n    return';
      const run = (opts: LoadOptions) =>
        withModel(SHIPPED, opts, async (m) => ({
          state: m.graphCache,
          ...(await greedy(m, m.tokenizer.encode(prompt), 12)),
        }));
      const plain = await run({});
      assert.equal(plain.state, 'off');
      assert.equal((await run({ graphCacheDir: cacheDir })).state, 'written');
      const hit = await run({ graphCacheDir: cacheDir });
      assert.equal(hit.state, 'hit');
      assert.deepEqual(hit.tokens, plain.tokens);
      assert.ok(
        maxAbsDiff(hit.logits, plain.logits) < 1e-4,
        `logits differ by ${maxAbsDiff(hit.logits, plain.logits)}`,
      );
    },
  );

  it('rebuilds an entry whose model file changed, and keeps one entry per model', async () => {
    const cacheDir = tempDir();
    const model = copyModel(TEST_MODEL);
    scratch.push(model);
    assert.equal(await withModel(model, { graphCacheDir: cacheDir }, async (m) => m.graphCache), 'written');
    const onnx = locateModelFiles(model).onnxPath;
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(onnx, later, later); // a re-export or re-download changes the mtime
    assert.equal(await withModel(model, { graphCacheDir: cacheDir }, async (m) => m.graphCache), 'written');
    assert.equal(cacheFiles(cacheDir).length, 2, 'the stale entry was replaced, not added to');
    assert.equal(await withModel(model, { graphCacheDir: cacheDir }, async (m) => m.graphCache), 'hit');
  });

  it('drops a damaged cached graph and loads normally', async () => {
    const cacheDir = tempDir();
    await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async () => undefined);
    const graph = path.join(
      cacheDir,
      cacheFiles(cacheDir).find((f) => f.endsWith('.onnx'))!,
    );
    const size = fs.statSync(graph).size;
    // Same size, garbage bytes: passes the size check, so ONNX Runtime itself must refuse it.
    fs.writeFileSync(graph, Buffer.alloc(size, 0x5a));
    const golden = readGolden(TEST_MODEL).cases[0];
    await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async (m) => {
      assert.equal(m.graphCache, 'written', 'refused, dropped and written again');
      const r = await generate(m, golden.input_ids, {
        maxNewTokens: golden.greedy_tokens.length,
        stopTokenIds: [],
        reuseCache: false,
      });
      assert.deepEqual(r.tokens, golden.greedy_tokens);
    });
    assert.equal(await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async (m) => m.graphCache), 'hit');
  });

  it('ignores a truncated entry and a cache folder it cannot create', async () => {
    const cacheDir = tempDir();
    await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async () => undefined);
    const graph = path.join(
      cacheDir,
      cacheFiles(cacheDir).find((f) => f.endsWith('.onnx'))!,
    );
    fs.truncateSync(graph, 100);
    assert.equal(await withModel(TEST_MODEL, { graphCacheDir: cacheDir }, async (m) => m.graphCache), 'written');

    const notADir = path.join(tempDir(), 'file');
    fs.writeFileSync(notADir, 'a file where the cache folder should be');
    assert.equal(
      await withModel(TEST_MODEL, { graphCacheDir: path.join(notADir, 'graphs') }, async (m) => m.graphCache),
      'failed',
    );
  });

  it('is not used when the last-position rewrite is off', async () => {
    const cacheDir = tempDir();
    assert.equal(
      await withModel(TEST_MODEL, { graphCacheDir: cacheDir, lastPositionLogits: false }, async (m) => m.graphCache),
      'off',
    );
    assert.deepEqual(fs.readdirSync(cacheDir), []);
  });
});
