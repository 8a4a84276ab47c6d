// The manifest's user-facing strings live in package.nls.json and package.json refers to them as
// %key% (issue 31, item 9), so a translation is one more package.nls.<locale>.json. Every
// reference resolves, every key is used, and no title or description is left written in place.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

const raw = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8');
const pkg = JSON.parse(raw) as Record<string, unknown>;
const nlsFile = path.join(ROOT, 'package.nls.json');
const nls = (fs.existsSync(nlsFile) ? JSON.parse(fs.readFileSync(nlsFile, 'utf8')) : {}) as Record<string, unknown>;

/** Every string in package.json with the path that leads to it (`contributes.commands.0.title`). */
function strings(value: unknown, at: string[] = []): { at: string; value: string }[] {
  if (typeof value === 'string') return [{ at: at.join('.'), value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, [...at, String(i)]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, [...at, k]));
  return [];
}

/** The fields VS Code shows a person: command titles, setting descriptions, views, the walkthrough. */
const SHOWN = [
  /^description$/,
  /^capabilities\.\w+\.description$/,
  /^contributes\.commands\.\d+\.(title|category)$/,
  /^contributes\.configuration\.title$/,
  /^contributes\.configuration\.properties\.[\w.]+\.(description|markdownDescription|patternErrorMessage|deprecationMessage|markdownDeprecationMessage)$/,
  /^contributes\.configuration\.properties\.[\w.]+\.enumDescriptions\.\d+$/,
  /^contributes\.viewsContainers\.\w+\.\d+\.title$/,
  /^contributes\.views\.\w+\.\d+\.name$/,
  /^contributes\.walkthroughs\.\d+\.(title|description)$/,
  /^contributes\.walkthroughs\.\d+\.steps\.\d+\.(title|description)$/,
];

describe('manifest strings', () => {
  const all = strings(pkg);
  const refs = all.filter((s) => /^%[\w.-]+%$/.test(s.value));

  it('every %key% in package.json resolves in package.nls.json', () => {
    assert.ok(refs.length > 0, 'package.json refers to no %key%');
    const unresolved = refs.filter((r) => typeof nls[r.value.slice(1, -1)] !== 'string');
    assert.deepEqual(
      unresolved.map((r) => `${r.at}: ${r.value}`),
      [],
    );
  });

  it('every key of package.nls.json is used', () => {
    const used = new Set(refs.map((r) => r.value.slice(1, -1)));
    assert.deepEqual(
      Object.keys(nls).filter((k) => !used.has(k)),
      [],
    );
  });

  it('no title or description a person reads is written in package.json itself', () => {
    const inPlace = all.filter((s) => SHOWN.some((re) => re.test(s.at)) && !/^%[\w.-]+%$/.test(s.value));
    assert.deepEqual(
      inPlace.map((s) => `${s.at}: ${s.value.slice(0, 60)}`),
      [],
    );
  });
});
