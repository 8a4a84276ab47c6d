/**
 * The one network layer (src/net): redirects followed under the caller's policy with every hop
 * checked, a body read under a byte cap, and the coded errors every path raises.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GlassboxError } from '../../src/engine/errors';
import { PriceUpdateError } from '../../src/costs/litellm';
import { DownloadError } from '../../src/modelHub/errors';
import { readCapped } from '../../src/net/capped';
import { CodedError } from '../../src/net/codedError';
import { getFollowingRedirects, isSecureUrl } from '../../src/net/get';
import { RemoteError } from '../../src/remote/errors';

describe('network layer', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      const hop = Number(/^\/hop\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
      if (hop > 0) return void res.writeHead(302, { location: `/hop/${hop - 1}` }).end('moved');
      if (req.url === '/away') return void res.writeHead(302, { location: 'http://example.invalid/x' }).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('landed');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const policy = (allow: (url: URL, from?: URL) => void) => ({
    allow,
    tooManyRedirects: () => new Error('too many'),
    networkError: (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  });

  it('follows redirects, checking every hop', async () => {
    const seen: string[] = [];
    const res = await getFollowingRedirects(
      new URL(`${base}/hop/3`),
      policy((u) => void seen.push(u.pathname)),
    );
    assert.equal(res.status, 200);
    assert.equal(res.url.pathname, '/hop/0');
    res.body.resume();
    assert.deepEqual(seen, ['/hop/3', '/hop/2', '/hop/1', '/hop/0']);
  });

  it("refuses a hop the caller's policy refuses, and more than five hops", async () => {
    const refuse = (u: URL) => {
      if (!isSecureUrl(u)) throw new Error(`refused ${u.host}`);
    };
    await assert.rejects(getFollowingRedirects(new URL(`${base}/away`), policy(refuse)), /refused example\.invalid/);
    await assert.rejects(
      getFollowingRedirects(
        new URL(`${base}/hop/9`),
        policy(() => undefined),
      ),
      /too many/,
    );
  });

  it('reads a body under a cap, and stops past it with the caller’s error', async () => {
    const body = () => Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    assert.equal((await readCapped(body(), 2000, () => new Error('big'))).length, 1200);
    const over = body();
    await assert.rejects(
      readCapped(over, 1000, () => new Error('big')),
      /big/,
    );
    assert.ok(over.destroyed, 'the body is destroyed once over the cap');
  });

  it('every coded error is a CodedError with its own name, code, message and hint', () => {
    const errors = [
      new GlassboxError('PROMPT_EMPTY', 'The prompt is empty.', 'Give it text.'),
      new DownloadError('NOT_FOUND', 'The prompt is empty.', 'Give it text.'),
      new RemoteError('TIMEOUT', 'The prompt is empty.', 'Give it text.', 3),
      new PriceUpdateError('size', 'The prompt is empty.', 'Give it text.'),
    ];
    assert.deepEqual(
      errors.map((e) => e.name),
      ['GlassboxError', 'DownloadError', 'RemoteError', 'PriceUpdateError'],
    );
    for (const e of errors) {
      assert.ok(e instanceof CodedError);
      assert.equal(e.message, 'The prompt is empty. Give it text.');
      assert.equal(e.hint, 'Give it text.');
    }
    assert.equal((errors[2] as RemoteError).retryAfterS, 3);
    assert.equal((errors[3] as PriceUpdateError).reason, 'size');
  });
});
