/**
 * The context worker as the extension uses it: ContextClient drives the bundled
 * dist/contextWorker.js (built by `node esbuild.js`) over a real temp folder. Snippets from another
 * file must arrive, an open editor's unsaved text must win over the disk, and a slow or disposed
 * worker must answer null instead of holding up a completion.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cursorQueries, stringSource, type ContextQueries } from '../../src/engine/context/cursorContext';
import { ContextClient } from '../../src/engine/context/worker/client';
import { ROOT } from './helpers';

const WORKER = path.join(ROOT, 'dist', 'contextWorker.js');

/** The file being edited (not on disk): it imports formatDuration and is typing a call to it. */
const DOC =
  'import { formatDuration } from "./util";\n\nconst started = Date.now();\nconst ms = Date.now() - started;\nconsole.log(formatDu';
const UTIL = 'export function formatDuration(ms: number): string {\n  return `${Math.round(ms / 1000)}s`;\n}\n';

function queriesFor(doc: string): ContextQueries {
  const lines = doc.split('\n');
  return cursorQueries(stringSource(doc), lines.length - 1, doc.length, 'app.ts', 1024).queries;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the client has heard of a finished scan. */
async function scanned(client: ContextClient, timeoutMs = 15_000): Promise<NonNullable<ContextClient['lastScan']>> {
  const deadline = Date.now() + timeoutMs;
  while (!client.lastScan) {
    if (Date.now() > deadline) throw new Error('no scan report from the worker');
    await sleep(20);
  }
  return client.lastScan;
}

describe('context worker', () => {
  let root: string;
  let client: ContextClient;
  before(() => {
    assert.ok(fs.existsSync(WORKER), 'dist/contextWorker.js is missing: run `node esbuild.js`');
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-ctx-'));
    fs.writeFileSync(path.join(root, 'util.ts'), UTIL);
    fs.writeFileSync(path.join(root, 'notes.ts'), 'export const unrelatedConstant = 42;\n');
    client = new ContextClient(WORKER);
  });
  after(async () => {
    await client.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('scans a folder and answers with snippets and copy sources from another file', async () => {
    client.scan([{ root, prefix: '', exclude: [] }]);
    const report = await scanned(client);
    assert.equal(report.files, 2);
    const answer = await client.query(queriesFor(DOC), 5000);
    assert.ok(answer, 'an answer in time');
    assert.deepEqual(
      answer.snippets.map((s) => s.path),
      ['util.ts'],
    );
    assert.equal(answer.snippets[0].text, UTIL);
    assert.ok(
      answer.copySources.some((s) => s.path === 'util.ts' && s.text.includes('function formatDuration(')),
      JSON.stringify(answer.copySources),
    );
  });

  it("uses an open editor's text instead of the disk's, also after a rescan", async () => {
    const edited = 'export function formatDurationPretty(ms: number): string {\n  return `${ms} ms`;\n}\n';
    client.setFile('util.ts', edited);
    let answer = await client.query(queriesFor(DOC), 5000);
    assert.deepEqual(
      answer?.snippets.map((s) => s.text),
      [edited],
    );
    client.lastScan = null;
    client.scan([{ root, prefix: '', exclude: [] }]);
    await scanned(client);
    answer = await client.query(queriesFor(DOC), 5000);
    assert.deepEqual(
      answer?.snippets.map((s) => s.text),
      [edited],
      'the scan read util.ts from disk but kept the editor text',
    );
  });

  it('forgets a deleted file', async () => {
    client.deleteFile('util.ts');
    const answer = await client.query(queriesFor(DOC), 5000);
    assert.ok(answer);
    assert.deepEqual(answer.snippets, []);
    assert.ok(!answer.copySources.some((s) => s.path === 'util.ts'));
  });

  it('drops a file that a refresh finds gone from disk', async () => {
    client.lastScan = null;
    client.scan([{ root, prefix: '', exclude: [] }]);
    assert.equal((await scanned(client)).files, 2, 'util.ts read again from disk');
    fs.rmSync(path.join(root, 'notes.ts'));
    client.refresh([{ file: path.join(root, 'notes.ts'), path: 'notes.ts' }]);
    await client.query(queriesFor(DOC), 5000); // the refresh has been handled
    await sleep(200); // and its read of the file has failed
    client.lastScan = null;
    client.scan([{ root, prefix: '', exclude: [] }]);
    assert.equal((await scanned(client)).files, 1, 'the index still holds notes.ts');
  });
});

describe('context client without an answer', () => {
  it('resolves a query to null when the worker has not started in time', async () => {
    const client = new ContextClient(WORKER);
    try {
      const t = Date.now();
      assert.equal(await client.query(queriesFor(DOC), 1), null);
      assert.ok(Date.now() - t < 2000, 'it did not wait for the worker');
    } finally {
      await client.dispose();
    }
  });

  it('resolves pending queries with null on dispose, and later ones at once', async () => {
    const client = new ContextClient(WORKER);
    const pending = client.query(queriesFor(DOC), 60_000);
    await client.dispose();
    assert.equal(await pending, null);
    assert.equal(await client.query(queriesFor(DOC), 60_000), null);
  });

  it('resolves to null, not an exception, when the worker cannot start', async () => {
    const client = new ContextClient(path.join(os.tmpdir(), 'no-such-context-worker.js'));
    try {
      assert.equal(await client.query(queriesFor(DOC), 2000), null);
    } finally {
      await client.dispose();
    }
  });
});
