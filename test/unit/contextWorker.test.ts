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

type ScanReport = NonNullable<ContextClient['lastScan']>;

/**
 * Scans `root` and resolves with the report of that scan: the client sets lastScan when the
 * worker's 'scanned' message arrives, and that assignment resolves the wait (no polling).
 */
function scanned(client: ContextClient, root: string): Promise<ScanReport> {
  return new Promise((resolve) => {
    let report: ContextClient['lastScan'] = null;
    Object.defineProperty(client, 'lastScan', {
      configurable: true,
      enumerable: true,
      get: () => report,
      set: (r: ContextClient['lastScan']) => {
        report = r;
        if (!r) return;
        Object.defineProperty(client, 'lastScan', { value: r, writable: true, configurable: true, enumerable: true });
        resolve(r);
      },
    });
    client.scan([{ root, prefix: '', exclude: [] }]);
  });
}

/** The timeouts below only turn a wait for a message that never comes (a hang) into a failure. */
describe('context worker', { timeout: 60_000 }, () => {
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
    const report = await scanned(client, root);
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
    await scanned(client, root);
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
    assert.equal((await scanned(client, root)).files, 2, 'util.ts read again from disk');
    // a cursor typing notes.ts's constant: the answer holds notes.ts while the index does
    const notesDoc = 'console.log(unrelatedCon';
    const holdsNotes = async () => {
      const answer = await client.query(queriesFor(notesDoc), 5000);
      assert.ok(answer, 'an answer in time');
      return [...answer.snippets, ...answer.copySources].some((s) => s.path === 'notes.ts');
    };
    assert.equal(await holdsNotes(), true, 'notes.ts is in the index before it is deleted');
    fs.rmSync(path.join(root, 'notes.ts'));
    client.refresh([{ file: path.join(root, 'notes.ts'), path: 'notes.ts' }]);
    // The worker reads the file after it has handled the refresh message (readCode, off its message
    // loop), and says nothing when the read fails: the event to wait for is an answer without it.
    while (await holdsNotes());
    assert.equal((await scanned(client, root)).files, 1, 'the index still holds notes.ts');
  });
});

describe('context client without an answer', { timeout: 60_000 }, () => {
  it('resolves a query to null when the worker has not started in time', async () => {
    const client = new ContextClient(WORKER);
    try {
      // the worker's answer would be an object (empty lists: nothing is scanned), not null
      assert.equal(await client.query(queriesFor(DOC), 1), null);
      assert.deepEqual(
        await client.query(queriesFor(DOC), 60_000),
        { snippets: [], copySources: [] },
        'the same worker answers a query that waits for it',
      );
    } finally {
      await client.dispose();
    }
  });

  it('does not wait for a worker that never answers', async () => {
    // started, but never says a word: only the query's own timeout can settle it
    const silent = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-ctx-silent-')), 'silent.js');
    fs.writeFileSync(silent, 'setInterval(() => {}, 1000);\n');
    const client = new ContextClient(silent);
    try {
      assert.equal(await client.query(queriesFor(DOC), 1), null);
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
