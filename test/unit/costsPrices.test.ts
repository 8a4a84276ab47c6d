// The price file: the bundled table's coverage and provenance, validation errors that name the
// problem, fallback to the layers underneath, and "Update Prices" against a real HTTP server on
// 127.0.0.1 (a good file, bad JSON, a 404, a slow answer cancelled or timed out).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkPricesUrl, PriceUpdateError } from '../../src/costs/litellm';
import { parsePriceFile, PriceFileError } from '../../src/costs/priceFile';
import { bundledPrices, loadPriceSet, updatePricesFile } from '../../src/costs/priceStore';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-prices-'));
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

describe('bundled prices', () => {
  const prices = bundledPrices();
  it('cover the models the comparison promises, with sources and dates', () => {
    const ids = prices.models.map((m) => m.id);
    for (const id of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-4.1-nano',
      'gpt-5',
      'gpt-5-mini',
      'gpt-5-nano',
      'claude-haiku-4-5',
      'claude-sonnet-4-5',
      'claude-opus-4-5',
      'gemini-2.5-flash',
      'gemini-2.5-flash-lite',
      'gemini-2.5-pro',
      'codestral',
      'deepseek-v3.2',
    ]) {
      assert.ok(ids.includes(id), `${id} is priced`);
    }
    assert.ok(prices.models.length >= 15);
    for (const m of prices.models) {
      assert.match(m.source.url, /^https:\/\//, `${m.id} has a source`);
      assert.match(m.source.date, /^\d{4}-\d{2}/, `${m.id} has a date`);
      assert.ok(m.latency?.source.url, `${m.id} has a typical TTFT with its source`);
    }
    // Nothing in the bundled table was checked against a live page: it must say so.
    assert.ok(prices.models.every((m) => m.source.verified === false));
  });

  it('carry the long-context tiers where they apply', () => {
    assert.equal(prices.models.find((m) => m.id === 'claude-sonnet-4-5')!.tiers?.[0].aboveInputTokens, 200_000);
    assert.equal(prices.models.find((m) => m.id === 'gemini-2.5-pro')!.tiers?.[0].aboveInputTokens, 200_000);
  });
});

describe('price file validation', () => {
  it('rejects bad JSON with a clear error', () => {
    assert.throws(
      () => parsePriceFile('{"models": [', 'mine.json'),
      (e: unknown) => e instanceof PriceFileError && /mine\.json: not valid JSON/.test(e.message),
    );
  });

  it('names the model and field that is missing', () => {
    const good = bundledPrices().models[0];
    const { outputPerM: _drop, ...broken } = good;
    const text = JSON.stringify({ schemaVersion: 1, version: 't', currency: 'USD', models: [broken] });
    assert.throws(() => parsePriceFile(text, 'mine.json'), /models\[0\] \(gpt-4o\): missing "outputPerM"/);
    const negative = JSON.stringify({
      schemaVersion: 1,
      version: 't',
      currency: 'USD',
      models: [{ ...good, inputPerM: -1 }],
    });
    assert.throws(() => parsePriceFile(negative, 'mine.json'), /bad "inputPerM"/);
  });

  it('ignores fields it does not know', () => {
    const good = bundledPrices().models[0];
    const text = JSON.stringify({
      schemaVersion: 1,
      version: 't',
      currency: 'USD',
      extra: true,
      models: [{ ...good, colour: 'green', tiers: undefined }],
    });
    const f = parsePriceFile(text, 'mine.json');
    assert.equal(f.models[0].id, 'gpt-4o');
    assert.ok(!('colour' in f.models[0]));
  });

  it('falls back to the bundled table when a layer is broken, and says why', () => {
    const set = loadPriceSet({
      updatedFile: write('downloaded.json', 'not json'),
      overrideFile: write(
        'override.json',
        JSON.stringify({ models: [{ id: 'gpt-4o' }, { id: 'new-model', name: 'New' }] }),
      ),
    });
    assert.deepEqual(set.prices.models, bundledPrices().models);
    assert.equal(set.errors.length, 2);
    assert.match(set.errors[0], /downloaded\.json: not valid JSON/);
    assert.match(set.errors[1], /new-model.*missing "vendor"/);
    assert.deepEqual(
      set.layers.map((l) => l.status),
      ['ok', 'error', 'error'],
    );
  });

  it(
    'a price file that is /dev/zero or a FIFO is refused at once, with the bundled prices kept',
    { skip: process.platform === 'win32' && 'no /dev/zero or mkfifo', timeout: 20_000 },
    () => {
      const fifo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-prices-')), 'prices.json');
      execFileSync('mkfifo', [fifo]);
      for (const file of ['/dev/zero', fifo]) {
        const set = loadPriceSet({ overrideFile: file });
        assert.match(set.errors.join('\n'), /not a regular file/, file);
        assert.equal(set.prices.version, bundledPrices().version);
      }
    },
  );

  it('applies a partial override for a known model and adds a complete new one', () => {
    const newModel = { ...bundledPrices().models[0], id: 'my-model', name: 'Mine', inputPerM: 1 };
    const f = write(
      'override-ok.json',
      JSON.stringify({ version: 'team prices', models: [{ id: 'gpt-4o', inputPerM: 2 }, newModel] }),
    );
    const set = loadPriceSet({ overrideFile: f });
    assert.deepEqual(set.errors, []);
    assert.equal(set.prices.models.find((m) => m.id === 'gpt-4o')!.inputPerM, 2);
    assert.equal(set.prices.models.find((m) => m.id === 'gpt-4o')!.outputPerM, 10, 'other fields kept');
    assert.ok(set.prices.models.some((m) => m.id === 'my-model'));
  });

  it('reads an override an editor saved with a byte-order mark', () => {
    const f = write(
      'override-bom.json',
      '\uFEFF' + JSON.stringify({ version: 'bom', models: [{ id: 'gpt-4o', inputPerM: 3 }] }),
    );
    const set = loadPriceSet({ overrideFile: f });
    assert.deepEqual(set.errors, []);
    assert.equal(set.prices.models.find((m) => m.id === 'gpt-4o')!.inputPerM, 3);
  });
});

/** A LiteLLM-shaped file: our keys, filler entries, an unknown model, a malformed entry and extra fields. */
function litellmFile(): Record<string, unknown> {
  const file: Record<string, unknown> = { sample_spec: { max_tokens: 'LEGACY', input_cost_per_token: 0 } };
  for (let i = 0; i < 12; i++)
    file[`filler-${i}`] = {
      input_cost_per_token: 1e-6,
      output_cost_per_token: 2e-6,
      litellm_provider: 'x',
      mode: 'chat',
    };
  file['gpt-4o'] = {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.2e-5,
    cache_read_input_token_cost: 1.5e-6,
    max_input_tokens: 128000,
    supports_vision: true,
    litellm_provider: 'openai',
  };
  file['claude-sonnet-4-5'] = {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    input_cost_per_token_above_200k_tokens: 6e-6,
    output_cost_per_token_above_200k_tokens: 2.25e-5,
    max_input_tokens: 200000,
  };
  file['gemini/gemini-2.5-flash'] = { input_cost_per_token: 'cheap', output_cost_per_token: 2.5e-6 };
  file['some-unknown-model'] = { input_cost_per_token: 9e-6, output_cost_per_token: 9e-6 };
  return file;
}

/** Resolves when the server's /endless answer is closed (it never ends by itself). */
let endlessClosed: Promise<void> | undefined;
/** Runs as each /slow request arrives; the server never answers those. */
let onSlow: (() => void) | undefined;

// The timeout only turns a wait for an event that never comes (a hang) into a failure.
describe('Update Prices against a local HTTP server', { timeout: 60_000 }, () => {
  let server: http.Server;
  let base = '';
  const sockets = new Set<import('node:net').Socket>();
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/good') res.end(JSON.stringify(litellmFile()));
      else if (req.url === '/bad-json') res.end('{"gpt-4o": {"input_cost_per_token": 3e-6,');
      else if (req.url === '/not-litellm') res.end(JSON.stringify({ hello: 'world' }));
      else if (req.url === '/slow') onSlow?.();
      else if (req.url === '/to-http') res.writeHead(302, { location: 'http://prices.example/prices.json' }).end();
      else if (req.url === '/to-other') res.writeHead(302, { location: 'https://127.0.0.2:9/prices.json' }).end();
      else if (req.url === '/endless') {
        // chunked, no Content-Length: only a streamed cap can stop it
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        endlessClosed = new Promise((resolve) => res.on('close', () => resolve()));
        pump();
      } else {
        res.statusCode = 404;
        res.end('Not Found');
      }
    });
    server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('refuses a redirect to plain http, and stops a body without Content-Length at the size cap', async () => {
    await failsWith(
      updatePricesFile(`${base}/to-http`, path.join(tmp, 'redirect.json')),
      'url',
      /redirected to a plain http address.*glassbox\.costs\.pricesUrl/,
    );
    // https to another host is refused too, and the message names the prices setting, not the hub's
    const other = updatePricesFile(`${base}/to-other`, path.join(tmp, 'redirect.json'));
    await failsWith(other, 'url', /redirected to 127\.0\.0\.2:9; .*only within 127\.0\.0\.1:\d+.*pricesUrl/);
    await assert.rejects(
      updatePricesFile(`${base}/to-other`, path.join(tmp, 'redirect.json')),
      (e: Error) => !/hub\.baseUrl/.test(e.message),
    );
    await failsWith(
      updatePricesFile(`${base}/endless`, path.join(tmp, 'endless.json'), { maxBytes: 1024 * 1024 }),
      'size',
      /over 1048576 bytes/,
    );
    assert.ok(endlessClosed, 'the /endless request reached the server');
    await endlessClosed; // the answer has no end: only the client's close ends this wait
  });

  const failsWith = async (p: Promise<unknown>, reason: string, message: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof PriceUpdateError && e.reason === reason && message.test(e.message));

  it('maps a good file onto our models, ignoring unknown models and extra fields', async () => {
    const file = path.join(tmp, 'good', 'prices-litellm.json');
    const r = await updatePricesFile(`${base}/good`, file, { now: new Date('2026-01-02T03:04:05Z') });
    assert.ok(r.updated.includes('gpt-4o') && r.updated.includes('claude-sonnet-4-5'));
    assert.ok(
      r.skipped.some((s) => s.startsWith('gemini-2.5-flash')),
      'a malformed entry keeps the bundled price',
    );
    assert.ok(r.missing.includes('codestral'));
    assert.ok(!r.prices.models.some((m) => m.id === 'some-unknown-model'));
    const set = loadPriceSet({ updatedFile: file });
    const gpt4o = set.prices.models.find((m) => m.id === 'gpt-4o')!;
    assert.deepEqual([gpt4o.inputPerM, gpt4o.outputPerM, gpt4o.cachedInputPerM], [3, 12, 1.5]);
    assert.deepEqual(gpt4o.source, {
      url: `${base}/good`,
      date: '2026-01-02',
      verified: true,
      note: gpt4o.source.note,
    });
    assert.deepEqual(set.prices.models.find((m) => m.id === 'claude-sonnet-4-5')!.tiers, [
      { aboveInputTokens: 200_000, inputPerM: 6, outputPerM: 22.5, cachedInputPerM: undefined },
    ]);
    assert.equal(set.prices.models.find((m) => m.id === 'gemini-2.5-flash')!.inputPerM, 0.3, 'bundled price kept');
  });

  it('keeps the prices it had when the download is bad JSON, a 404 or not LiteLLM’s file', async () => {
    const file = write('kept.json', JSON.stringify(bundledPrices()));
    const before = fs.readFileSync(file, 'utf8');
    await failsWith(updatePricesFile(`${base}/bad-json`, file), 'json', /not valid JSON/);
    await failsWith(updatePricesFile(`${base}/missing`, file), 'http', /HTTP 404/);
    await failsWith(updatePricesFile(`${base}/not-litellm`, file), 'schema', /does not look like LiteLLM/);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'the file in effect is untouched');
  });

  // The server never answers /slow: a call that waited for it would never end, so each call
  // ending at all shows it did not wait.
  it('stops a slow download when cancelled, and on its timeout', async () => {
    const controller = new AbortController();
    onSlow = () => controller.abort(); // cancelled while the request waits at the server
    try {
      await failsWith(
        updatePricesFile(`${base}/slow`, path.join(tmp, 'slow.json'), { signal: controller.signal }),
        'cancelled',
        /cancelled/,
      );
    } finally {
      onSlow = undefined;
    }
    await failsWith(
      updatePricesFile(`${base}/slow`, path.join(tmp, 'slow.json'), { timeoutMs: 200 }),
      'timeout',
      /within/,
    );
    assert.ok(!fs.existsSync(path.join(tmp, 'slow.json')));
  });

  it('downloads over https only (plain http just to this machine)', () => {
    assert.throws(() => checkPricesUrl('http://example.com/prices.json'), /https only/);
    assert.throws(() => checkPricesUrl('file:///etc/passwd'), /https only/);
    assert.throws(() => checkPricesUrl('not a url'), /not a URL/);
    assert.equal(checkPricesUrl('https://raw.githubusercontent.com/x.json').host, 'raw.githubusercontent.com');
  });
});
