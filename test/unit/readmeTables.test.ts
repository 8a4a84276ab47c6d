// README.md's settings and keybinding tables are generated from package.json
// (scripts/readme-tables.js); this fails when someone changes one without the other.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers';

describe('README tables', () => {
  it('match package.json (run `node scripts/readme-tables.js` after changing settings or keys)', () => {
    const { expectedReadme } = require(path.join(ROOT, 'scripts', 'readme-tables.js')) as {
      expectedReadme: () => string;
    };
    assert.equal(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), expectedReadme());
  });

  it('every setting and command with a key is in them', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, unknown> }; keybindings: { key: string }[] };
    };
    for (const key of Object.keys(pkg.contributes.configuration.properties))
      assert.ok(readme.includes(`\`${key}\``), key);
    for (const k of pkg.contributes.keybindings) assert.ok(readme.includes(`\`${k.key}\``), k.key);
  });
});
