import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const BIN = path.join(ROOT, 'bin', 'glassbox.js');

function glassbox(...args: string[]) {
  return glassboxWith(undefined, ...args);
}

function glassboxWith(input: string | undefined, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
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
    for (const k of ['load_ms', 'prefill_ms', 'decode_ms', 'prompt_tokens', 'generated_tokens'])
      assert.equal(typeof out.timings[k], 'number', k);
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
    assert.match(t.tokens.join(''), /\\xF0\\x9F/, "the emoji's bytes are shown in hex");
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
    assert.match(
      glassbox('complete', '--file', sample, '--line', '99', '--column', '1').stderr,
      /Line 99 is outside the file/,
    );
    const m = glassbox('tokenize', '--text', 'x', '--model', '/nonexistent/model');
    assert.equal(m.code, 1);
    assert.match(m.stderr, /Model folder not found/);
    const u = glassbox('complete', '--line', '1');
    assert.equal(u.code, 2);
    assert.match(u.stderr, /--file is required/);
  });

  it('--model-file picks the .onnx in the folder; --threads takes a whole number; bad values are named as flags', () => {
    const info = (...a: string[]) =>
      glassbox('info', '--model', path.join(ROOT, 'models', 'glassbox-code'), '--json', ...a);
    const fp32 = info('--model-file', 'onnx/model.onnx', '--threads', '1');
    assert.equal(fp32.code, 0, fp32.stderr);
    assert.match(JSON.parse(fp32.stdout).onnxPath, /onnx[\\/]model\.onnx$/);
    const q4 = info('--model-file', 'onnx/model_q4.onnx');
    assert.match(JSON.parse(q4.stdout).onnxPath, /onnx[\\/]model_q4\.onnx$/);
    const missing = info('--model-file', 'onnx/nope.onnx');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Model file not found.*--model-file/);
    assert.doesNotMatch(missing.stderr, /glassbox\.modelFile/);
    assert.match(info('--model-file', ' ').stderr, /--model-file is empty/);
    assert.match(info('--threads', 'two').stderr, /--threads must be a whole number/);
  });

  it('complete --file - reads the document from stdin; a missing --workspace folder is a clear error', () => {
    const r = glassboxWith(
      'def add(a, b):\n    return a',
      'complete',
      '--file',
      '-',
      '--line',
      '2',
      '--column',
      '13',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).context.path, 'stdin');
    const w = glassbox('complete', '--file', sample, '--line', '2', '--column', '5', '--workspace', '/nonexistent/ws');
    assert.equal(w.code, 1);
    assert.match(w.stderr, /workspace folder \/nonexistent\/ws does not exist/);
    assert.doesNotMatch(w.stderr, /\n\s+at /, 'no stack trace');
  });

  it('an empty --temperature or --min-confidence is refused, not taken as 0; --max-tokens is named as such', () => {
    const t = glassbox('generate', '--prompt', 'x', '--temperature=');
    assert.equal(t.code, 2);
    assert.match(t.stderr, /--temperature must be a number/);
    const m = glassbox('complete', '--file', sample, '--line', '2', '--column', '5', '--min-confidence=');
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--min-confidence must be a number/);
    const big = glassbox('complete', '--file', sample, '--line', '2', '--column', '5', '--max-tokens', '100000');
    assert.match(big.stderr, /--max-tokens 100000 leaves no room/);
  });

  it('--line and --column take digits only (0x3, 1e1 and an empty value are refused)', () => {
    for (const bad of ['0x3', '1e1', '']) {
      const r = glassbox('complete', '--file', sample, `--line=${bad}`, '--column', '1');
      assert.equal(r.code, 2, `--line=${bad}`);
      assert.match(r.stderr, /--line must be a whole number/);
    }
  });

  it('a ~30,000-character argument gets a clear error, not a crash; the same text on stdin works', () => {
    // onnxruntime-node 1.30 segfaults creating a session when the command line is ~29,000 bytes
    const long = 'x = 1 '.repeat(5000);
    const r = glassbox('tokenize', '--text', long, '--json');
    assert.equal(r.signal, null, `killed by ${r.signal}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /command line is \d+ bytes.*stdin/s);
    const ok = glassboxWith(long, 'tokenize', '--text-file', '-', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((JSON.parse(ok.stdout) as { ids: number[] }).ids.length > 1000);
  });

  it('a FIFO cannot get past the 16 MB limit', { skip: process.platform === 'win32' && 'no mkfifo' }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-cli-'));
    const fifo = path.join(dir, 'pipe');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return;
    // a writer that would send 17 MB; the reader must stop at the cap
    const writer = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');const b=Buffer.alloc(1<<20,97);const fd=fs.openSync(${JSON.stringify(fifo)},'w');try{for(let i=0;i<17;i++)fs.writeSync(fd,b)}catch{}`,
    ]);
    const r = glassbox('tokenize', '--text-file', fifo);
    writer.kill();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /more than 16 MB/);
  });

  it('refuses a temperature that is not a number ≥ 0, an empty --model and an --end past the file', () => {
    for (const t of ['NaN', '-1', 'warm']) {
      const r = glassbox('generate', '--prompt', 'x = ', `--temperature=${t}`);
      assert.equal(r.code, 2, t);
      assert.match(r.stderr, /--temperature must be a number ≥ 0/);
    }
    const m = glassbox('tokenize', '--text', 'x', '--model', '');
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--model is empty/);
    const e = glassbox('explain', '--file', sample, '--start', '1', '--end', '99');
    assert.equal(e.code, 2);
    assert.match(e.stderr, /within 1\.\.\d+/);
  });
});
