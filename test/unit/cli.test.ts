import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const BIN = path.join(ROOT, 'bin', 'glassbox.js');

function glassbox(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmpFile(name: string, content: string | Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-cli-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('glassbox CLI (bundled)', () => {
  const sample = tmpFile('sample.py', 'def add(a, b):\n    return \n\nprint(add(1, 2))\n');

  it('complete --json prints one object with text, tokens, logprobs and timings', () => {
    const r = glassbox('complete', '--file', sample, '--line', '2', '--column', '12', '--max-tokens', '6', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(typeof out.text, 'string');
    assert.ok(Array.isArray(out.tokens) && out.tokens.length > 0);
    assert.equal(out.logprobs.length, out.tokens.length);
    for (const k of ['load_ms', 'prefill_ms', 'decode_ms', 'prompt_tokens', 'generated_tokens']) assert.equal(typeof out.timings[k], 'number', k);
    assert.equal(out.timings.generated_tokens, out.tokens.length);
  });

  it('generate --greedy is deterministic, with and without the cache', () => {
    const a = glassbox('generate', '--prompt', 'import os\n', '--greedy', '--max-tokens', '8', '--json');
    const b = glassbox('generate', '--prompt', 'import os\n', '--greedy', '--no-cache', '--max-tokens', '8', '--json');
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(JSON.parse(a.stdout).tokens, JSON.parse(b.stdout).tokens);
  });

  it('tokenize --json', () => {
    const r = glassbox('tokenize', '--text', 'hello 🎉', '--json');
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.tokens.length, t.ids.length);
    // Whatever the embedded model's merges, "hello " is whole tokens and the emoji is raw bytes.
    assert.ok(t.tokens.join('').startsWith('hello '), 'whole tokens read as text');
    assert.match(t.tokens.join(''), /\\xF0\\x9F/, 'the emoji\'s bytes are shown in hex');
  });

  it('explain streams an explanation of a line range', () => {
    const r = glassbox('explain', '--file', sample, '--start', '1', '--end', '2', '--max-tokens', '8');
    assert.equal(r.code, 0, r.stderr);
  });

  it('a binary file gets a clear error and a non-zero exit', () => {
    const bin = tmpFile('blob.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    const r = glassbox('complete', '--file', bin, '--line', '1', '--column', '1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /looks binary/);
    assert.equal(r.stdout, '');
  });

  it('a non-UTF-8 file gets a clear error', () => {
    const latin1 = tmpFile('latin1.py', Buffer.from('# caf\xe9\n', 'latin1'));
    const r = glassbox('explain', '--file', latin1);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not valid UTF-8/);
  });

  it('a position outside the file, a missing model and bad usage', () => {
    assert.match(glassbox('complete', '--file', sample, '--line', '99', '--column', '1').stderr, /Line 99 is outside the file/);
    const m = glassbox('tokenize', '--text', 'x', '--model', '/nonexistent/model');
    assert.equal(m.code, 1);
    assert.match(m.stderr, /Model folder not found/);
    const u = glassbox('complete', '--line', '1');
    assert.equal(u.code, 2);
    assert.match(u.stderr, /--file is required/);
  });
});
