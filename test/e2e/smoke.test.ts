// The workbench comes up in Chromium, edits a file like a user, and (when a Glassbox .vsix has
// been built) installs the extension and lists its commands.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { e2eSkip, findGlassboxVsix } from './prerequisites';
import { Workbench } from './workbench';

const skip = e2eSkip();

test('opens a TypeScript file and types into it', { skip, timeout: 180_000 }, async () => {
  const wb = await Workbench.start({ name: 'smoke-edit' });
  try {
    await wb.openFile('src/math.ts');
    await wb.cursorTo(18, 1);
    await wb.typeInEditor('\nexport const answer = 42;');
    await wb.screenshot('typed');

    const original = fs.readFileSync(path.join(wb.workspaceDir, 'src', 'math.ts'), 'utf8'); // unsaved: still the fixture
    assert.equal(await wb.editorText(), `${original}\nexport const answer = 42;`);
    assert.deepEqual(await wb.cursorPosition(), { line: 19, column: 26 }, 'editorText() puts the cursor back');
  } finally {
    await wb.close();
  }
});

const vsix = findGlassboxVsix();

test(
  'installs the Glassbox .vsix and lists its commands',
  { skip: skip || (!vsix && 'no glassbox-*.vsix: run `npm run package`'), timeout: 180_000 },
  async () => {
    const wb = await Workbench.start({ name: 'smoke-vsix', vsix });
    try {
      const commands = await wb.waitForCommands('Glassbox:');
      await wb.screenshot('commands');
      assert.ok(commands.length > 0, 'the command palette lists Glassbox: commands');
      assert.ok(
        commands.every((c) => c.startsWith('Glassbox:')),
        `unexpected labels: ${commands.join(', ')}`,
      );
    } finally {
      await wb.close();
    }
  },
);
