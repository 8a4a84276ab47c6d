// The catalogue as data, its check against the hub's listing (changed sizes, missing files),
// the memory estimate, and the hub client's URL and proxy rules.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CATALOGUE, catalogueFor } from '../../src/modelHub/catalogue';
import { DownloadError } from '../../src/modelHub/errors';
import { checkHubUrl } from '../../src/modelHub/http';
import { proxyFor } from '../../src/net/http';
import { checkRepoId, HubClient } from '../../src/modelHub/hubClient';
import { estimateFolderMemory, estimateMemory, isExternalDataOf, kvBytesForFile } from '../../src/modelHub/memory';
import { resolveVariant } from '../../src/modelHub/resolve';
import { modelSlug } from '../../src/modelHub/store';
import { FakeHub } from './fakeHub';
import { TEST_MODEL } from './helpers';

const code = (c: string) => (e: Error) => (
  assert.ok(e instanceof DownloadError, String(e)),
  assert.equal(e.code, c, e.message),
  true
);
const TINY = CATALOGUE.find((e) => e.repo === 'glassbox-test/test-tiny')!;

describe('catalogue data', () => {
  it('every entry is well formed, with one install folder per variant', () => {
    const slugs = new Set<string>();
    for (const e of CATALOGUE) {
      checkRepoId(e.repo);
      assert.ok(e.variants.length > 0, e.repo);
      for (const k of ['numLayers', 'numHeads', 'kvHeads', 'headDim', 'vocabSize', 'contextLength'] as const)
        assert.ok(e.arch[k] > 0, `${e.repo} ${k}`);
      assert.equal(e.arch.numHeads % e.arch.kvHeads, 0, `${e.repo}: query heads are a multiple of KV heads`);
      for (const v of e.variants) {
        assert.match(v.onnx, /\.onnx$/);
        assert.ok(v.approxBytes > 0);
        const slug = modelSlug(e.repo, v.id);
        assert.ok(!slugs.has(slug), `duplicate ${slug}`);
        slugs.add(slug);
      }
    }
  });

  it('lists the test-hub model only when the hub is on this machine', () => {
    assert.ok(!catalogueFor(false).some((e) => e.testOnly));
    assert.ok(catalogueFor(true).some((e) => e.repo === TINY.repo));
  });
});

describe('catalogue checked against the hub listing', () => {
  const hub = new FakeHub();
  let client: HubClient;
  before(async () => {
    hub.addRepo(TINY.repo, TEST_MODEL);
    hub.pageSize = 3; // the listing comes in pages joined by Link headers
    client = new HubClient(await hub.start());
  });
  after(() => hub.close());

  it('reads every page of the recursive listing', async () => {
    const files = await client.listFiles(TINY.repo, 'main');
    assert.deepEqual(files.map((f) => f.path).sort(), [
      'README.md',
      'config.json',
      'generation_config.json',
      'golden.json',
      'onnx/model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    assert.ok(hub.log.filter((r) => r.url.includes('/tree/')).length >= 3);
  });

  it('matches an unchanged entry', async () => {
    const r = resolveVariant(TINY, TINY.variants[0], await client.listFiles(TINY.repo, 'main'));
    assert.deepEqual([r.missing, r.changed], [[], []]);
    assert.equal(r.weightBytes, TINY.variants[0].approxBytes);
  });

  it('reports files whose size changed on the hub, with both sizes', async () => {
    hub.faults.listedSize.set('onnx/model.onnx', 2_000_000);
    try {
      const r = resolveVariant(TINY, TINY.variants[0], await client.listFiles(TINY.repo, 'main'));
      assert.deepEqual(r.changed, [{ path: 'onnx/model.onnx', expected: 697302, actual: 2_000_000 }]);
      assert.equal(r.totalBytes > 2_000_000, true, "the hub's size is what gets downloaded and shown");
    } finally {
      hub.faults.listedSize.clear();
    }
  });

  it('a page that names itself as the next one ends the listing, with no file twice', async () => {
    hub.faults.selfLink.on = true;
    hub.log.length = 0;
    try {
      const files = await client.listFiles(TINY.repo, 'main');
      assert.equal(new Set(files.map((f) => f.path)).size, files.length);
      assert.equal(hub.log.filter((r) => r.url.includes('/tree/')).length, 1);
    } finally {
      hub.faults.selfLink.clear();
    }
  });

  it('a next page on another host or with credentials is not followed; endless pages end with an error', async () => {
    const code = (c: string, part: RegExp) => (e: Error & { code?: string }) => e.code === c && part.test(e.message);
    try {
      hub.faults.nextPage.to = () => 'https://other.invalid/api/page2';
      await assert.rejects(
        client.listFiles(TINY.repo, 'main'),
        code('INVALID', /another address \(https:\/\/other\.invalid\)/),
      );
      hub.faults.nextPage.to = (u) => u.href.replace('http://', 'http://user:hunter2@');
      await assert.rejects(client.listFiles(TINY.repo, 'main'), code('INVALID', /another address/));
      hub.faults.nextPage.to = (u) =>
        `${u.origin}${u.pathname}?recursive=true&cursor=${Number(u.searchParams.get('cursor') ?? 0) + 1}`;
      await assert.rejects(client.listFiles(TINY.repo, 'main'), code('HUB_HTTP', /past 100 pages/));
    } finally {
      hub.faults.nextPage.clear();
    }
  });

  it('a listed size of -1, or a path listed as a file and as a folder, is a clear INVALID', async () => {
    const invalid = (part: RegExp) => (e: Error & { code?: string }) => e.code === 'INVALID' && part.test(e.message);
    hub.faults.listedSize.set('config.json', -1);
    try {
      await assert.rejects(client.listFiles(TINY.repo, 'main'), invalid(/config\.json" with a size of -1 bytes/));
    } finally {
      hub.faults.listedSize.clear();
    }
    const repo = hub.addRepo('glassbox-test/clash', TEST_MODEL);
    repo.files.set('onnx/model.onnx/extra.bin', path.join(TEST_MODEL, 'config.json'));
    await assert.rejects(client.listFiles('glassbox-test/clash', 'main'), invalid(/both as a file and as a folder/));
  });

  it('reports a missing decoder and names the ones the repository has', () => {
    const variant = { id: 'q4', quantization: 'int4', onnx: 'onnx/model_q4.onnx', approxBytes: 1 };
    const listing = [
      { path: 'config.json', size: 2 },
      { path: 'tokenizer.json', size: 2 },
      { path: 'onnx/model.onnx', size: 9 },
    ];
    const r = resolveVariant(TINY, variant, listing);
    assert.deepEqual(r.missing, ['tokenizer_config.json', 'onnx/model_q4.onnx']);
    assert.deepEqual(r.otherOnnx, ['onnx/model.onnx']);
  });

  it('fetches external data with its decoder, and only its own', () => {
    const variant = { id: 'fp32', quantization: 'fp32', onnx: 'onnx/model.onnx', approxBytes: 3000 };
    const listing = [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'onnx/model.onnx_data_1',
      'onnx/model_fp16.onnx',
      'onnx/model_fp16.onnx_data',
    ].map((p) => ({ path: p, size: 1000 }));
    const r = resolveVariant(TINY, variant, listing);
    assert.deepEqual(r.files.map((f) => f.path).slice(-3), [
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'onnx/model.onnx_data_1',
    ]);
    assert.equal(r.weightBytes, 3000);
    assert.ok(isExternalDataOf('model.onnx', 'model.onnx.data'));
    assert.ok(!isExternalDataOf('onnx/model.onnx', 'model.onnx_data'), 'other folder');
  });
});

describe('memory estimate', () => {
  it('adds weights, the KV cache for the context, and prefill work', () => {
    const qwen = CATALOGUE.find((e) => e.repo === 'onnx-community/Qwen2.5-Coder-0.5B-Instruct')!;
    const e = estimateMemory(500e6, qwen.arch, 1024, 2);
    assert.equal(e.kvCacheBytes, 2 * 24 * 2 * 64 * 1024 * 2); // keys and values, fp16
    assert.equal(e.weightsBytes, 550e6);
    assert.ok(e.workBytes > 1024 * 151936 * 4, 'logits of a 1024-token prefill');
    assert.equal(e.totalBytes, e.weightsBytes + e.kvCacheBytes + e.workBytes);
    assert.equal(kvBytesForFile('onnx/model_q4f16.onnx'), 2);
    assert.equal(kvBytesForFile('onnx/model_q4.onnx'), 4);
  });

  it('reads a model folder on disk', () => {
    const e = estimateFolderMemory(TEST_MODEL, undefined, 4096);
    assert.equal(e.contextTokens, 512, "capped at the model's context");
    assert.equal(e.kvCacheBytes, 2 * 2 * 2 * 16 * 512 * 4);
    assert.ok(e.weightsBytes >= 697302);
  });
});

describe('hub client: URLs and proxies', () => {
  it('accepts HTTPS, and plain HTTP only on this machine', () => {
    assert.throws(() => new HubClient('http://huggingface.co'), code('INSECURE_URL'));
    assert.throws(() => new HubClient('ftp://mirror.example'), code('INSECURE_URL'));
    assert.doesNotThrow(() => new HubClient('https://hf-mirror.example/'));
    // credentials in the address are refused and never printed (they went out as Basic auth)
    assert.throws(
      () => new HubClient('https://alice:s3cret@hf-mirror.example/'),
      (e: Error & { code?: string }) =>
        e.code === 'INVALID' && !e.message.includes('s3cret') && !e.message.includes('alice'),
    );
    assert.throws(
      () => new HubClient('https://alice:s3cret@[bad'),
      (e: Error) => !e.message.includes('s3cret'),
    );
    assert.doesNotThrow(() => new HubClient('http://127.0.0.1:9'));
    assert.equal(
      new HubClient('https://hf-mirror.example/base/').fileUrl('a/b', 'main', 'onnx/m x.onnx').href,
      'https://hf-mirror.example/base/a/b/resolve/main/onnx/m%20x.onnx',
    );
    assert.throws(() => new HubClient().fileUrl('a/b', 'main', '../etc/passwd'), code('INVALID'));
    assert.throws(() => checkRepoId('../x'), code('INVALID'));
  });

  it('refuses a redirect from HTTPS policy to plain HTTP elsewhere', async () => {
    const server = http.createServer((_req, res) =>
      res.writeHead(302, { location: 'http://downgrade.example/file' }).end(),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = new HubClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await assert.rejects(client.resolveRevision('a/b'), code('INSECURE_URL'));
    } finally {
      server.close();
    }
    assert.throws(() => checkHubUrl(new URL('http://10.0.0.1/')), code('INSECURE_URL'));
  });

  it('takes the proxy from the setting, then the environment; never for loopback or NO_PROXY', () => {
    const hubUrl = new URL('https://huggingface.co/x');
    const env = { HTTPS_PROXY: 'http://envproxy:3128', NO_PROXY: 'internal.example,.corp' };
    assert.equal(proxyFor(hubUrl, { env }), 'http://envproxy:3128');
    assert.equal(proxyFor(hubUrl, { env, proxy: 'http://setting:8080' }), 'http://setting:8080');
    assert.equal(proxyFor(new URL('https://internal.example/'), { env }), undefined);
    assert.equal(proxyFor(new URL('https://hub.corp/'), { env }), undefined);
    assert.equal(proxyFor(new URL('http://127.0.0.1:8080/'), { env, proxy: 'http://setting:8080' }), undefined);
    assert.equal(proxyFor(hubUrl, { env: {} }), undefined);
  });

  it('says which host it cannot reach', async () => {
    const client = new HubClient('http://127.0.0.1:9'); // discard port: nothing listens
    await assert.rejects(
      client.listFiles('a/b', 'main'),
      (e: Error) => code('HUB_UNREACHABLE')(e) && /127\.0\.0\.1:9/.test(e.message),
    );
  });
});
