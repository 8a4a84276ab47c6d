// Per-language control in a real VS Code workbench: a `[python]`-scoped `glassbox.enable: false`
// stops automatic completions in Python files only, the status bar follows the active editor's
// language ("manual" where only Trigger Completion asks the model), and its menu turns a language
// off and snoozes. Screenshots: test-results/e2e/languages-*.png.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, findGlassboxVsix } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');

describe('Per-language control in a real VS Code', { skip, timeout: 600_000 }, () => {
  let wb: Workbench;
  before(async () => {
    wb = await Workbench.start({
      name: 'languages',
      vsix,
      settings: { '[python]': { 'glassbox.enable': false }, 'glassbox.completion.minConfidence': 0 },
    });
    await wb.waitForCommands('Glassbox:');
  });
  after(() => wb?.close());

  const status = () =>
    wb.page.locator('.statusbar-item[id="glassbox.glassbox.status"], .statusbar-item', { hasText: 'Glassbox' }).first();

  /** Waits until no text of the workbench reads `text` (the status bar left that mode). */
  const untilGone = (text: string) =>
    wb.page.waitForFunction(
      (t) =>
        !(globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.includes(t),
      text,
      { timeout: 30_000 },
    );

  it('[python] glassbox.enable false: no ghost text in a .py file, and the status bar says manual', async () => {
    await wb.openFile('src/stats.py');
    await status().filter({ hasText: 'manual' }).waitFor({ timeout: 30_000 });
    await wb.cursorTo(11, 1);
    await wb.typeInEditor('\nx = ', { delayMs: 40 });
    for (const deadline = Date.now() + 4000; Date.now() < deadline; await wb.page.waitForTimeout(250)) {
      assert.equal(await wb.ghostText(), '', 'no automatic completion in Python');
    }
    await wb.screenshot('python-manual');
    await wb.runCommand('Glassbox: Trigger Completion');
    assert.ok((await wb.waitForGhostText(30_000)).length > 0, 'Trigger Completion still asks the model');
    await wb.press('Escape');
  });

  it('TypeScript keeps automatic completions, and the status bar follows the editor', async () => {
    await wb.openFile('src/math.ts');
    await untilGone('Glassbox: manual');
    await wb.cursorTo(18, 1);
    let ghost = '';
    for (const line of ['\nexport const total = ', '\nfunction area(']) {
      await wb.typeInEditor(line, { delayMs: 40 });
      ghost = await wb.waitForGhostText(20_000).catch(() => '');
      if (ghost) break;
    }
    assert.ok(ghost.length > 0, 'ghost text in TypeScript');
    await wb.press('Escape');
  });

  /** Opens the status bar's menu; a click that lands while the item re-renders is tried again. */
  async function menu(): Promise<void> {
    const widget = wb.page.locator('.quick-input-widget');
    for (let attempt = 0; attempt < 3; attempt++) {
      await status().click();
      if (
        await widget.waitFor({ state: 'visible', timeout: 5000 }).then(
          () => true,
          () => false,
        )
      )
        return;
    }
    throw new Error("the status bar's menu did not open");
  }

  it("the status bar's menu turns a language off and snoozes", async () => {
    await menu();
    await wb.page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Disable completions for typescript' })
      .click();
    await status().filter({ hasText: 'manual' }).waitFor({ timeout: 30_000 });
    await wb.screenshot('typescript-off');
    await menu();
    await wb.page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Enable completions for typescript' })
      .click();
    await untilGone('Glassbox: manual');
    await menu();
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Snooze for 5 minutes' }).click();
    await status().filter({ hasText: 'snoozed' }).waitFor({ timeout: 30_000 });
    await wb.screenshot('snoozed');
    await menu();
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Resume completions' }).click();
    await untilGone('snoozed');
  });
});
