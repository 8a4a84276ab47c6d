// Completions in a Jupyter notebook, in a real VS Code: code-server's built-in notebook editor
// opens a workspace .ipynb (no Jupyter extension; the cells' language comes from the notebook's
// metadata). Typing at the end of the last cell shows ghost text that uses a name only the first
// cell defines, so the cells above reached the prompt.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, findGlassboxVsix, resultsDir } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');

describe('completions in a notebook, in a real VS Code', { skip, timeout: 300_000 }, () => {
  let wb: Workbench;
  before(async () => {
    wb = await Workbench.start({
      name: 'notebook',
      vsix,
      // Word-based suggestions offer the first cell's names too; their widget would hide the ghost text.
      settings: { 'glassbox.debounceMs': 50, 'editor.wordBasedSuggestions': 'off' },
    });
    await wb.waitForCommands('Glassbox:');
  });
  after(async () => {
    await wb?.close();
  });

  it('uses a name defined in a cell above', async () => {
    const page = wb.page;
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input.input');
    await input.fill('revenue.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'revenue.ipynb' }).first().click();
    // Code cells' editors, in order (the markdown cell between them shows its preview, no editor).
    const cells = page.locator('.notebookOverlay .code-cell-row .cell-editor-container .monaco-editor');
    try {
      await cells.nth(1).waitFor({ timeout: 30_000 });
    } finally {
      await wb.screenshot('opened');
    }
    // The last code cell: click into its editor, then to its end.
    await cells.nth(1).click();
    await page.locator('.notebook-editor .monaco-editor.focused').waitFor();
    await page.keyboard.press('Control+End');
    let ghost = '';
    for (const text of ['\n\nrevenue = load_q', '\nlast_year = load_q']) {
      await page.keyboard.type(text, { delay: 40 });
      ghost = await cellGhostText(wb, 30_000).catch(() => '');
      if (ghost) break;
    }
    await wb.screenshot('ghost');
    if (!ghost) keepExtensionHostLog(wb);
    assert.match(ghost, /^uarterly_revenue/, `ghost text: ${JSON.stringify(ghost)}`);
  });
});

/** The extension host's log, kept in test-results/e2e/ (the profile goes with close()). */
function keepExtensionHostLog(wb: Workbench): void {
  const logs = path.join(path.dirname(wb.workspaceDir), 'user-data', 'logs');
  for (const f of fs.readdirSync(logs, { recursive: true, encoding: 'utf8' }))
    if (path.basename(f) === 'exthost.log')
      fs.copyFileSync(path.join(logs, f), path.join(resultsDir, 'notebook.exthost.log'));
}

/**
 * The ghost text on the focused cell's line. A notebook's cells live in an overlay outside
 * `.editor-instance`, where Workbench.waitForGhostText looks, so this reads the cell's editor.
 */
async function cellGhostText(wb: Workbench, timeoutMs: number): Promise<string> {
  const inline = wb.page.locator('.notebookOverlay .monaco-editor.focused .ghost-text-decoration');
  await inline.first().waitFor({ timeout: timeoutMs });
  return (await inline.allTextContents()).join('').replace(/\u00a0/g, ' ');
}
