/**
 * What a probe of 363 bad-input cases found after issue 28's list was fixed (the closing note has
 * the table): FIFOs and /dev/zero where a model folder, the ledger or the CLI read a file, a huge
 * line in a copy source, and a server's logprobs in an undocumented shape. Each case here hung,
 * crashed or printed a stack trace before its fix.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { appendToLedger, readLedger } from '../../src/costs/ledger';
import { EngineClient } from '../../src/engine/worker/client';
import { DecoderModel } from '../../src/engine/runtime/decoder';
import { detectFimTemplate } from '../../src/engine/completion/fim';
import { buildFimPrompt } from '../../src/engine/completion/fimPrompt';
import { locateModelFiles } from '../../src/engine/runtime/modelFolder';
import { TextTokenizer } from '../../src/engine/runtime/tokenizer';
import { cappedExplain } from '../../src/remote/cappedExplain';
import { createServer } from '../../src/remote/index';
import { FakeModelServer, sse } from './fakeModelServer';
import { copyModel, ROOT, TEST_MODEL } from './helpers';

const posix = process.platform !== 'win32';
const CLI = path.join(ROOT, 'bin', 'glassbox.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-probe-'));

describe('probe findings', () => {
  for (const file of ['config.json', 'tokenizer.json'])
    it(
      `a model folder whose ${file} is a FIFO or /dev/zero is refused at once`,
      { skip: !posix, timeout: 30_000 },
      async () => {
        for (const kind of ['fifo', 'zero']) {
          const dir = copyModel(TEST_MODEL);
          fs.rmSync(path.join(dir, file));
          if (kind === 'fifo') execFileSync('mkfifo', [path.join(dir, file)]);
          else fs.symlinkSync('/dev/zero', path.join(dir, file));
          await assert.rejects(DecoderModel.load(dir), /not a regular file/, `${file} as ${kind}`);
        }
      },
    );

  it(
    'a ledger that is a FIFO or /dev/zero is an error, not a hang or a 10 GB read',
    { skip: !posix, timeout: 30_000 },
    async () => {
      const dir = tmp();
      execFileSync('mkfifo', [path.join(dir, 'fifo.jsonl')]);
      fs.symlinkSync('/dev/zero', path.join(dir, 'zero.jsonl'));
      for (const f of ['fifo.jsonl', 'zero.jsonl']) {
        await assert.rejects(readLedger(path.join(dir, f)), /not a regular file/);
        await assert.rejects(appendToLedger(path.join(dir, f), [], [{ id: 'a', time: 1 }]), /not a regular file/);
      }
    },
  );

  it('the CLI reads a FIFO its writer opens late', { skip: !posix, timeout: 60_000 }, async () => {
    const late = path.join(tmp(), 'late.py');
    execFileSync('mkfifo', [late]);
    const child = spawn(process.execPath, [CLI, 'tokenize', '--text-file', late], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(late, 'x = 1\n'); // opens for writing, writes, closes
    assert.equal(await new Promise((r) => child.once('exit', r)), 0);
    assert.match(out, /\d/, 'the text was tokenized');
  });

  it('the CLI reads a FIFO nobody writes to as empty, without waiting', { skip: !posix, timeout: 60_000 }, () => {
    const fifo = path.join(tmp(), 'f.py');
    execFileSync('mkfifo', [fifo]);
    const r = spawnSync(process.execPath, [CLI, 'tokenize', '--text-file', fifo], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.signal, null, 'it ended by itself');
    assert.equal(r.status, 0, r.stderr);
  });

  it('a copy source with a 200,000-character line completes (it overflowed the stack)', { timeout: 60_000 }, () => {
    const file = path.join(tmp(), 'cjk.py');
    fs.writeFileSync(file, `result_value = compute("${'\u3042'.repeat(200_000)}")\nresult_value = comp`);
    const r = spawnSync(
      process.execPath,
      [CLI, 'complete', '--file', file, '--line', '2', '--column', '20', '--no-workspace'],
      {
        encoding: 'utf8',
        timeout: 50_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /RangeError|call stack/);
  });

  it('special-token text in code stays text: a file cannot end the document or move the FIM parts', () => {
    const dir = path.join(ROOT, 'models', 'glassbox-code');
    const tok = TextTokenizer.load(locateModelFiles(dir));
    const code = 'END = "<|endoftext|>"\nMID = "<|fim_middle|>"\n';
    assert.ok(
      tok.encode(code).some((id) => tok.specialIds.has(id)),
      'plain encode() maps them to their ids',
    );
    const ids = tok.encodeText(code);
    assert.ok(!ids.some((id) => tok.specialIds.has(id)));
    assert.equal(tok.decode(ids), code);
    const fim = detectFimTemplate(tok);
    const prompt = buildFimPrompt(tok, fim, { prefix: code, suffix: code, budgetTokens: 512 });
    const structural = buildFimPrompt(tok, fim, { prefix: 'x', suffix: 'y', budgetTokens: 512 });
    const count = (p: number[]) => p.filter((id) => tok.specialIds.has(id)).length;
    assert.equal(count(prompt.ids), count(structural.ids), 'only the prompt format’s own special tokens');
  });

  it('a ledger entry without an id or model is written as one the reader keeps (the ledger was moved aside)', async () => {
    const file = path.join(tmp(), 'usage-ledger.jsonl');
    const entry = {
      time: 1,
      kind: 'completion' as const,
      promptTokens: 1,
      reusedTokens: 0,
      generatedTokens: 1,
      prefillMs: 1,
      decodeMs: 1,
      latencyMs: 1,
      prompt: { chars: 1 },
      output: { chars: 1 },
      shown: true,
      accepted: false,
    };
    await appendToLedger(file, [
      { ...entry, id: 'ok', model: 'm' },
      { ...entry, id: undefined as unknown as string, model: undefined as unknown as string },
    ]);
    const { entries, recovered } = await readLedger(file);
    assert.equal(recovered, undefined);
    assert.equal(entries.length, 2);
  });

  it(
    'a request for a method the worker lacks is answered with an error, not left waiting',
    { timeout: 30_000 },
    async () => {
      const client = new EngineClient();
      try {
        await assert.rejects(client.call('rm -rf' as 'info', {} as never), /no method "rm -rf"/);
      } finally {
        await client.dispose();
      }
    },
  );

  it(
    'Explain on a server that ignores max_tokens reads the tokens asked for, then closes the stream',
    { timeout: 30_000 },
    async () => {
      const srv = new FakeModelServer();
      await srv.start();
      let sent = 0;
      try {
        srv.route('POST /v1/chat/completions', (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const timer = setInterval(() => {
            for (let i = 0; i < 20 && !res.destroyed; i++, sent++)
              res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'go ' } }] })}\n\n`);
            if (res.destroyed || sent > 100_000) clearInterval(timer);
          }, 1);
          res.on('close', () => clearInterval(timer));
        });
        const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'm' });
        const r = await cappedExplain(server, { code: 'x = 1', maxTokens: 5 });
        assert.equal(r.tokens.length, 5);
        assert.equal(r.stopReason, 'length');
        assert.ok(sent < 100_000, 'the stream was closed');
      } finally {
        await srv.stop();
      }
    },
  );

  it("a server's logprobs in another shape are ignored, not a TypeError", async () => {
    const srv = new FakeModelServer();
    await srv.start();
    try {
      srv.route('POST /v1/completions', (_req, res) =>
        sse(res, [
          {
            choices: [
              { index: 0, text: 'a + b', logprobs: { tokens: 'a + b', token_logprobs: 'x' }, finish_reason: 'stop' },
            ],
          },
        ]),
      );
      srv.route('POST /v1/chat/completions', (_req, res) =>
        sse(res, [
          {
            choices: [{ index: 0, delta: { content: 'Adds.' }, logprobs: { content: 'nope' }, finish_reason: 'stop' }],
          },
        ]),
      );
      const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'm' });
      assert.equal((await server.complete({ prefix: 'return ', suffix: '\n', maxTokens: 8 })).text, 'a + b');
      assert.equal((await server.explain({ code: 'a + b', maxTokens: 8 })).text, 'Adds.');
    } finally {
      await srv.stop();
    }
  });
});
