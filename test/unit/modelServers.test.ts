// The model-server clients against real HTTP servers on 127.0.0.1 that answer as each server's
// documentation describes (serverFixtures.ts): what each client sends, how it reads streams, the
// fall-back to a raw FIM prompt, and every fault a user can meet, each with one clear message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { checkHeaders, keyInTheClear, parseEndpoint } from '../../src/remote/endpoint';
import { serverFor } from '../../src/cli/remote';
import { RemoteError } from '../../src/remote/errors';
import { createServer } from '../../src/remote/index';
import { watchModels } from '../../src/remote/modelWatch';
import { remoteComplete } from '../../src/remote/remoteCompletion';
import { retryAfterSeconds } from '../../src/remote/transport';
import { FakeModelServer, json, ndjson, sse } from './fakeModelServer';
import { ROOT } from './helpers';
import * as fx from './serverFixtures';

const REQ = { prefix: 'function add(a, b) {\n  return ', suffix: '\n}\n', maxTokens: 16 };

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<RemoteError> {
  try {
    await p;
  } catch (err) {
    if ((err as { code?: string }).code !== code) throw err;
    if (pattern) assert.match((err as Error).message, pattern);
    return err as RemoteError;
  }
  assert.fail(`expected ${code}`);
}

describe('OpenAI-compatible server', () => {
  let srv: FakeModelServer;
  beforeEach(async () => {
    srv = new FakeModelServer();
    await srv.start();
  });
  afterEach(() => srv?.stop());

  it('streams a completion asked for with prompt and suffix, with log-probabilities and usage', async () => {
    srv.route('POST /v1/completions', (_req, res) => sse(res, fx.openaiCompletionChunks('Qwen/Qwen2.5-Coder-7B')));
    const server = createServer({
      kind: 'openai',
      endpoint: `${srv.url}/v1/`,
      model: 'Qwen/Qwen2.5-Coder-7B',
      apiKey: 'sk-test',
    });
    const streamed: string[] = [];
    const r = await server.complete(REQ, { onToken: (t) => streamed.push(t.text) });
    const sent = srv.seen[0];
    assert.equal(sent.body.prompt, REQ.prefix);
    assert.equal(sent.body.suffix, REQ.suffix);
    assert.equal(sent.body.stream, true);
    assert.equal(sent.body.max_tokens, 16);
    assert.equal(sent.headers.authorization, 'Bearer sk-test');
    assert.equal(r.text, 'a + b;');
    assert.deepEqual(streamed, ['a', ' +', ' b', ';']);
    assert.deepEqual(
      r.tokens.map((t) => t.logprob),
      [-0.1, -0.2, -0.05, undefined],
    );
    assert.deepEqual(r.usage, { promptTokens: 12, completionTokens: 4 });
    assert.equal(r.stopReason, 'stop');
    assert.equal(r.fim, 'suffix');
    assert.equal(r.model, 'Qwen/Qwen2.5-Coder-7B');
  });

  it('says once when the server starts answering with another model, and not while it keeps it', async () => {
    const answering = ['Qwen/Qwen2.5-Coder-7B', 'Qwen/Qwen2.5-Coder-7B', 'deepseek-coder-6.7b', 'deepseek-coder-6.7b'];
    let n = 0;
    srv.route('POST /v1/completions', (_req, res) => sse(res, fx.openaiCompletionChunks(answering[n++])));
    const changes: [string, string][] = [];
    const server = watchModels(
      createServer({ kind: 'openai', endpoint: srv.url, model: 'Qwen/Qwen2.5-Coder-7B' }),
      (now, before) => changes.push([now, before]),
    );
    for (let i = 0; i < answering.length; i++) await server.complete(REQ);
    assert.deepEqual(changes, [['deepseek-coder-6.7b', 'Qwen/Qwen2.5-Coder-7B']]);
    assert.equal(server.host, new URL(srv.url).host);
  });

  it("falls back to the model's raw FIM prompt when the server refuses suffix (vLLM), and stays there", async () => {
    srv.route('POST /v1/completions', (req, res) =>
      req.body.suffix !== undefined ? json(res, 400, fx.vllmSuffixRefusal) : sse(res, fx.openaiCompletionChunks('q')),
    );
    const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'Qwen/Qwen2.5-Coder-7B' });
    const r = await server.complete(REQ);
    assert.equal(r.fim, 'raw');
    assert.equal(r.text, 'a + b;');
    assert.equal(srv.seen.length, 2);
    assert.equal(srv.seen[1].body.prompt, `<|fim_prefix|>${REQ.prefix}<|fim_suffix|>${REQ.suffix}<|fim_middle|>`);
    assert.ok((srv.seen[1].body.stop as string[]).includes('<|endoftext|>'));
    await server.complete(REQ);
    assert.equal(srv.seen.length, 3, 'the next completion goes straight to the raw prompt');
  });

  it('says which setting to set when the model has no known FIM tokens', async () => {
    srv.route('POST /v1/completions', (_req, res) => json(res, 400, fx.vllmSuffixRefusal));
    const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'mistral-7b' });
    await rejectsWith(server.complete(REQ), 'NO_FIM', /glassbox\.remote\.fimTemplate/);
  });

  it('streams Explain from chat completions, and lists the models', async () => {
    srv.route('POST /v1/chat/completions', (_req, res) =>
      sse(res, fx.openaiChatChunks('Qwen/Qwen2.5-Coder-7B-Instruct')),
    );
    srv.route('GET /v1/models', (_req, res) => json(res, 200, fx.openaiModels));
    const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'Qwen/Qwen2.5-Coder-7B-Instruct' });
    const r = await server.explain({ code: 'const add = (a, b) => a + b;', language: 'javascript', maxTokens: 64 });
    assert.equal(r.text, 'Adds two numbers.');
    assert.ok(
      r.tokens.every((t) => t.logprob === undefined),
      'no log-probabilities: none are made up',
    );
    const msg = (srv.seen[0].body.messages as { content: string }[])[0].content;
    assert.match(msg, /const add = \(a, b\) => a \+ b;/);
    assert.deepEqual(r.usage, { promptTokens: 30, completionTokens: 3 });
    assert.deepEqual(await server.models(), ['Qwen/Qwen2.5-Coder-7B', 'Qwen/Qwen2.5-Coder-7B-Instruct']);
  });
});

describe("llama.cpp's server", () => {
  let srv: FakeModelServer;
  before(async () => {
    srv = new FakeModelServer();
    srv.route('POST /infill', (_req, res) => sse(res, fx.llamacppInfillEvents, false));
    srv.route('GET /props', (_req, res) => json(res, 200, fx.llamacppProps));
    await srv.start();
  });
  after(() => srv.stop());

  it('fills in the middle with /infill, repository snippets as input_extra, the prompt cache kept', async () => {
    const server = createServer({ kind: 'llamacpp', endpoint: srv.url });
    const r = await server.complete({ ...REQ, snippets: [{ path: 'src/util.ts', text: 'export const sum = 1;' }] });
    const body = srv.seen[0].body;
    assert.equal(body.input_prefix, REQ.prefix);
    assert.equal(body.input_suffix, REQ.suffix);
    assert.deepEqual(body.input_extra, [{ filename: 'src/util.ts', text: 'export const sum = 1;' }]);
    assert.equal(body.cache_prompt, true);
    assert.equal(body.n_predict, 16);
    assert.equal(r.text, 'a + b');
    assert.deepEqual(
      r.tokens.map((t) => t.logprob),
      [-0.3, -0.01],
    );
    assert.deepEqual(r.usage, { promptTokens: 41, completionTokens: 2 });
    assert.equal(r.model, 'qwen2.5-coder-1.5b-q8_0.gguf');
    assert.equal(r.fim, 'infill');
  });

  it('names the model and its context from /props', async () => {
    const info = await createServer({ kind: 'llamacpp', endpoint: srv.url }).info();
    assert.equal(info.name, 'qwen2.5-coder-1.5b-q8_0.gguf');
    assert.deepEqual(info.facts[0], ['Context per slot', '8192 tokens']);
  });
});

describe('Ollama', () => {
  let srv: FakeModelServer;
  beforeEach(async () => {
    srv = new FakeModelServer();
    srv.route('GET /api/tags', (_req, res) => json(res, 200, fx.ollamaTags));
    srv.route('POST /api/show', (_req, res) => json(res, 200, fx.ollamaShow));
    srv.route('POST /api/chat', (req, res) => ndjson(res, fx.ollamaChatLines(String(req.body.model))));
    await srv.start();
  });
  afterEach(() => srv?.stop());

  it('generates with suffix and keep_alive, reading the NDJSON stream and its counts', async () => {
    srv.route('POST /api/generate', (req, res) => ndjson(res, fx.ollamaGenerateLines(String(req.body.model))));
    const server = createServer({ kind: 'ollama', endpoint: srv.url, model: 'qwen2.5-coder:1.5b' });
    const r = await server.complete(REQ);
    const body = srv.seen[0].body;
    assert.equal(body.prompt, REQ.prefix);
    assert.equal(body.suffix, REQ.suffix);
    assert.equal(body.keep_alive, '30m');
    assert.equal((body.options as { num_predict: number }).num_predict, 16);
    assert.equal(r.text, 'a + b');
    assert.deepEqual(r.usage, { promptTokens: 26, completionTokens: 2 });
    assert.equal(r.fim, 'suffix');
  });

  it("uses raw mode with the model's FIM tokens when its template has no insert", async () => {
    srv.route('POST /api/generate', (req, res) =>
      req.body.raw
        ? ndjson(res, fx.ollamaGenerateLines('codellama:7b-code'))
        : json(res, 400, fx.ollamaNoInsert('codellama:7b-code')),
    );
    const r = await createServer({ kind: 'ollama', endpoint: srv.url, model: 'codellama:7b-code' }).complete(REQ);
    assert.equal(r.fim, 'raw');
    assert.equal(srv.seen[1].body.prompt, `<PRE> ${REQ.prefix} <SUF>${REQ.suffix} <MID>`);
  });

  it('explains through /api/chat, lists /api/tags, and reads the architecture from /api/show', async () => {
    const server = createServer({ kind: 'ollama', endpoint: srv.url, model: 'qwen2.5-coder:1.5b' });
    assert.equal((await server.explain({ code: 'x = 1', maxTokens: 32 })).text, 'Adds two numbers.');
    assert.deepEqual(await server.models(), ['qwen2.5-coder:1.5b', 'llama3.2:latest']);
    const info = await server.info();
    const facts = Object.fromEntries(info.facts);
    assert.equal(facts.Layers, '28');
    assert.equal(facts['KV heads'], '2');
    assert.equal(facts.Quantization, 'Q4_K_M');
    assert.equal(info.fim, true);
  });

  it('asks for a model name instead of sending a request without one', async () => {
    await rejectsWith(
      createServer({ kind: 'ollama', endpoint: srv.url }).complete(REQ),
      'NOT_FOUND',
      /glassbox\.remote\.model/,
    );
    assert.equal(srv.seen.length, 0);
  });
});

describe('model servers: faults', () => {
  let srv: FakeModelServer;
  beforeEach(async () => {
    srv = new FakeModelServer();
    await srv.start();
  });
  afterEach(() => srv?.stop());
  const openai = (extra = {}) => createServer({ kind: 'openai', endpoint: srv.url, model: 'm', ...extra });

  it('connection refused: says the server is not reachable and what to check', async () => {
    const url = srv.url;
    await srv.stop();
    const e = await rejectsWith(
      createServer({ kind: 'openai', endpoint: url }).complete(REQ),
      'UNREACHABLE',
      /ECONNREFUSED/,
    );
    assert.match(e.message, /glassbox\.endpoint/);
  });

  it('401 and 403 name the API key command; 404 names the model setting', async () => {
    srv.route('POST /v1/completions', (_req, res) => json(res, 401, { error: { message: 'Invalid API key' } }));
    srv.route('POST /v1/chat/completions', (_req, res) => json(res, 403, { error: 'forbidden' }));
    await rejectsWith(openai().complete(REQ), 'UNAUTHORIZED', /Invalid API key.*Set API Key/s);
    await rejectsWith(openai().explain({ code: 'x', maxTokens: 4 }), 'UNAUTHORIZED', /HTTP 403/);
    await rejectsWith(openai().models(), 'NOT_FOUND', /glassbox\.remote\.model/);
  });

  it('429 carries the Retry-After seconds; 500 carries the server message', async () => {
    srv.route('POST /v1/completions', (_req, res) => json(res, 429, { error: 'slow down' }, { 'retry-after': '7' }));
    srv.route('POST /v1/chat/completions', (_req, res) => json(res, 500, { error: { message: 'CUDA out of memory' } }));
    const e = await rejectsWith(openai().complete(REQ), 'RATE_LIMITED', /waits 7 s/);
    assert.equal(e.retryAfterS, 7);
    await rejectsWith(openai().explain({ code: 'x', maxTokens: 4 }), 'SERVER_ERROR', /CUDA out of memory/);
    assert.equal(retryAfterSeconds('Wed, 02 Dec 2026 10:00:30 GMT', Date.parse('Wed, 02 Dec 2026 10:00:00 GMT')), 30);
  });

  it('an answer that is not a stream: plain JSON is read whole; text/plain, gzip and a stream without its end are errors', async () => {
    srv.route('POST /v1/completions', (_req, res) =>
      json(res, 200, { choices: [{ index: 0, text: 'a + b;', finish_reason: 'stop' }] }),
    );
    assert.equal((await openai().complete(REQ)).text, 'a + b;', 'a server that ignored stream: true');
    srv.route('POST /v1/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('a + b');
    });
    await rejectsWith(openai().complete(REQ), 'BAD_RESPONSE', /text\/plain/);
    srv.route('POST /v1/completions', (_req, res) => {
      const gzip = { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' };
      res.writeHead(200, gzip).end(Buffer.from([31, 139, 8]));
    });
    await rejectsWith(openai().complete(REQ), 'BAD_RESPONSE', /gzip-compressed/);
    srv.route('POST /v1/completions', (_req, res) => sse(res, [{ choices: [{ index: 0, text: 'a + ' }] }], false));
    await rejectsWith(openai().complete(REQ), 'BAD_RESPONSE', /ended before the server said it was done/);
  });

  it('a server that trickles past the deadline is a TIMEOUT, not "cancelled"', async () => {
    srv.route('POST /v1/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(
        () => res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: 'x' }] })}\n\n`),
        50,
      );
      res.on('close', () => clearInterval(timer));
    });
    await rejectsWith(openai({ timeoutMs: 1000 }).complete({ ...REQ, maxTokens: 100_000 }), 'TIMEOUT', /within 1 s/);
  });

  it('a Retry-After of 99999999999 s or a date in 9999 waits at most 10 minutes, and says so', async () => {
    for (const asked of ['99999999999', 'Fri, 31 Dec 9999 23:59:59 GMT']) {
      srv.route('POST /v1/completions', (_req, res) =>
        json(res, 429, { error: 'slow down' }, { 'retry-after': asked }),
      );
      const e = await rejectsWith(openai().complete(REQ), 'RATE_LIMITED', /at most 10 minutes/);
      assert.equal(e.retryAfterS, 600);
    }
  });

  it('a stream cut mid-token, malformed events, an HTML page and non-UTF-8 bytes are not the protocol', async () => {
    srv.route('POST /v1/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // cut once the half event is on its way (the write's callback), not after a guessed delay
      res.write('data: {"choices":[{"text":"a"}]}\n\ndata: {"choi', () => res.socket?.destroy());
    });
    await rejectsWith(openai().complete(REQ), 'BAD_RESPONSE', /broke|not JSON/);
    srv.route('POST /v1/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {not json}\n\n');
    });
    await rejectsWith(openai().complete(REQ), 'BAD_RESPONSE', /not JSON/);
    srv.route('POST /v1/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>');
    });
    await rejectsWith(openai().complete(REQ), 'BAD_RESPONSE', /web page.*glassbox\.endpoint/s);
    srv.route('GET /v1/models', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    });
    await rejectsWith(openai().models(), 'BAD_RESPONSE', /not JSON/);
  });

  it('a server that never answers times out', async () => {
    srv.route('POST /v1/completions', () => undefined); // holds the request open
    await rejectsWith(openai({ timeoutMs: 300 }).complete(REQ), 'TIMEOUT', /within 0\.3 s/);
  });

  // the timeout only turns a client that never closes (a hang) into a failure
  it('a 50 MB answer is cut at the cap and the connection closed', { timeout: 30_000 }, async () => {
    let closed: Promise<void> | undefined;
    srv.route('POST /v1/completions', async (_req, res) => {
      closed = closeOf(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = `data: ${JSON.stringify({ choices: [{ text: 'x'.repeat(64 * 1024) }] })}\n\n`;
      for (let sent = 0; sent < 50 * 1024 * 1024 && !res.destroyed; sent += chunk.length)
        if (!res.write(chunk)) await drainOrClose(res);
      res.end();
    });
    await rejectsWith(openai({ maxBytes: 1024 * 1024 }).complete(REQ), 'TOO_LARGE', /more than 1 MB/);
    await closed; // had the client read on, the server would have ended the answer: closedEarly false
    assert.equal(srv.seen[0].closedEarly, true, 'the server saw the client close');
  });

  // the timeout only turns a client that never closes (a hang) into a failure
  it('cancelling closes the socket: the server sees it', { timeout: 30_000 }, async () => {
    let closed: Promise<void> | undefined;
    srv.route('POST /v1/completions', (_req, res) => {
      closed = closeOf(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ text: 'a' }] })}\n\n`); // then nothing
    });
    const controller = new AbortController();
    const p = openai().complete(REQ, { signal: controller.signal, onToken: () => controller.abort() });
    await assert.rejects(p, (err: { code?: string }) => err.code === 'CANCELLED');
    await closed; // the answer never ends: only the client's close can end this wait
    assert.equal(srv.seen[0].closedEarly, true);
  });

  it('endpoints: a wrong scheme, credentials in the URL, an unset endpoint, a key with whitespace', () => {
    assert.throws(() => parseEndpoint('ftp://gpu:8000', 'openai'), /ftp: is not a model server's scheme/);
    assert.throws(() => parseEndpoint('http://me:pw@gpu:8000', 'openai'), /Set API Key/);
    // extra headers: a name with a space or a value with CR/LF is named and left out, not sent
    assert.deepEqual(checkHeaders({ 'X-Gate': 'ok', 'Bad Name': 'v', 'X-Inj': 'a\r\nb', 'X-Nul': 'a\0' }), {
      headers: { 'X-Gate': 'ok' },
      bad: ['Bad Name', 'X-Inj', 'X-Nul'],
    });
    assert.throws(() => parseEndpoint('  ', 'ollama'), /glassbox\.endpoint.*11434/);
    assert.equal(parseEndpoint(' http://gpu:8000/v1/ ', 'openai').href, 'http://gpu:8000/');
    assert.equal(parseEndpoint('https://gw.example/llm/v1', 'openai').href, 'https://gw.example/llm');
    assert.throws(
      () => createServer({ kind: 'openai', endpoint: srv.url, apiKey: 'sk-1 sk-2' }),
      /space or line break/,
    );
  });
});

/**
 * Resolves when the response's connection closes. FakeModelServer's own 'close' listener, added
 * before the handler runs, has set the request's closedEarly by then.
 */
function closeOf(res: import('node:http').ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()));
}

function drainOrClose(res: import('node:http').ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.once('drain', done).once('close', done);
  });
}

describe('glassbox CLI on a model server', () => {
  let srv: FakeModelServer;
  before(async () => {
    srv = new FakeModelServer();
    srv.route('POST /infill', (_req, res) => sse(res, fx.llamacppInfillEvents, false));
    await srv.start();
  });
  after(() => srv.stop());
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [path.join(ROOT, 'out', 'src', 'cli', 'main.js'), ...args], {
        env: { ...process.env, ...env },
        timeout: 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('completes at a line and column, with the key from GLASSBOX_API_KEY', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-remote-'));
    const file = path.join(dir, 'add.py');
    fs.writeFileSync(file, 'def add(a, b):\n    return \n');
    const r = await cli(
      ['complete', '--backend', 'llamacpp', '--endpoint', srv.url, '--file', file, '--line', '2', '--column', '12'],
      { GLASSBOX_API_KEY: 'k-123' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a + b\n');
    assert.equal(srv.seen[0].body.input_prefix, 'def add(a, b):\n    return ');
    assert.equal(srv.seen[0].headers.authorization, 'Bearer k-123');
  });

  it('a position outside the file with a server backend: one clear line, no stack trace, nothing sent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-remote-'));
    const file = path.join(dir, 'add.py');
    fs.writeFileSync(file, 'def add(a, b):\n    return \n');
    const seen = srv.seen.length;
    for (const [line, column, message] of [
      ['99', '1', /Line 99 is outside the file/],
      ['2', '0', /Column 0 is outside line 2/],
      ['2', '999', /Column 999 is outside line 2/],
    ] as const) {
      const r = await cli([
        'complete',
        '--backend',
        'llamacpp',
        '--endpoint',
        srv.url,
        '--file',
        file,
        '--line',
        line,
        '--column',
        column,
      ]);
      assert.equal(r.code, 1, `${line}:${column}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'no stack trace');
    }
    assert.equal(srv.seen.length, seen, 'nothing was sent');
  });

  it('a key for plain http to another machine is sent only with a warning on stderr', () => {
    const warnings: string[] = [];
    const env = { GLASSBOX_API_KEY: 'k' };
    serverFor({ backend: 'openai', endpoint: 'http://gpu.example:8000/v1', env, warn: (m) => warnings.push(m) });
    serverFor({ backend: 'openai', endpoint: 'https://gpu.example/v1', env, warn: (m) => warnings.push(m) });
    serverFor({ backend: 'openai', endpoint: 'http://127.0.0.1:8000/v1', env, warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /unencrypted/);
    assert.equal(keyInTheClear(new URL('http://10.0.0.5:8080')), true);
    assert.equal(keyInTheClear(new URL('http://localhost:8080')), false);
  });

  it('a server that is not there: exit code 1 and one line that says what to check', async () => {
    const r = await cli(['info', '--backend', 'ollama', '--endpoint', 'http://127.0.0.1:9', '--remote-model', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^glassbox: Cannot reach 127\.0\.0\.1:9 .*--endpoint/);
    assert.doesNotMatch(
      r.stderr,
      /glassbox\.endpoint|\(http\.proxy\)/,
      'CLI flags and variables, not VS Code settings',
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, 'no stack trace');
  });
});

describe('completions from a model server, shaped like the embedded engine', () => {
  let srv: FakeModelServer;
  beforeEach(async () => {
    srv = new FakeModelServer();
    await srv.start();
  });
  afterEach(() => srv.stop());
  const chunk = (text: string, logprob: number) => ({
    choices: [{ index: 0, text, logprobs: { tokens: [text], token_logprobs: [logprob] }, finish_reason: null }],
  });

  // the timeout only turns a client that never closes (a hang) into a failure
  it('ends at the line and closes the request there, so the server stops generating', { timeout: 30_000 }, async () => {
    let closed: Promise<void> | undefined;
    srv.route('POST /v1/completions', (_req, res) => {
      closed = closeOf(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of [chunk('a + b', -0.1), chunk(';\n', -0.1), chunk('}\n\nfunction', -0.1)])
        res.write(`data: ${JSON.stringify(c)}\n\n`);
      // and then it would go on generating
    });
    const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'm' });
    const r = await remoteComplete(server, {
      prefix: 'function add(a, b) {\n  return ',
      suffix: '\n}',
      maxNewTokens: 64,
    });
    assert.equal(r.text, 'a + b;');
    await closed; // the stream never ends: only the client's close can end this wait
    assert.equal(srv.seen[0].closedEarly, true, 'the request was closed once the line was complete');
  });

  it('a server that ignores max_tokens and streams one endless line is cut off after maxNewTokens tokens', async () => {
    let sent = 0;
    srv.route('POST /v1/completions', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => {
        for (let i = 0; i < 50 && !res.destroyed; i++, sent++)
          res.write(`data: ${JSON.stringify(chunk('x+', -0.1))}\n\n`);
        if (res.destroyed || sent > 200_000) {
          clearInterval(timer);
          res.end();
        }
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'm' });
    const r = await remoteComplete(server, { prefix: 'const y = ', suffix: '\n', maxNewTokens: 32 });
    assert.equal(r.stopReason, 'max_tokens');
    assert.ok(r.text.length <= 32 * 2, `at most the tokens asked for: ${r.text.length} characters`);
    assert.ok(sent < 200_000, 'the request was closed, not read to the end');
  });

  it("hides an unsure suggestion by the server's log-probabilities, and shows one without them", async () => {
    srv.route('POST /v1/completions', (_req, res) => sse(res, [chunk('x', -0.05), chunk(' * 42', -3)]));
    const server = createServer({ kind: 'openai', endpoint: srv.url, model: 'm' });
    const req = { prefix: 'const y = ', suffix: '\n', maxNewTokens: 8, minConfidence: 0.2 };
    const unsure = await remoteComplete(server, req);
    assert.equal(unsure.text, '');
    assert.deepEqual(unsure.hidden, { reason: 'confidence', text: 'x * 42' });
    srv.route('POST /v1/completions', (_req, res) => sse(res, [{ choices: [{ index: 0, text: 'x * 42' }] }]));
    const plain = await remoteComplete(server, req);
    assert.equal(plain.text, 'x * 42', 'no log-probabilities: no figure to gate on, none made up');
  });
});
