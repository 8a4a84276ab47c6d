/**
 * CONTRIBUTING.md's engine map stays true: every file under src/engine appears in it, under its
 * room, and each room imports only the rooms its line names. The extension host's bundle never
 * holds the model runtime (it runs in the worker).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const ENGINE = path.join(ROOT, 'src', 'engine');

/** The code block under "## How the engine is organized". */
function engineMap(): string {
  const text = fs.readFileSync(path.join(ROOT, 'CONTRIBUTING.md'), 'utf8');
  const section = text.slice(text.indexOf('## How the engine is organized'));
  const block = /```\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'CONTRIBUTING.md has the engine map');
  return block[1];
}

function engineFiles(dir = ENGINE): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return engineFiles(p);
    return e.name.endsWith('.ts') ? [path.relative(ENGINE, p).split(path.sep).join('/')] : [];
  });
}

/** Room of a file: its first folder, or (root). */
const roomOf = (file: string) => (file.includes('/') ? file.split('/')[0] : '(root)');

/** Each room's section of the map: the lines from its header to the next room's. */
function sections(map: string): Map<string, { text: string; imports: Set<string> }> {
  const out = new Map<string, { text: string; imports: Set<string> }>();
  let current = { text: '', imports: new Set<string>() };
  out.set('(root)', current);
  for (const line of map.split('\n')) {
    const room = /^(\w+)\/\s/.exec(line);
    if (room) {
      const imports = /imports: (.*)$/.exec(line)?.[1] ?? '';
      current = { text: '', imports: new Set(imports.split(',').map((s) => s.trim())) };
      out.set(room[1], current);
    }
    current.text += line + '\n';
  }
  return out;
}

describe('engine map', () => {
  const map = sections(engineMap());

  it('lists every file of src/engine under its room', () => {
    const missing = engineFiles().filter((f) => {
      const section = map.get(roomOf(f));
      if (!section) return true;
      // a subfolder of a room may be listed as one line that names its files
      const name = f.split('/').at(-1)!;
      return !new RegExp(`(^|[\\s,])${name.replace('.', '\\.')}(\\s|,|$)`, 'm').test(section.text);
    });
    assert.deepEqual(missing, [], 'files missing from the engine map in CONTRIBUTING.md');
  });

  it('each room imports only the rooms its line names', () => {
    const bad: string[] = [];
    for (const f of engineFiles()) {
      const room = roomOf(f);
      const allowed = map.get(room)?.imports;
      if (room === '(root)' || !allowed || allowed.has('every room')) continue;
      const text = fs.readFileSync(path.join(ENGINE, f), 'utf8');
      for (const m of text.matchAll(/from '(\.[^']*)'/g)) {
        const target = path.relative(ENGINE, path.resolve(path.dirname(path.join(ENGINE, f)), m[1]));
        if (target.startsWith('..')) continue; // outside the engine (src/common, src/net)
        const to = roomOf(target.split(path.sep).join('/') + '.ts');
        if (to !== room && !allowed.has(to)) bad.push(`${f} imports ${to} (${m[1]})`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("the extension host's bundle does not hold the model runtime", () => {
    const bundle = path.join(ROOT, 'dist', 'extension.js');
    assert.ok(fs.existsSync(bundle), 'dist/extension.js is built (npm run build)');
    const text = fs.readFileSync(bundle, 'utf8');
    assert.ok(!/require\(["']onnxruntime-node["']\)/.test(text), 'dist/extension.js loads onnxruntime-node');
    // nor the ONNX file reader (onnx-proto, its protobuf schema): the host reads no graph itself
    assert.ok(!text.includes('ModelProto'), 'dist/extension.js bundles onnx-proto');
  });
});
