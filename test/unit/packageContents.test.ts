// The .vsix holds exactly what the extension runs with (issue 18, item 4): an allow-list, so a new
// file in the package (a test model, a source map, the CLI, a second model variant) fails here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const ALLOWED = [
  /^(package\.json|package\.nls\.json|README\.md|LICENSE|CHANGELOG\.md)$/,
  /^media\/[\w-]+\.(css|svg|png)$/,
  /^media\/walkthrough\/\w+\.md$/,
  /^media\/screenshots\/\w+\.png$/,
  /^dist\/(extension|engineWorker|contextWorker|tokenCountWorker)\.js$/,
  /^dist\/webview\/\w+\.js$/,
  /^models\/glassbox-code\/(README\.md|config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|training_log\.json|scaling\.json|scaling\.png|quantization\.json|loss_curve\.png|eval\.md|eval\.json|copy_cache\.json)$/,
  /^models\/glassbox-code\/onnx\/model(_q4|_quantized|_fp16)?\.onnx$/,
  /^node_modules\/onnxruntime-node\/(package\.json|README\.md|dist\/\w+\.js|bin\/napi-v6\/[\w-]+\/[\w-]+\/[\w.-]+)$/,
  /^node_modules\/onnxruntime-common\/(package\.json|dist\/cjs\/[\w-]+\.js|dist\/cjs\/package\.json)$/,
];

describe('package contents', () => {
  it('every file of the .vsix is on the allow-list, with one model variant and nothing of the tests', () => {
    const files = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package.js'), '--list'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    const unexpected = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
    assert.deepEqual(unexpected, [], 'files not on the allow-list');
    assert.equal(files.filter((f) => f.startsWith('models/glassbox-code/onnx/')).length, 1, 'one model variant');
    for (const must of [
      'dist/extension.js',
      'dist/engineWorker.js',
      'dist/contextWorker.js',
      'models/glassbox-code/copy_cache.json',
    ])
      assert.ok(files.includes(must), must);
  });
});
