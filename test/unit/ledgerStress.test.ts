/**
 * Two VS Code windows share one usage ledger. Here three processes append while this one keeps
 * damaging the file and recovering it (readLedger's move-aside-and-rewrite): every append must end
 * in the ledger. Without the lock, 279 of 1,472 appends were lost this way (issue 28).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readLedger } from '../../src/costs/ledger';
import { ROOT } from './helpers';

const PER_CHILD = 150;
const CHILDREN = 3;

const child = (file: string, tag: string) => `
const { appendToLedger } = require(${JSON.stringify(path.join(ROOT, 'out', 'src', 'costs', 'ledger.js'))});
(async () => {
  for (let i = 0; i < ${PER_CHILD}; i++) {
    const entry = { id: '${tag}-' + i, time: Date.now(), kind: 'completion', model: 'm', promptTokens: 1, reusedTokens: 0,
      generatedTokens: 1, prefillMs: 1, decodeMs: 1, latencyMs: 1, prompt: { chars: 1 }, output: { chars: 1 }, shown: true, accepted: false };
    await appendToLedger(${JSON.stringify(file)}, [entry]);
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('usage ledger shared by several windows', () => {
  it('no append is lost while another process recovers the damaged file', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-ledger-stress-'));
    const file = path.join(dir, 'usage-ledger.jsonl');
    const running = Array.from({ length: CHILDREN }, (_, k) => {
      const p = spawn(process.execPath, ['-e', child(file, `w${k}`)], { stdio: ['ignore', 'inherit', 'inherit'] });
      return new Promise<number | null>((resolve) => p.once('exit', resolve));
    });
    let alive = true;
    void Promise.all(running).then(() => (alive = false));
    let recoveries = 0;
    while (alive) {
      if (fs.existsSync(file)) fs.appendFileSync(file, 'not a ledger line\n');
      if ((await readLedger(file)).recovered) recoveries++;
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.deepEqual(await Promise.all(running), Array(CHILDREN).fill(0));
    const ids = new Set((await readLedger(file)).entries.map((e) => e.id));
    assert.ok(recoveries > 5, `the file was recovered ${recoveries} times while appends ran`);
    const lost = CHILDREN * PER_CHILD - ids.size;
    assert.equal(lost, 0, `${lost} of ${CHILDREN * PER_CHILD} appends were lost`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
