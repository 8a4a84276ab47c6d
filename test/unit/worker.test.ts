import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { PREFILL_CHUNK } from '../../src/engine/generation/generate';
import { STAGES } from '../../src/engine/runtime/stageClock';
import { EngineClient } from '../../src/engine/worker/client';
import { copyModel, ROOT, TEST_MODEL } from './helpers';

/** The shipped model: 2,048 positions and a prefill long enough to measure. */
const SHIPPED_MODEL = path.join(ROOT, 'models', 'glassbox-code');

type Coded = Error & { code?: string };

/**
 * Runs `start` while a message goes back and forth between two ports of this thread, each hop a
 * turn of the event loop, and counts the round trips completed before the first streamed token.
 */
async function roundTripsBeforeFirstToken<T>(
  start: (onToken: () => void) => Promise<T>,
): Promise<{ value: T; roundTrips: number }> {
  const { port1, port2 } = new MessageChannel();
  let roundTrips = 0;
  let tokenCame = false;
  port2.on('message', (m) => port2.postMessage(m));
  port1.on('message', () => {
    if (tokenCame) return;
    roundTrips++;
    port1.postMessage(0);
  });
  port1.postMessage(0);
  try {
    const value = await start(() => (tokenCame = true));
    return { value, roundTrips };
  } finally {
    port1.close();
  }
}

describe('engine worker', () => {
  const crashes: number[] = [];
  const client = new EngineClient({ testHooks: true, onCrash: (code) => crashes.push(code) });
  after(() => client.dispose());

  it('loads the model and completes, streaming tokens to the host', async () => {
    const info = await client.load({ modelDir: TEST_MODEL });
    assert.equal(info.numLayers, 2);
    const tokens: number[] = [];
    const r = await client.call(
      'complete',
      { prefix: 'def add(a, b):\n    return ', suffix: '\n', maxNewTokens: 8, stopTokenIds: [] },
      { onToken: (t) => tokens.push(t.id) },
    );
    assert.deepEqual(tokens, r.tokens);
    assert.equal(r.tokens.length, 8);
  });

  it('times every stage of a completion, the messages between the threads included', async () => {
    await client.load({ modelDir: TEST_MODEL });
    const t0 = performance.now();
    const r = await client.call('complete', {
      prefix: 'def add(a, b):\n    return ',
      suffix: '\n',
      maxNewTokens: 6,
      stopTokenIds: [],
    });
    const wall = performance.now() - t0;
    const s = r.timings.stages;
    for (const stage of STAGES) assert.ok(s[stage] !== undefined && s[stage] >= 0, `${stage}: ${s[stage]}`);
    const sum = Object.values(s).reduce((a, b) => a + b, 0);
    assert.ok(sum <= wall, `the stages (${sum} ms) fit in the request (${wall} ms)`);
  });

  it('keeps the host event loop free while generating', async (t) => {
    // The prefill of one PREFILL_CHUNK of prompt on the shipped model (test-tiny's is too short)
    // is one long ORT run, in the worker. Checked as an order of events, not a duration: messages
    // go round between two ports of this thread while the worker prefills, and at least 10 round
    // trips must complete before the first token arrives. Run on this thread (Engine.generate
    // in-process), the prefill is one synchronous stretch: 0 round trips before the first token,
    // against about 10,000 from the worker on a 2-core machine (15,000-20,000 with its CPUs
    // oversubscribed). How long the host's loop stalls is measured by `npm run bench`
    // (bench/responsiveness.ts, "Host event-loop delay while generating").
    const big = new EngineClient();
    try {
      await big.load({ modelDir: SHIPPED_MODEL });
      const prompt = Array.from({ length: PREFILL_CHUNK }, (_, i) => 10 + (i % 200));
      const params = { prompt, maxNewTokens: 2, stopTokenIds: [], reuseCache: false };
      // A fresh worker's first run maps its memory: its page faults can hold up the host thread too.
      await big.call('generate', params);
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { value: r, roundTrips } = await roundTripsBeforeFirstToken((onToken) =>
          big.call('generate', params, { onToken }),
        );
        counts.push(roundTrips);
        assert.equal(r.timings.promptTokens, PREFILL_CHUNK, 'the whole prompt was prefilled');
        assert.equal(r.tokens.length, 2);
        assert.ok(
          roundTrips >= 10,
          `generation ${i}: ${roundTrips} round trips on the host while the worker prefilled`,
        );
      }
      t.diagnostic(`round trips on the host before the first token: ${counts.join(', ')}`);
    } finally {
      await big.dispose();
    }
  });

  it('cancels a request through an AbortSignal and serves the next one', async () => {
    const ctrl = new AbortController();
    let seen = 0;
    const p = client.call(
      'generate',
      { prompt: 'x = 1\n', maxNewTokens: 200, stopTokenIds: [] },
      {
        signal: ctrl.signal,
        onToken: () => {
          if (++seen === 2) ctrl.abort();
        },
      },
    );
    await assert.rejects(p, (e: Coded) => e.code === 'CANCELLED');
    const r = await client.call('generate', { prompt: 'x = 1\n', maxNewTokens: 3, stopTokenIds: [] });
    assert.equal(r.tokens.length, 3);
  });

  it('a request cancelled before it starts never reaches the worker', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await assert.rejects(
      client.call('tokenize', { text: 'x' }, { signal: ctrl.signal }),
      (e: Coded) => e.code === 'CANCELLED',
    );
  });

  it('fails in-flight requests clearly when the worker crashes, then restarts and reloads', async () => {
    const p = client.call(
      'generate',
      { prompt: 'def f():\n', maxNewTokens: 500, stopTokenIds: [] },
      { onToken: () => client.crashForTest() },
    );
    await assert.rejects(p, (e: Coded) => e.code === 'WORKER_CRASHED' && /restarts the worker/.test(e.message));
    assert.deepEqual(crashes, [70]);
    assert.equal(client.running, false);
    const r = await client.call('tokenize', { text: 'hello world' });
    assert.ok(r.ids.length > 0, 'the model was reloaded in a fresh worker');
  });

  it('reports engine errors with their codes', async () => {
    await assert.rejects(
      client.call('generate', { prompt: '', maxNewTokens: 3 }),
      (e: Coded) => e.code === 'PROMPT_EMPTY',
    );
    await assert.rejects(client.load({ modelDir: '/nonexistent' }), (e: Coded) => e.code === 'MODEL_NOT_FOUND');
    const info = await client.call('info', {});
    assert.ok(info && info.numLayers === 2, 'a failed load keeps the model that was loaded');
  });
});

describe('engine worker recovery', () => {
  it('a worker that exits before it is ready fails the call instead of leaving it pending', async () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-worker-')), 'exits.js');
    fs.writeFileSync(script, 'process.exit(3);\n');
    const client = new EngineClient({ workerPath: script });
    try {
      await assert.rejects(
        client.call('tokenize', { text: 'x' }),
        (e: Coded) => e.code === 'WORKER_CRASHED' && /before it was ready/.test(e.message),
      );
    } finally {
      await client.dispose();
    }
  });

  it('retries a failed reload after a crash once the model folder is back', async () => {
    const dir = copyModel(TEST_MODEL);
    const client = new EngineClient({ testHooks: true });
    try {
      await client.load({ modelDir: dir });
      const crashed = client.call(
        'generate',
        { prompt: 'def f():\n', maxNewTokens: 500, stopTokenIds: [] },
        { onToken: () => client.crashForTest() },
      );
      await assert.rejects(crashed, (e: Coded) => e.code === 'WORKER_CRASHED');
      fs.renameSync(dir, `${dir}-away`);
      await assert.rejects(
        client.call('tokenize', { text: 'x' }),
        (e: Coded) => e.code === 'MODEL_NOT_FOUND',
        'the reload fails while the folder is gone',
      );
      await assert.rejects(
        client.call('tokenize', { text: 'x' }),
        (e: Coded) => e.code === 'MODEL_NOT_FOUND',
        'and is tried again, not skipped',
      );
      fs.renameSync(`${dir}-away`, dir);
      const r = await client.call('tokenize', { text: 'hello' });
      assert.ok(r.ids.length > 0, 'the next call reloads the model');
    } finally {
      await client.dispose();
    }
  });

  it('two calls right after a crash both wait for the reload', async () => {
    const client = new EngineClient({ testHooks: true });
    try {
      await client.load({ modelDir: TEST_MODEL });
      const crashed = client.call(
        'generate',
        { prompt: 'def f():\n', maxNewTokens: 500, stopTokenIds: [] },
        { onToken: () => client.crashForTest() },
      );
      await assert.rejects(crashed, (e: Coded) => e.code === 'WORKER_CRASHED');
      const [a, b] = await Promise.all([
        client.call('tokenize', { text: 'one' }),
        client.call('generate', { prompt: 'x = ', maxNewTokens: 2, stopTokenIds: [] }),
      ]);
      assert.ok(a.ids.length > 0);
      assert.equal(b.tokens.length, 2);
    } finally {
      await client.dispose();
    }
  });
});
