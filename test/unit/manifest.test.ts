// package.json as VS Code and the Marketplace read it (issue 31, item 2): Glassbox runs in
// Restricted Mode with the embedded model while a workspace cannot pick what it runs or reads, it
// says where it runs, it is filed under AI, and it asks for no newer Node than VS Code 1.99 ships.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

interface Setting {
  type?: string | string[];
  scope?: string;
}

interface Capability {
  supported: boolean | 'limited';
  description?: string;
  restrictedConfigurations?: string[];
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { vscode: string; node?: string };
  categories: string[];
  keywords: string[];
  extensionKind?: string[];
  capabilities?: { untrustedWorkspaces?: Capability; virtualWorkspaces?: Capability | boolean };
  scripts: Record<string, string>;
  repository?: unknown;
  vsce?: { allowMissingRepository?: boolean };
  contributes: { configuration: { properties: Record<string, Setting> } };
};
const settings = pkg.contributes.configuration.properties;

/** Node.js in the oldest VS Code that engines.vscode accepts (1.99: Electron 34). */
const VSCODE_1_99_NODE = [20, 18, 3];

/**
 * Settings that choose what Glassbox runs or reads: a model folder or file, a model server, a
 * download source or folder, a price file or URL. A workspace must not set them until trusted.
 */
const CHOOSES_WHAT_RUNS = /(Path|File|Folder|Url|endpoint|headers|backend|command|remote\.model)$/;

describe('manifest', () => {
  it('works in Restricted Mode, limited: every setting that picks what runs or is read is user-only', () => {
    const trust = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited', 'capabilities.untrustedWorkspaces.supported');
    assert.ok(trust?.description, 'capabilities.untrustedWorkspaces.description says what is limited');
    const restricted = new Set(trust.restrictedConfigurations ?? []);
    const missing = Object.keys(settings).filter((k) => CHOOSES_WHAT_RUNS.test(k) && !restricted.has(k));
    assert.deepEqual(missing, [], 'settings missing from restrictedConfigurations');
    for (const k of ['glassbox.modelPath', 'glassbox.modelFile', 'glassbox.costs.priceFile'])
      assert.ok(restricted.has(k), k);
    const unknown = [...restricted].filter((k) => !(k in settings));
    assert.deepEqual(unknown, [], 'restrictedConfigurations names settings that do not exist');
  });

  it('says what works in a virtual workspace', () => {
    const virtual = pkg.capabilities?.virtualWorkspaces;
    assert.ok(virtual !== undefined, 'capabilities.virtualWorkspaces is declared');
    if (typeof virtual === 'object') {
      assert.ok(virtual.supported === false || virtual.supported === 'limited', 'virtualWorkspaces.supported');
      assert.ok(virtual.description, 'virtualWorkspaces.description gives the reason');
    }
  });

  it('runs where the workspace is (it reads its files and runs a native model there)', () => {
    assert.deepEqual(pkg.extensionKind, ['workspace']);
  });

  it('is filed under AI and Machine Learning, not Programming Languages, and found by its servers', () => {
    for (const c of ['AI', 'Machine Learning']) assert.ok(pkg.categories.includes(c), c);
    assert.ok(!pkg.categories.includes('Programming Languages'), 'Programming Languages is for language support');
    for (const k of ['autocomplete', 'ollama', 'llama.cpp']) assert.ok(pkg.keywords.includes(k), k);
  });

  it("asks for no newer Node.js than VS Code 1.99's", () => {
    assert.match(pkg.engines.vscode, /^\^1\.99\./);
    if (pkg.engines.node === undefined) return;
    const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines.node);
    assert.ok(m, `engines.node "${pkg.engines.node}" is a >= range`);
    const wanted = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
    const cmp = wanted.findIndex((v, i) => v !== VSCODE_1_99_NODE[i]);
    assert.ok(
      cmp === -1 || wanted[cmp] < VSCODE_1_99_NODE[cmp],
      `engines.node ${pkg.engines.node} excludes VS Code 1.99's Node ${VSCODE_1_99_NODE.join('.')}`,
    );
  });

  it('builds its bundles before vsce packages or publishes, and names no invented repository', () => {
    assert.match(pkg.scripts['vscode:prepublish'] ?? '', /esbuild\.js --production/);
    // without a repository vsce stops to ask; the field says so instead of a made-up address
    if (pkg.repository === undefined) assert.equal(pkg.vsce?.allowMissingRepository, true);
  });
});
