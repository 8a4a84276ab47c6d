// The model-server clients against a real server, when one is named:
//   GLASSBOX_TEST_BACKEND=ollama GLASSBOX_TEST_ENDPOINT=http://127.0.0.1:11434 GLASSBOX_TEST_MODEL=qwen2.5-coder:1.5b \
//     node --test out/test/unit/remoteContract.test.js
// (and GLASSBOX_API_KEY when the server wants one). Skipped otherwise: CI has no model server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKEND_KINDS, type BackendKind } from '../../src/remote/endpoint';
import { createServer } from '../../src/remote/index';
import { remoteComplete } from '../../src/remote/remoteCompletion';

const backend = process.env.GLASSBOX_TEST_BACKEND as BackendKind | undefined;
const endpoint = process.env.GLASSBOX_TEST_ENDPOINT;
const skip =
  !backend || !endpoint
    ? 'set GLASSBOX_TEST_BACKEND and GLASSBOX_TEST_ENDPOINT to run against a real model server'
    : !BACKEND_KINDS.includes(backend) && `GLASSBOX_TEST_BACKEND must be one of ${BACKEND_KINDS.join(', ')}`;

describe(`a real model server (${backend ?? 'none'})`, { skip, timeout: 300_000 }, () => {
  const server = () =>
    createServer({
      kind: backend!,
      endpoint,
      model: process.env.GLASSBOX_TEST_MODEL,
      apiKey: process.env.GLASSBOX_API_KEY,
      timeoutMs: 120_000,
    });

  it('lists models and tells about the one it serves', async () => {
    const s = server();
    assert.ok((await s.models()).length > 0);
    assert.ok((await s.info()).name.length > 0);
  });

  it('fills in the middle of a function, one line, in the shape the editor shows', async () => {
    const r = await remoteComplete(server(), {
      prefix: 'def fibonacci(n):\n    if n < 2:\n        return n\n    return ',
      suffix: '\n\nprint(fibonacci(10))\n',
      maxNewTokens: 32,
    });
    assert.ok(r.text.length > 0, 'a suggestion');
    assert.ok(!r.text.includes('\n'), `one line: ${JSON.stringify(r.text)}`);
  });

  it('streams an explanation', async () => {
    const pieces: string[] = [];
    const r = await server().explain(
      { code: 'def add(a, b):\n    return a + b\n', language: 'python', maxTokens: 64 },
      { onToken: (t) => pieces.push(t.text) },
    );
    assert.ok(pieces.length > 1, 'streamed in pieces');
    assert.equal(pieces.join(''), r.text);
  });
});
