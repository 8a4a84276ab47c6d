// The download manager against a real HTTP server on 127.0.0.1 that answers like the hub
// (fakeHub.ts), serving test-tiny's real files: a full download that the engine then loads, and
// every fault the issue names.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { generate } from '../../src/engine/generation/generate';
import { CATALOGUE, type CatalogueEntry } from '../../src/modelHub/catalogue';
import { Downloader, type DownloadProgress, type DownloadRequest } from '../../src/modelHub/download';
import { fetchFile } from '../../src/modelHub/fetchFile';
import { DownloadError } from '../../src/modelHub/errors';
import { HubClient } from '../../src/modelHub/hubClient';
import { downloadRequest, resolveVariant } from '../../src/modelHub/resolve';
import { INSTALL_MARKER, ModelStore } from '../../src/modelHub/store';
import { FakeHub } from './fakeHub';
import { FIXTURES, readGolden, TEST_MODEL } from './helpers';

const REPO = 'glassbox-test/test-tiny';
const ONNX = 'onnx/model.onnx';
const ONNX_BYTES = fs.statSync(path.join(TEST_MODEL, ONNX)).size;

const failsWith =
  (code: string, ...parts: RegExp[]) =>
  (e: Error) => {
    assert.ok(e instanceof DownloadError, `expected a DownloadError, got ${e.stack}`);
    assert.equal(e.code, code, e.message);
    for (const p of parts) assert.match(e.message, p);
    return true;
  };

describe('model download from a local hub', () => {
  const hub = new FakeHub();
  let client: HubClient;
  let storage: string;
  let store: ModelStore;

  before(async () => {
    hub.addRepo(REPO, TEST_MODEL);
    client = new HubClient(await hub.start());
  });
  after(() => hub.close());
  beforeEach(() => {
    storage = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-store-'));
    store = new ModelStore(path.join(storage, 'models'));
    hub.log.length = 0;
  });
  afterEach(() => {
    for (const f of Object.values(hub.faults)) f.clear();
    fs.rmSync(storage, { recursive: true, force: true });
  });

  it('refuses a listing with a path that would leave the staging folder (a Windows traversal)', async () => {
    const hostile = 'glassbox-test/hostile';
    const repo = hub.addRepo(hostile, TEST_MODEL);
    repo.files.set('onnx/model.onnx_data\\..\\..\\evil.bat', path.join(TEST_MODEL, 'config.json'));
    const commit = await client.resolveRevision(hostile, 'main');
    await assert.rejects(client.listFiles(hostile, commit), failsWith('INVALID', /evil\.bat/, /backslash/));
    assert.deepEqual(fs.readdirSync(storage), [], 'nothing was written');
  });

  it(
    'a full disk is reported as a full disk at once, not retried as a network problem',
    { skip: !fs.existsSync('/dev/full') && 'no /dev/full' },
    async () => {
      const commit = await client.resolveRevision(REPO, 'main');
      const retries: Error[] = [];
      // /dev/full accepts the open and fails every write with ENOSPC, as a full disk does
      await assert.rejects(
        fetchFile({
          url: client.fileUrl(REPO, commit, 'config.json'),
          partPath: '/dev/full',
          size: fs.statSync(path.join(TEST_MODEL, 'config.json')).size,
          label: 'config.json',
          net: client.net,
          retries: 5,
          retryDelayMs: 1,
          onRetry: (_n, e) => retries.push(e),
        }),
        failsWith('DISK_FULL', /disk is full/, /storageFolder/),
      );
      assert.deepEqual(retries, [], 'no retries');
    },
  );

  it('a hub that goes silent is reported as silent, not as "ECONNRESET: aborted"', async () => {
    const commit = await client.resolveRevision(REPO, 'main');
    hub.faults.slow.set(ONNX, 4096); // 8 KB, then two seconds of silence
    const quiet = new HubClient(client.baseUrl, { idleTimeoutMs: 300 });
    await assert.rejects(
      fetchFile({
        url: quiet.fileUrl(REPO, commit, ONNX),
        partPath: path.join(storage, 'model.onnx.part'),
        size: ONNX_BYTES,
        label: ONNX,
        net: quiet.net,
        retries: 0,
      }),
      failsWith('HUB_UNREACHABLE', /no data from 127\.0\.0\.1:\d+ for 0\.3 s/i),
    );
  });

  /** The catalogue's test-tiny entry resolved against the hub, as the quick pick does it. */
  async function request(): Promise<DownloadRequest> {
    const entry = CATALOGUE.find((e) => e.repo === REPO)!;
    const commit = await client.resolveRevision(REPO, entry.revision);
    const r = resolveVariant(entry, entry.variants[0], await client.listFiles(REPO, commit));
    assert.deepEqual(r.missing, []);
    return downloadRequest(r, commit);
  }

  const downloader = (o: Partial<ConstructorParameters<typeof Downloader>[0]> = {}) =>
    new Downloader({ store, hub: client, retryDelayMs: 10, ...o });

  it('downloads, verifies and installs a model that the engine then runs', async () => {
    const req = await request();
    assert.deepEqual(req.files.map((f) => f.path).sort(), [
      'config.json',
      'generation_config.json',
      ONNX,
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    assert.ok(req.files.find((f) => f.path === ONNX)?.sha256, 'LFS files carry a sha256');
    assert.ok(req.files.find((f) => f.path === 'config.json')?.gitOid, 'small git files carry a blob id');
    const d = downloader();
    const plan = await d.plan(req);
    assert.equal(plan.resumeBytes, 0);
    const progress: DownloadProgress[] = [];
    const installed = await d.download(plan, { onProgress: (p) => progress.push(p) });

    assert.equal(installed.dir, store.dirFor(installed.slug));
    assert.ok(fs.existsSync(path.join(installed.dir, INSTALL_MARKER)));
    assert.deepEqual(
      store.listInstalled().map((m) => m.slug),
      [installed.slug],
    );
    assert.deepEqual(store.listPartial(), [], 'no staging left behind');
    assert.equal(progress.at(-1)?.phase, 'install');
    assert.equal(progress.at(-1)?.doneBytes, plan.totalBytes);
    assert.ok(
      hub.requestsFor(ONNX).some((r) => r.url.startsWith('/lfs-cdn/')),
      "followed the hub's redirect to the CDN",
    );

    const golden = readGolden(TEST_MODEL);
    const model = await DecoderModel.load(installed.dir, { onnxFile: installed.marker.onnxFile });
    try {
      for (const c of golden.cases) {
        const r = await generate(model, c.input_ids, {
          maxNewTokens: c.greedy_tokens.length,
          stopTokenIds: [],
          reuseCache: false,
        });
        assert.deepEqual(r.tokens, c.greedy_tokens, c.name);
      }
    } finally {
      await model.dispose();
    }
  });

  it('a listing with both w.bin and w.bin.part installs both (a part file never doubles as a listed file)', async () => {
    const repoId = 'glassbox-test/parts';
    const repo = hub.addRepo(repoId, TEST_MODEL);
    repo.files.set('w.bin', path.join(TEST_MODEL, 'config.json'));
    repo.files.set('w.bin.part', path.join(TEST_MODEL, 'tokenizer_config.json'));
    const empty = path.join(storage, 'empty.py');
    fs.writeFileSync(empty, '');
    repo.files.set('empty.py', empty); // a listed size of 0: nothing to fetch, still installed
    const entry = CATALOGUE.find((e) => e.repo === REPO)!;
    const commit = await client.resolveRevision(repoId, entry.revision);
    const listing = await client.listFiles(repoId, commit);
    const base = downloadRequest(resolveVariant(entry, entry.variants[0], listing), commit);
    // w.bin.part first: then w.bin's download found it where its own part file would be
    const extra = ['w.bin.part', 'w.bin', 'empty.py'].map((p) => listing.find((f) => f.path === p)!);
    const installed = await downloader().download(
      await downloader().plan({ ...base, repo: repoId, files: [...base.files, ...extra] }),
    );
    assert.equal(
      fs.readFileSync(path.join(installed.dir, 'w.bin'), 'utf8'),
      fs.readFileSync(path.join(TEST_MODEL, 'config.json'), 'utf8'),
    );
    assert.equal(
      fs.readFileSync(path.join(installed.dir, 'w.bin.part'), 'utf8'),
      fs.readFileSync(path.join(TEST_MODEL, 'tokenizer_config.json'), 'utf8'),
    );
    assert.equal(fs.readFileSync(path.join(installed.dir, 'empty.py'), 'utf8'), '');
    assert.deepEqual(
      store.listInstalled().map((m) => m.slug),
      [installed.slug],
      'the model is listed as installed',
    );
  });

  it('downloads a decoder together with its external data file, and it runs', async (t) => {
    const dir = path.join(FIXTURES, 'tiny-external-data');
    if (!fs.existsSync(dir)) return t.skip('tiny-external-data not built: run models/recipe/make_loader_fixtures.py');
    const repo = 'glassbox-test/tiny-external-data';
    hub.addRepo(repo, dir);
    const entry: CatalogueEntry = {
      ...CATALOGUE.find((e) => e.repo === REPO)!,
      repo,
      variants: [{ id: 'fp32', quantization: 'fp32', onnx: ONNX, approxBytes: 700_000 }],
    };
    const commit = await client.resolveRevision(repo);
    const r = resolveVariant(entry, entry.variants[0], await client.listFiles(repo, commit));
    assert.ok(
      r.files.some((f) => f.path === 'onnx/model.onnx_data'),
      'the data file is part of the download',
    );
    const d = downloader();
    const installed = await d.download(await d.plan(downloadRequest(r, commit)));
    const golden = readGolden(dir);
    const model = await DecoderModel.load(installed.dir, { onnxFile: installed.marker.onnxFile });
    try {
      const c = golden.cases[0];
      const out = await generate(model, c.input_ids, {
        maxNewTokens: c.greedy_tokens.length,
        stopTokenIds: [],
        reuseCache: false,
      });
      assert.deepEqual(out.tokens, c.greedy_tokens);
    } finally {
      await model.dispose();
    }
  });

  it('resumes with a Range request when the connection drops mid-file', async () => {
    hub.faults.dropAfter.set(ONNX, 300_000);
    const d = downloader();
    const installed = await d.download(await d.plan(await request()));
    const cdn = hub.requestsFor(ONNX).filter((r) => r.url.startsWith('/lfs-cdn/'));
    const ranges = cdn.map((r) => r.range).filter(Boolean);
    assert.equal(cdn.length, 2, `one request, then one resumed request (${JSON.stringify(cdn)})`);
    assert.equal(ranges.length, 1);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[0]!)?.[1]);
    assert.ok(from > 0 && from <= 300_000, `resumed from byte ${from}`);
    assert.equal(fs.statSync(path.join(installed.dir, ONNX)).size, ONNX_BYTES);
  });

  it('starts the file over when the server ignores Range', async () => {
    hub.faults.dropAfter.set(ONNX, 200_000);
    hub.faults.ignoreRange.add(ONNX);
    const installed = await downloader().download(await downloader().plan(await request()));
    assert.equal(fs.statSync(path.join(installed.dir, ONNX)).size, ONNX_BYTES);
  });

  it('rejects a wrong sha256 and removes the file', async () => {
    hub.faults.corrupt.add(ONNX);
    const d = downloader();
    await assert.rejects(
      d.download(await d.plan(await request())),
      failsWith('CHECKSUM', /onnx\/model\.onnx/, /sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/),
    );
    const staged = path.join(store.stagingFor('glassbox-test--test-tiny--fp32'), 'files', ONNX);
    assert.ok(!fs.existsSync(staged) && !fs.existsSync(staged + '.part'), 'the bad file is gone');
    assert.deepEqual(store.listInstalled(), []);
  });

  it('rejects a small git file whose blob id does not match', async () => {
    hub.faults.corrupt.add('tokenizer.json');
    const d = downloader();
    await assert.rejects(
      d.download(await d.plan(await request())),
      failsWith('CHECKSUM', /tokenizer\.json/, /git blob id/),
    );
    assert.deepEqual(store.listInstalled(), []);
  });

  it('reports a 404 for an unknown repository and for a missing file', async () => {
    await assert.rejects(
      client.resolveRevision('glassbox-test/no-such-model'),
      failsWith('NOT_FOUND', /no-such-model/),
    );
    hub.faults.missing.add(ONNX);
    const d = downloader();
    await assert.rejects(
      d.download(await d.plan(await request())),
      failsWith('NOT_FOUND', /onnx\/model\.onnx/, /HTTP 404/),
    );
    assert.deepEqual(store.listInstalled(), []);
  });

  it('cancels a slow download, keeps what it fetched and installs nothing', async () => {
    hub.faults.slow.set(ONNX, 200_000);
    const d = downloader();
    const abort = new AbortController();
    let seen = 0;
    const run = d.download(await d.plan(await request()), {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.file === ONNX && p.doneBytes > 100_000) abort.abort();
        seen = Math.max(seen, p.bytesPerSecond);
      },
    });
    await assert.rejects(run, failsWith('CANCELLED'));
    assert.ok(seen > 0, 'progress reports a rate');
    assert.deepEqual(store.listInstalled(), []);
    const [partial] = store.listPartial();
    assert.ok(partial && partial.doneBytes > 0 && partial.doneBytes < partial.totalBytes, JSON.stringify(partial));
    // The lock went with it: the next attempt runs, resumes, and completes.
    hub.faults.slow.clear();
    const plan = await d.plan(await request());
    assert.ok(plan.resumeBytes > 0);
    await d.download(plan);
    assert.equal(store.listInstalled().length, 1);
  });

  it('refuses to start without enough free disk space', async () => {
    const d = downloader({ freeBytes: async () => 10 * 1024 * 1024 });
    await assert.rejects(d.plan(await request()), failsWith('DISK_FULL', /needs .* more/, /10\.0 MB is free/));
    assert.equal(hub.requestsFor(ONNX).length, 0, 'nothing was downloaded');
  });

  it('refuses a second concurrent download of the same model', async () => {
    hub.faults.slow.set(ONNX, 100_000);
    const req = await request();
    const first = downloader();
    const abort = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const run = first.download(await first.plan(req), {
      signal: abort.signal,
      onProgress: (p) => p.file === ONNX && started(),
    });
    await running;
    const second = downloader(); // another manager, as a second window would have
    await assert.rejects(
      second.download(await second.plan(req)),
      failsWith('LOCKED', /already being downloaded/, new RegExp(`process ${process.pid}`)),
    );
    abort.abort();
    await assert.rejects(run, failsWith('CANCELLED'));
  });

  it('a download killed halfway is not installed after a restart, and resumes', async () => {
    hub.faults.slow.set(ONNX, 150_000);
    const req = await request();
    const child = spawn(process.execPath, [path.join(__dirname, 'downloadChild.js')], {
      env: {
        ...process.env,
        GLASSBOX_DOWNLOAD_CHILD: JSON.stringify({ hubUrl: hub.url, storage: store.root, request: req }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          const p = JSON.parse(line) as DownloadProgress;
          if (p.file === ONNX && p.doneBytes > 250_000) resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it got halfway`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const restarted = new ModelStore(store.root); // a new window: nothing in memory
    assert.deepEqual(restarted.listInstalled(), [], 'a half-downloaded model is not installed');
    assert.equal(restarted.listPartial().length, 1);
    hub.faults.slow.clear();
    hub.log.length = 0;
    const d = new Downloader({ store: restarted, hub: client, retryDelayMs: 10 });
    const plan = await d.plan(req);
    assert.ok(plan.resumeBytes > 150_000, `resumes from ${plan.resumeBytes} bytes`); // less what was in flight
    const installed = await d.download(plan); // the dead child's lock is stale and taken over
    assert.match(hub.requestsFor(ONNX).find((r) => r.range)?.range ?? '', /^bytes=\d+-$/);
    assert.equal(restarted.listInstalled()[0]?.slug, installed.slug);
  });

  it('a storage folder that cannot be made (a link to a folder that is gone) is READ_ONLY, in plan and download', async () => {
    const gone = path.join(storage, 'gone');
    fs.symlinkSync(path.join(storage, 'missing', 'deeper'), gone);
    const broken = new ModelStore(path.join(gone, 'models'));
    const d = new Downloader({ store: broken, hub: client, retryDelayMs: 10 });
    const req = await request();
    await assert.rejects(d.plan(req), failsWith('READ_ONLY', /storageFolder/));
    const plan = { request: req, slug: 'x', totalBytes: 0, resumeBytes: 0, freeBytes: 1e12, neededBytes: 0 };
    await assert.rejects(d.download(plan), failsWith('READ_ONLY', /storageFolder/));
  });

  it('a read-only storage folder gives a clear error', async (t) => {
    fs.mkdirSync(store.root, { recursive: true });
    const locked = readOnly(store.root);
    if (!locked) return t.skip('neither chmod nor chattr can make a read-only folder here');
    try {
      await assert.rejects(
        downloader().plan(await request()),
        failsWith('READ_ONLY', new RegExp(store.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), /storageFolder/),
      );
    } finally {
      locked();
    }
  });
});

/** Makes `dir` unwritable for this process; returns the undo, or undefined when impossible. */
function readOnly(dir: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    fs.chmodSync(dir, 0o555);
    return () => fs.chmodSync(dir, 0o755);
  }
  // root ignores permissions; the immutable attribute stops it too.
  if (spawnSync('chattr', ['+i', dir]).status !== 0) return undefined;
  return () => void spawnSync('chattr', ['-i', dir]);
}
