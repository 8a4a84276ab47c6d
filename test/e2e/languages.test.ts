// Per-language control in a real VS Code workbench. The user settings start with the old
// `glassbox.disabledLanguages` list (python listed, markdown taken off it), which Glassbox moves
// into per-language `glassbox.enable` values when it starts; `[python]` off then stops automatic
// completions in Python files only. The status bar follows the active editor's language ("manual"
// where only Trigger Completion asks the model) with a text that stays still (figures are in its
// tooltip), and its menu turns a language off and on again (markdown, off by default, included)
// and snoozes. Screenshots: test-results/e2e/languages-*.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
      settings: {
        'glassbox.disabledLanguages': ['plaintext', 'scminput', 'python'],
        'glassbox.completion.minConfidence': 0,
      },
    });
    // a markdown file with code in it, for the model to go on with
    fs.writeFileSync(
      path.join(wb.workspaceDir, 'notes.md'),
      '# Notes\n\nPoints in the plane:\n\n```ts\nexport const origin = { x: 0, y: 0 };\nexport const unitX = { x: 1, y: 0 };\n```\n',
    );
    await wb.waitForCommands('Glassbox:');
  });
  after(() => wb?.close());

  /** The user settings as VS Code left them (the harness writes them into user-data/User/, beside the workspace). */
  const userSettings = () =>
    JSON.parse(
      fs.readFileSync(path.join(path.dirname(wb.workspaceDir), 'user-data', 'User', 'settings.json'), 'utf8'),
    ) as Record<string, unknown>;

  /** Waits until the user settings satisfy `ok` (VS Code writes them a moment after the command). */
  async function untilSettings(ok: (s: Record<string, unknown>) => boolean, what: string): Promise<void> {
    let last: Record<string, unknown> = {};
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await wb.page.waitForTimeout(250)) {
      last = userSettings();
      if (ok(last)) return;
    }
    assert.fail(`user settings never ${what}: ${JSON.stringify(last)}`);
  }

  const languageValue = (s: Record<string, unknown>, language: string) =>
    (s[`[${language}]`] as Record<string, unknown> | undefined)?.['glassbox.enable'];

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

  it('moves glassbox.disabledLanguages into per-language glassbox.enable values at start', async () => {
    await untilSettings((s) => !('glassbox.disabledLanguages' in s), 'lost glassbox.disabledLanguages');
    const s = userSettings();
    assert.equal(languageValue(s, 'python'), false, 'python was listed: off');
    assert.equal(languageValue(s, 'plaintext'), false, 'plaintext was listed: off');
    assert.equal(languageValue(s, 'markdown'), true, 'markdown was taken off the list: on');
  });

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
    // the text is state only; the last completion's figures are in the tooltip
    const text = await status().innerText();
    assert.doesNotMatch(text, /\d+\s*ms|tok\/s/, `status bar text with figures: ${text}`);
    // (\s: MarkdownString.appendText writes spaces as &nbsp;)
    const tooltip = wb.page.getByText(/Last\scompletion:\s\d+\sms,\s\d+\stok\/s/).first();
    // the hover opens when the pointer comes onto the item after a pause: move off and on again
    for (let attempt = 0; attempt < 3; attempt++) {
      await wb.page.mouse.move(700, 300);
      await status().hover();
      if (
        await tooltip.waitFor({ timeout: 5000 }).then(
          () => true,
          () => false,
        )
      )
        break;
    }
    await wb.screenshot('status-tooltip');
    await tooltip.waitFor({ timeout: 1000 });
    await wb.page.mouse.move(10, 10);
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

  /** Picks a row of the status bar's menu. */
  const pick = (label: string) => wb.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).click();

  it("markdown: the status bar's menu turns it off, back to its default (off), and on, and a completion comes", async () => {
    await wb.openFile('notes.md');
    await untilGone('Glassbox: manual'); // on, from the migration
    await menu();
    await pick('Disable completions for markdown');
    await status().filter({ hasText: 'manual' }).waitFor({ timeout: 30_000 });
    // off by removing the user's value: markdown is off by default (package.json's configurationDefaults)
    await untilSettings((s) => languageValue(s, 'markdown') === undefined, 'dropped [markdown] glassbox.enable');
    await wb.screenshot('markdown-off');
    await menu();
    await pick('Enable completions for markdown');
    await untilGone('Glassbox: manual');
    await untilSettings((s) => languageValue(s, 'markdown') === true, 'set [markdown] glassbox.enable');
    await wb.cursorTo(7, 1);
    await wb.press('End'); // after `export const unitX = …`, inside the code block
    let ghost = '';
    for (const line of ['\nexport const unitY = ', '\nexport const diagonal = {']) {
      await wb.typeInEditor(line, { delayMs: 40 });
      ghost = await wb.waitForGhostText(20_000).catch(() => '');
      if (ghost) break;
    }
    await wb.screenshot('markdown-on');
    assert.ok(ghost.length > 0, 'ghost text in markdown once the menu turned it on');
    await wb.press('Escape');
  });
});
