// Paths from a hub's listing are untrusted: a name with `\`, `..`, a drive letter or an absolute path
// must never reach the file system (issue 16, fault 1), on either path flavour.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isExternalDataOf } from '../../src/modelHub/memory';
import { insideFolder, unsafeRepoPath } from '../../src/modelHub/safePath';

const HOSTILE = [
  'onnx/model.onnx_data\\..\\..\\evil.bat',
  '..\\evil.bat',
  '../evil.bat',
  'onnx/../../evil.bat',
  '/etc/passwd',
  'C:\\Windows\\evil.dll',
  'C:evil.dll',
  'onnx//model.onnx',
  'onnx/./model.onnx',
  'model.onnx:stream',
  'a\u0000b',
  '',
];

describe('untrusted listing paths', () => {
  it('accepts plain relative paths', () => {
    for (const p of ['model.onnx', 'onnx/model_q4.onnx', 'onnx/model.onnx_data', 'tokenizer.json', 'a..b/c.json'])
      assert.equal(unsafeRepoPath(p), undefined, p);
  });

  it('rejects backslashes, "..", absolute paths and drive letters', () => {
    for (const p of HOSTILE) assert.ok(unsafeRepoPath(p), JSON.stringify(p));
  });

  it('a hostile name is never external data of a model', () => {
    assert.equal(isExternalDataOf('onnx/model_q4.onnx', 'onnx/model_q4.onnx_data\\..\\..\\evil.bat'), false);
    assert.equal(isExternalDataOf('onnx/model_q4.onnx', 'onnx/model_q4.onnx_data'), true);
  });

  it('joins stay inside the staging folder on Windows and POSIX', () => {
    for (const flavour of [path.win32, path.posix]) {
      const root = flavour === path.win32 ? 'C:\\Users\\me\\staging' : '/home/me/staging';
      assert.equal(insideFolder(root, 'onnx/model.onnx', flavour), flavour.join(root, 'onnx', 'model.onnx'));
      for (const p of [
        '../evil.bat',
        'onnx/../../evil.bat',
        flavour === path.win32 ? '..\\..\\evil.bat' : '/etc/passwd',
        flavour === path.win32 ? 'D:\\evil.bat' : '../../etc/passwd',
      ]) {
        assert.throws(
          () => insideFolder(root, p, flavour),
          /outside/,
          `${flavour === path.win32 ? 'win32' : 'posix'}: ${p}`,
        );
      }
    }
  });
});
