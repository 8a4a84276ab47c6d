// A plain `vsce ls` (what `vsce publish`, `ovsx publish` and a universal `vsce package` read) lists
// the embedded model's default variant (issue 31, item 1): .vscodeignore names it itself, so no
// package can ship without the model. It leaves out what only a clone needs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const VSCE = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');

/** The file the embedded model's config.json picks (transformers.js_config.dtype), as the engine does. */
function defaultVariant(): string {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'glassbox-code', 'config.json'), 'utf8')) as {
    'transformers.js_config'?: { dtype?: string };
  };
  const dtype = config['transformers.js_config']?.dtype ?? 'fp32';
  const suffix = { fp32: '', q8: '_quantized', int8: '_quantized', q4: '_q4', fp16: '_fp16' }[dtype];
  assert.ok(suffix !== undefined, `unknown dtype ${dtype} in models/glassbox-code/config.json`);
  return `models/glassbox-code/onnx/model${suffix}.onnx`;
}

function vsceLs(): string[] | string {
  if (!fs.existsSync(VSCE)) return 'node_modules/@vscode/vsce is not installed (npm install)';
  try {
    return execFileSync(process.execPath, [VSCE, 'ls'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .split('\n')
      .filter(Boolean);
  } catch (err) {
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') return `vsce could not start: ${String(err)}`;
    throw err; // vsce ran and refused the manifest or .vscodeignore: that is a failure
  }
}

describe('vsce ls', () => {
  const files = vsceLs();

  it('lists the default model variant, and only it, with no extra flags', (t) => {
    if (typeof files === 'string') return t.skip(files);
    const variants = files.filter((f) => f.startsWith('models/glassbox-code/onnx/'));
    assert.deepEqual(variants, [defaultVariant()]);
    for (const f of ['package.json', 'package.nls.json', 'dist/extension.js', 'models/glassbox-code/config.json'])
      assert.ok(files.includes(f), `${f} is listed`);
  });

  it('leaves out CONTRIBUTING.md and the copy of the macOS runtime that nothing loads', (t) => {
    if (typeof files === 'string') return t.skip(files);
    assert.ok(!files.includes('CONTRIBUTING.md'), 'CONTRIBUTING.md is packaged');
    // onnxruntime_binding.node links @rpath/libonnxruntime.1.dylib; the versioned name is a byte copy
    const darwin = 'node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64';
    assert.ok(files.includes(`${darwin}/libonnxruntime.1.dylib`), 'the dylib the binding loads is packaged');
    assert.ok(!files.some((f) => f.endsWith('/libonnxruntime.1.30.0.dylib')), 'the duplicate dylib is packaged');
  });
});
