// The Attention side view in a real VS Code workbench: opened before any model has loaded it says
// so; after a completion from the packaged model it shows the heat strip over the prompt and the
// generated tokens, the layer × head grid with labels, and the logit lens; pinning a token tints
// the code it attended to. Screenshots go to test-results/e2e/attention-*.png.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, findGlassboxVsix } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');


describe('Attention view in a real VS Code', { skip, timeout: 600_000 }, () => {
  let wb: Workbench;
  before(async () => {
    wb = await Workbench.start({ name: 'attention', vsix, settings: { 'glassbox.maxTokens': 12 } });
    await wb.waitForCommands('Glassbox: Show Attention');
  });
  after(() => wb?.close());

  it('says no model has loaded when opened first', async () => {
    await wb.runCommand('Glassbox: Show Attention');
    const view = await wb.webviewWith('p.caveat');
    assert.match(await view.locator('p.caveat').innerText(), /where information flowed, not why the model decided/);
    await view.locator('.message', { hasText: 'No model has loaded yet' }).waitFor({ timeout: 30_000 });
    await wb.screenshot('before-model');
  });

  it('after a completion shows the heat strip, the head grid and the logit lens', async () => {
    await wb.openFile('src/math.ts');
    await wb.cursorTo(18, 1);
    let ghost = '';
    for (const line of ['\nexport function square(x: number): number {\n  return ', '\nconst total = ']) {
      await wb.typeInEditor(line, { delayMs: 40 });
      ghost = await wb.waitForGhostText(30_000).catch(() => '');
      if (ghost) break;
    }
    assert.notEqual(ghost, '', 'the model completed');
    const view = await wb.webviewWith('p.caveat');
    await view.locator('.strip .tok.gen').first().waitFor({ timeout: 120_000 });
    const tokens = await view.locator('.strip .tok').count();
    assert.ok(tokens > 20, `${tokens} tokens in the strip`);
    // Heat: the pinned token's attention shades the context (some --heat above 0).
    await view.locator('.strip .tok.pinned').waitFor();
    const heats = await view.locator('.strip .tok').evaluateAll((els) => els.map((e) => Number((e as unknown as { style: { getPropertyValue(n: string): string } }).style.getPropertyValue('--heat') || 0)));
    assert.ok(heats.filter((h) => h > 0).length >= 5, 'the context is shaded');
    assert.equal(Math.max(...heats), 1, 'the strongest key is fully shaded');
    // Head grid: 2 layers × 4 heads of test-tiny, each drawn and labelled.
    assert.equal(await view.locator('.thumb canvas').count(), 8);
    const size = await view.locator('.thumb canvas').first().evaluate((c) => (c as unknown as { width: number }).width);
    assert.ok(size >= 16, `thumbnail ${size} px`);
    assert.equal(await view.locator('.thumb-label').count(), 8);
    // Logit lens: embeddings + 2 layers, top-5 each.
    await view.locator('table.lens').waitFor();
    assert.equal(await view.locator('table.lens tr').count(), 4);
    await wb.screenshot('after-completion');
    await view.locator('.grid').scrollIntoViewIfNeeded();
    await wb.screenshot('head-grid');
    await view.locator('table.lens').scrollIntoViewIfNeeded();
    await wb.screenshot('logit-lens');
    await view.locator('header').scrollIntoViewIfNeeded();

    // One head alone, then a pinned prompt token: the editor is tinted where it attended.
    await view.locator('.thumb').nth(5).click();
    await view.locator('.thumb.selected').waitFor();
    await view.locator('.strip .tok').nth(Math.floor(tokens / 2)).click();
    await wb.page.waitForTimeout(1500);
    const tinted = await wb.page.locator('.monaco-editor .view-overlays div').evaluateAll((els) =>
      els.filter((e) => /255, 140, 0/.test((globalThis as unknown as { getComputedStyle(x: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor)).length,
    );
    await wb.screenshot('head-and-tint');
    assert.ok(tinted > 0, 'source code tinted by attention');
  });
});
