/**
 * Disposing the engine client while a generation runs (the extension deactivating, disabled or
 * updated mid-completion) fails the pending call cleanly and ends the worker without taking the
 * process down. worker.terminate() during a session.run aborted the process (SIGABRT, "terminate
 * called after throwing an instance of 'Napi::Error'") in 4 of 5 runs; each run here is a fresh
 * process, so a crash shows as a signal or a non-zero exit.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { EngineClient } from '../../src/engine/worker/client';
import { ROOT } from './helpers';

const SCRIPT = `
const { EngineClient } = require(${JSON.stringify(path.join(ROOT, 'out', 'src', 'engine', 'worker', 'client.js'))});
(async () => {
  const client = new EngineClient({ workerPath: ${JSON.stringify(path.join(ROOT, 'out', 'src', 'engine', 'worker', 'engineWorker.js'))} });
  await client.load({ modelDir: ${JSON.stringify(path.join(ROOT, 'models', 'glassbox-code'))} });
  let tokens = 0;
  let disposing;
  const run = client.call('generate', { prompt: 'def main():\\n', maxNewTokens: 4000, stopTokenIds: [] }, {
    onToken: () => { if (++tokens === 3) disposing = client.dispose(); },
  });
  const outcome = await run.then(() => 'resolved', (e) => e.code);
  await disposing;
  console.log('pending call: ' + outcome);
})();
`;

describe('engine client shutdown', () => {
  it(
    'a call aborted while the worker is still starting rejects at once with CANCELLED',
    { timeout: 20_000 },
    async () => {
      // a worker that never says it is ready (a slow or stuck start)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-stuck-'));
      const stuck = path.join(dir, 'stuck.js');
      fs.writeFileSync(stuck, 'setInterval(() => {}, 1000);\n');
      const client = new EngineClient({ workerPath: stuck });
      const controller = new AbortController();
      const call = client.call('info', {}, { signal: controller.signal });
      // call() has spawned the worker and waits for its 'ready', which never comes: abort there (the
      // test's timeout, under the client's 30 s start limit, is what "at once" is held to)
      controller.abort();
      await assert.rejects(call, (e: Error & { code?: string }) => e.code === 'CANCELLED');
      await client.dispose(); // never ready: ended at once
    },
  );

  it('dispose() during a generation fails the call and exits cleanly, every time', () => {
    for (let i = 0; i < 4; i++) {
      const r = spawnSync(process.execPath, ['-e', SCRIPT], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, `run ${i}: the process died of ${r.signal}: ${r.stderr.slice(-300)}`);
      assert.equal(r.status, 0, `run ${i}: exit ${r.status}: ${r.stderr.slice(-300)}`);
      assert.match(r.stdout, /pending call: CANCELLED/);
    }
  });
});
