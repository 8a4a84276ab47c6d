// The usage ledger: what a session records survives a reload, acceptances reach their request,
// no code is stored, export to CSV/JSON, and a damaged file is backed up and replaced.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { CompletionCache } from '../../src/completion/cache';
import { appendToLedger, LEDGER_FILE, readLedger } from '../../src/costs/ledger';
import { ledgerToCsv, ledgerToJson } from '../../src/costs/ledgerExport';
import { TokenCounter } from '../../src/costs/tokenCounter';
import { UsageRecorder, type Served } from '../../src/costs/usageRecorder';
import { ROOT } from './helpers';

const WORKER = path.join(ROOT, 'out', 'src', 'costs', 'tokenCountWorker.js');
const SECRET = 'function secretBusinessLogic(apiKey) {';
const dirs: string[] = [];
const ledgerFile = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-ledger-'));
  dirs.push(d);
  return path.join(d, 'globalStorage', LEDGER_FILE);
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function served(id: string, over: Partial<Served> = {}): Served {
  return {
    id,
    kind: 'completion',
    model: 'test-tiny',
    result: {
      text: ' apiKey.length;',
      promptText: `<|fim_prefix|>${SECRET}\n  return<|fim_suffix|>\n}<|fim_middle|>`,
      timings: { promptTokens: 30, reusedTokens: 12, generatedTokens: 5, prefillMs: 40.25, decodeMs: 60.5 },
    },
    latencyMs: 120,
    ...over,
  };
}

describe('usage ledger', () => {
  it('survives a reload: counts exact OpenAI tokens, ties acceptances, stores no code', async () => {
    const file = ledgerFile();
    const counter = new TokenCounter(WORKER);
    // First session: three requests, one accepted, written by a flush.
    const first = new UsageRecorder({ file, counter, flushMs: 60_000 });
    first.record(served('s1-1'));
    first.record(
      served('s1-2', {
        kind: 'explain',
        result: {
          text: 'It checks the key.',
          promptText: `Explain:\n${SECRET}`,
          timings: { promptTokens: 20, generatedTokens: 6, prefillMs: 10, decodeMs: 30 },
        },
      }),
    );
    first.record(
      served('s1-3', {
        result: {
          text: '',
          promptText: served('x').result.promptText,
          timings: { promptTokens: 30, generatedTokens: 1, prefillMs: 40, decodeMs: 5 },
        },
      }),
    );
    first.accept('s1-1');
    first.accept(undefined); // a cached item without an id: ignored
    await first.flush();
    first.dispose();
    counter.dispose();

    // Second session (after a window reload): one more, written synchronously when the extension stops.
    const second = new UsageRecorder({ file });
    second.record(served('s2-1'));
    second.dispose();

    const { entries, recovered } = await readLedger(file);
    assert.equal(recovered, undefined);
    assert.deepEqual(
      entries.map((e) => e.id),
      ['s1-1', 's1-2', 's1-3', 's2-1'],
    );
    const [a, b, c, d] = entries;
    assert.deepEqual([a.accepted, b.accepted, c.accepted, d.accepted], [true, false, false, false]);
    assert.deepEqual(
      [a.shown, b.shown, c.shown],
      [true, false, false],
      'an empty completion was never shown; explanations are not ghost text',
    );
    assert.equal(b.kind, 'explain');
    assert.deepEqual(
      [a.promptTokens, a.reusedTokens, a.generatedTokens, a.prefillMs, a.decodeMs, a.latencyMs],
      [30, 12, 5, 40.3, 60.5, 120],
    );
    assert.ok(a.prompt.o200k! > 10 && a.prompt.cl100k! > 10, 'exact counts from the worker');
    assert.equal(a.output.o200k, 4);
    assert.equal(d.prompt.o200k, undefined, 'no time to count at shutdown: lengths only');
    assert.equal(d.prompt.chars, served('x').result.promptText!.length);
    const raw = fs.readFileSync(file, 'utf8');
    assert.ok(!raw.includes('secretBusinessLogic') && !raw.includes('apiKey'), 'the ledger holds counts, never code');
    assert.ok(raw.length / 5 < 250, `about ${Math.round(raw.length / 5)} bytes per line`);
  });

  it('exports CSV and JSON', async () => {
    const file = ledgerFile();
    await appendToLedger(file, [], []);
    const rec = new UsageRecorder({ file });
    rec.record(served('x-1', { model: 'my, "quoted" model' }));
    rec.record(served('x-2', { backend: 'ollama', model: 'qwen2.5-coder:7b' }));
    rec.accept('x-2');
    const { entries } = await rec.read();
    rec.dispose();
    const csv = ledgerToCsv(entries).split('\r\n');
    assert.match(csv[0], /^id,time,kind,model,prompt_tokens,.*,shown,accepted,server$/);
    assert.equal(csv.length, 4, 'header, two rows, final line break');
    assert.ok(csv[1].includes('"my, ""quoted"" model"'), 'RFC 4180 quoting');
    assert.ok(csv[1].endsWith(',true,false,'), 'the embedded engine: no server');
    assert.ok(csv[2].endsWith(',true,true,ollama'), 'a request a model server answered says which');
    const json = JSON.parse(ledgerToJson(entries, new Date('2026-01-01T00:00:00Z')));
    assert.equal(json.exportedAt, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(
      json.entries.map((e: { id: string; accepted: boolean }) => [e.id, e.accepted]),
      [
        ['x-1', false],
        ['x-2', true],
      ],
    );
  });

  it('backs up a damaged ledger, starts a new one with the readable requests, and says so', async () => {
    const file = ledgerFile();
    const rec = new UsageRecorder({ file });
    rec.record(served('ok-1'));
    rec.record(served('ok-2'));
    await rec.flush();
    fs.appendFileSync(file, '{"id": "half a line\n\u0000\u0001 garbage\n');
    const told: unknown[] = [];
    const next = new UsageRecorder({ file, onRecovered: (r) => told.push(r) });
    next.record(served('after-1'));
    await next.flush();
    next.dispose();
    rec.dispose();

    assert.equal(told.length, 1, 'the user is told once');
    const info = told[0] as { backup: string; badLines: number; kept: number };
    assert.deepEqual([info.badLines, info.kept], [2, 2]);
    assert.ok(fs.readFileSync(info.backup, 'utf8').includes('garbage'), 'the damaged file is kept as a backup');
    const again = await readLedger(file);
    assert.equal(again.recovered, undefined, 'the new ledger reads cleanly');
    assert.deepEqual(
      again.entries.map((e) => e.id),
      ['ok-1', 'ok-2', 'after-1'],
    );
  });

  it('an entry appended after a torn last line (a crash mid-write) is kept', async () => {
    const file = ledgerFile();
    const rec = new UsageRecorder({ file });
    rec.record(served('before'));
    await rec.flush();
    rec.dispose();
    const entry = (await readLedger(file)).entries[0];
    fs.appendFileSync(file, '{"id":"torn'); // no newline: the write stopped here
    await appendToLedger(file, [{ ...entry, id: 'after' }]);
    const { entries, recovered } = await readLedger(file);
    assert.deepEqual(
      entries.map((e) => e.id),
      ['before', 'after'],
      'the new entry starts on its own line',
    );
    assert.equal(recovered?.badLines, 1, 'only the torn line is lost');
  });

  it("a server's usage of -1 or 1e309 tokens is written as a line the reader keeps (no 'damaged' recovery)", async () => {
    const file = ledgerFile();
    const rec = new UsageRecorder({ file });
    rec.record(served('first'));
    await rec.flush();
    rec.dispose();
    const entry = (await readLedger(file)).entries[0];
    await appendToLedger(file, [
      { ...entry, id: 'minus', promptTokens: -1 },
      { ...entry, id: 'huge', generatedTokens: Number('1e309'), latencyMs: NaN },
    ]);
    const { entries, recovered } = await readLedger(file);
    assert.equal(recovered, undefined, 'nothing moved aside');
    assert.deepEqual(
      entries.map((e) => [e.id, e.promptTokens, e.generatedTokens]),
      [
        ['first', entry.promptTokens, entry.generatedTokens],
        ['minus', 0, entry.generatedTokens],
        ['huge', entry.promptTokens, 0],
      ],
    );
  });

  it('a byte-order mark or a blank first line is not damage', async () => {
    const file = ledgerFile();
    const rec = new UsageRecorder({ file });
    rec.record(served('one'));
    await rec.flush();
    rec.dispose();
    const text = fs.readFileSync(file, 'utf8');
    for (const variant of ['\uFEFF' + text, '\n' + text]) {
      fs.writeFileSync(file, variant);
      const { entries, recovered } = await readLedger(file);
      assert.equal(recovered, undefined, JSON.stringify(variant.slice(0, 3)));
      assert.deepEqual(
        entries.map((e) => e.id),
        ['one'],
      );
    }
  });

  it('a recovery keeps every acceptance as written (its own time, unknown ids too)', async () => {
    const file = ledgerFile();
    const rec = new UsageRecorder({ file });
    rec.record(served('one'));
    await rec.flush();
    rec.dispose();
    fs.appendFileSync(file, '{"acc":"one","t":1234567}\nnot json\n{"acc":"elsewhere","t":7654321}\n');
    const { entries, recovered } = await readLedger(file);
    assert.ok(recovered, 'the bad line makes it a recovery');
    assert.equal(entries[0].accepted, true);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.ok(lines.includes('{"acc":"one","t":1234567}'), 'the acceptance keeps its time');
    assert.ok(lines.includes('{"acc":"elsewhere","t":7654321}'), 'an acceptance of another window is kept');
  });

  // the timeout only turns a write that is never tried again (a hang) into a failure
  it('a failed write is tried again by itself, with nothing else to trigger it', { timeout: 30_000 }, async (t) => {
    const file = ledgerFile();
    fs.mkdirSync(file, { recursive: true }); // a folder where the file goes: every write fails
    const problems: string[] = [];
    let told = () => {};
    let flushed = () => {};
    const failed = new Promise<void>((r) => (told = r));
    const written = new Promise<void>((r) => (flushed = r));
    const rec = new UsageRecorder({
      file,
      flushMs: 20,
      onProblem: (m) => (problems.push(m), told()),
      onFlushed: () => flushed(),
    });
    // the recorder's timer is unref'd (it must not hold the editor's process open): this one,
    // never due, keeps the test's process alive while it waits for the recorder's events, and
    // lets it end if the test times out
    const alive = setInterval(() => {}, 2 ** 30);
    t.signal.addEventListener('abort', () => clearInterval(alive), { once: true });
    try {
      rec.record(served('kept'));
      await failed;
      assert.ok(problems.length > 0, 'the first write failed');
      fs.rmSync(file, { recursive: true });
      await written; // a later try, started by the recorder's own timer, reached the file
    } finally {
      clearInterval(alive);
      rec.dispose();
    }
    assert.deepEqual(
      (await readLedger(file)).entries.map((e) => e.id),
      ['kept'],
    );
  });

  it('resets to an empty ledger', async () => {
    const file = ledgerFile();
    const rec = new UsageRecorder({ file });
    rec.record(served('r-1'));
    await rec.reset();
    assert.deepEqual((await rec.read()).entries, []);
    rec.dispose();
  });

  it('keeps the served request’s id with cached completions, for acceptances', () => {
    const cache = new CompletionCache();
    cache.set('return ', '\n', 'a + b', 'req-7');
    assert.deepEqual(cache.lookup('return a', '\n'), { text: ' + b', requestId: 'req-7' });
    assert.equal(cache.get('return ', '\n'), 'a + b');
  });
});
