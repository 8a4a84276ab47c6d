/**
 * WorkerRpc, the plumbing under the engine, context and token-count clients, against a tiny worker
 * script written to a temp folder: replies reach the request they answer (out of order too), an
 * error thrown in the worker arrives as an error, a worker that exits fails every pending request
 * and the next request gets a fresh worker, and abort, timeout, detach and idle stop behave.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { after, describe, it } from 'node:test';
import { WorkerRpc, type ExitReason, type RpcOptions, type RpcReply } from '../../src/engine/worker/rpc';

/** Serves { id, op, value, delay } requests; replies { id, result | progress | error }. */
const SCRIPT = `
const { parentPort } = require('node:worker_threads');
const cancelled = [];
parentPort.on('message', (m) => {
  if (m.type === 'cancel') return void cancelled.push(m.id);
  const reply = (x) => parentPort.postMessage({ id: m.id, ...x });
  try {
    switch (m.op) {
      case 'echo': return void setTimeout(() => reply({ result: m.value }), m.delay ?? 0);
      case 'count': for (let i = 1; i <= m.value; i++) reply({ progress: i }); return reply({ result: 'done' });
      case 'throw': throw new RangeError(m.value);
      case 'exit': return process.exit(m.value);
      case 'cancelled': return reply({ result: cancelled });
      case 'never': return;
    }
  } catch (err) {
    reply({ error: { name: err.name, message: err.message } });
  }
});
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-rpc-'));
const script = path.join(dir, 'worker.js');
fs.writeFileSync(script, SCRIPT);
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The test protocol's replies, with the worker's error rebuilt as an Error of the same name. */
function receive(raw: unknown): RpcReply | undefined {
  const m = raw as { id?: unknown; result?: unknown; progress?: unknown; error?: { name: string; message: string } };
  if (typeof m?.id !== 'number') return undefined;
  if (m.error) return { id: m.id, error: Object.assign(new Error(m.error.message), { name: m.error.name }) };
  return 'progress' in m ? { id: m.id, progress: m.progress } : { id: m.id, result: m.result };
}

function client(extra: Partial<RpcOptions> = {}) {
  const crashes: ExitReason[] = [];
  let spawned = 0;
  const rpc = new WorkerRpc({
    spawn: () => (spawned++, new Worker(script)),
    receive,
    crashError: (reason) => new Error(`worker gone: ${reason}`),
    onCrash: (reason) => crashes.push(reason),
    ...extra,
  });
  const call = <T>(op: string, value?: unknown, delay?: number, opts = {}) =>
    rpc.request<T>((id) => ({ id, op, value, delay }), opts);
  return { rpc, call, crashes, spawned: () => spawned };
}

describe('WorkerRpc', () => {
  it('matches each reply to its request, also when they come back out of order', async () => {
    const { rpc, call } = client();
    try {
      const results = await Promise.all([call('echo', 'slow', 60), call('echo', 'fast', 0), call('echo', 'mid', 20)]);
      assert.deepEqual(results, ['slow', 'fast', 'mid']);
      const seen: unknown[] = [];
      assert.equal(await call('count', 3, 0, { onProgress: (p: unknown) => seen.push(p) }), 'done');
      assert.deepEqual(seen, [1, 2, 3], 'progress went to its request before the result');
    } finally {
      await rpc.close(new Error('done'));
    }
  });

  it('an error thrown in the worker arrives as an error; the worker serves on', async () => {
    const { rpc, call, crashes } = client();
    try {
      await assert.rejects(
        call('throw', 'bad input'),
        (e: Error) => e.name === 'RangeError' && e.message === 'bad input',
      );
      assert.equal(await call('echo', 'still here'), 'still here');
      assert.deepEqual(crashes, []);
    } finally {
      await rpc.close(new Error('done'));
    }
  });

  it('a worker that exits fails every pending request, and the next request starts a fresh one', async () => {
    const { rpc, call, crashes, spawned } = client();
    try {
      const pending = [call('never'), call('echo', 'late', 5_000)];
      const exit = call('exit', 7);
      for (const p of [...pending, exit]) await assert.rejects(p, /worker gone: 7/);
      assert.deepEqual(crashes, [7]);
      assert.equal(rpc.worker, null);
      assert.equal(await call('echo', 'again'), 'again');
      assert.equal(spawned(), 2);
    } finally {
      await rpc.close(new Error('done'));
    }
  });

  it('an abort rejects at once and tells the worker; an aborted signal sends nothing', async () => {
    const { rpc, call } = client({ abortError: () => new Error('aborted!') });
    try {
      const ctrl = new AbortController();
      const cancel = (id: number) => ({ type: 'cancel', id });
      const p = call('never', undefined, undefined, { signal: ctrl.signal, cancel });
      ctrl.abort();
      await assert.rejects(p, /aborted!/);
      await assert.rejects(call('echo', 'x', 0, { signal: ctrl.signal, cancel }), /aborted!/);
      // ids start at 1: request 1 was cancelled, request 2 (already aborted) never reached the worker
      assert.deepEqual(await call('cancelled'), [1]);
    } finally {
      await rpc.close(new Error('done'));
    }
  });

  it('times out a request without a reply and ignores the late reply', async () => {
    const { rpc, call } = client();
    try {
      await assert.rejects(
        call('echo', 'late', 200, { timeoutMs: 20, timeoutError: () => new Error('too slow') }),
        /too slow/,
      );
      await new Promise((r) => setTimeout(r, 250)); // the late reply arrives and settles nothing
      assert.equal(await call('echo', 'next'), 'next');
    } finally {
      await rpc.close(new Error('done'));
    }
  });

  it('detach fails pending requests with its error, and the worker ending then is no crash', async () => {
    const { rpc, call, crashes } = client();
    const p = call('never');
    const worker = rpc.detach(new Error('shut down'));
    await assert.rejects(p, /shut down/);
    assert.ok(worker);
    await worker.terminate();
    assert.deepEqual(crashes, []);
  });

  it('stops an idle worker after idleMs and starts one again on demand', async () => {
    const { rpc, call, crashes, spawned } = client({ idleMs: 30 });
    try {
      assert.equal(await call('echo', 1), 1);
      assert.ok(rpc.worker);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(rpc.worker, null, 'stopped when idle');
      assert.equal(await call('echo', 2), 2);
      assert.equal(spawned(), 2);
      assert.deepEqual(crashes, [], 'an idle stop is no crash');
    } finally {
      await rpc.close(new Error('done'));
    }
  });
});
