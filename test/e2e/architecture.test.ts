// The architecture explorer in a real VS Code workbench: "Glassbox: Show Model Architecture" draws
// the packaged model's blocks with the exact parameter total, the figures follow the context
// slider, a click on a block drills down into its operators, a scope opens on click, the diagram
// exports as SVG and PNG through the save dialog, the panel comes back after a reload, and after a
// completion it shows the measured decode speed next to the bandwidth bound.
// Screenshots go to test-results/e2e/architecture-*.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { EMBEDDED_MODEL } from '../../src/engine/runtime/embedded';
import { inspectArchitecture } from '../../src/engine/architecture/architecture';
import { e2eSkip, findGlassboxVsix, repoRoot } from './prerequisites';
import { scrollTo, Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');

describe('Architecture explorer in a real VS Code', { skip, timeout: 600_000 }, () => {
  // What the packaged model holds, read by the engine in this process (the unit tests check the reading itself).
  const expected = inspectArchitecture({ modelDir: path.join(repoRoot, 'models', EMBEDDED_MODEL) });
  const blocks = expected.parts.filter((p) => p.kind === 'block');
  let wb: Workbench;
  let panel: FrameLocator;
  before(async () => {
    // the panels' mechanics, not the gate: every completion is shown
    wb = await Workbench.start({
      name: 'architecture',
      vsix,
      settings: { 'glassbox.completion.minConfidence': 0 },
    });
    await wb.waitForCommands('Glassbox: Show Model Architecture');
  });
  after(() => wb?.close());

  it('draws N blocks and the exact parameter total of the packaged model', async () => {
    await wb.runCommand('Glassbox: Show Model Architecture');
    panel = await wb.webviewWith('svg.diagram', 90_000);
    assert.equal(await panel.locator('svg.diagram g.part.kind-block').count(), blocks.length);
    const total = await panel.locator('.card[data-figure="params"] .card-value').innerText();
    assert.equal(total.trim(), expected.totals.params.toLocaleString('en-US'));
    if (expected.totals.cardParams !== null)
      assert.match(await panel.locator('.card[data-figure="params"] .card-sub').innerText(), /matches the model card/);
    assert.match(await panel.locator('.family').innerText(), new RegExp(`${blocks.length} × block`));
    await wb.screenshot('panel');
  });

  it('recomputes the KV-cache figure when the context slider moves', async () => {
    const kv = panel.locator('.card[data-figure="kv-context"] .card-value');
    const before = await kv.innerText();
    await panel.locator('#context-slider').evaluate((e) => {
      const input = e as unknown as { value: string; max: string; dispatchEvent(ev: unknown): boolean };
      input.value = String(Math.max(1, Math.floor(Number(input.max) / 4)));
      input.dispatchEvent(new (globalThis as unknown as { Event: new (t: string) => unknown }).Event('input'));
    });
    assert.notEqual(await kv.innerText(), before);
    const title = await panel.locator('.card[data-figure="kv-context"]').getAttribute('title');
    assert.match(title ?? '', /2 \(K,V\) × \d+ layers × \d+ KV heads/, 'the tooltip gives the formula');
  });

  it('drills down from a block into its operators, and opens a scope', async () => {
    const last = blocks[blocks.length - 1];
    await panel.locator(`svg.diagram g.part[data-part="${last.id}"]`).click();
    const attention = panel.locator('svg.graph g.gnode.kind-scope', { hasText: /attn|attention/ }).first();
    await attention.waitFor({ timeout: 60_000 });
    assert.ok(
      (await panel.locator('svg.diagram g.part.selected .component.attention').count()) === 1,
      'the selected block shows its anatomy',
    );
    await wb.screenshot('drilldown');
    await attention.click();
    await panel.locator('svg.graph g.cluster').first().waitFor({ timeout: 60_000 });
    const ops = await panel.locator('svg.graph g.gnode.kind-op .gnode-label').allTextContents();
    assert.ok(
      ops.some((o) => /Softmax|Attention/.test(o)),
      `attention operators drawn: ${ops.join(', ')}`,
    );
    await panel.locator('svg.graph g.gnode.kind-op').first().click();
    await panel.locator('.drill-details table').first().waitFor();
    await wb.screenshot('scope-open');
  });

  it('exports the diagram as SVG and PNG through the save dialog', async () => {
    for (const format of ['svg', 'png'] as const) {
      const file = path.join(wb.workspaceDir, `diagram.${format}`);
      await panel.locator(`#export-${format}`).click();
      const input = wb.page.locator('.quick-input-widget input.input');
      await input.waitFor({ timeout: 15_000 });
      // the dialog fills in the folder first, then the suggested name
      const offered = new RegExp(`-architecture\\.${format}$`);
      for (let i = 0; i < 40 && !offered.test(await input.inputValue()); i++) await wb.page.waitForTimeout(250);
      assert.match(await input.inputValue(), offered, 'a default file name is offered');
      await input.fill(file);
      await wb.page.keyboard.press('Enter');
      await panel.locator('#status', { hasText: `Saved ${file}` }).waitFor({ timeout: 15_000 });
      const bytes = fs.readFileSync(file);
      if (format === 'svg') {
        const svg = bytes.toString('utf8');
        assert.match(svg, /^<\?xml[^]*<svg[^]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        assert.ok(svg.includes('Token embedding') && svg.includes('LM head'), 'the parts are in the file');
        assert.doesNotMatch(svg, /var\(--vscode/, 'colours are resolved, not theme variables');
      } else {
        assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
        assert.ok(bytes.length > 10_000, `${bytes.length} bytes`);
      }
    }
  });

  it('comes back after a window reload, with the block the user selected', async () => {
    const selected = blocks[blocks.length - 1].id;
    await wb.runCommand('Developer: Reload Window');
    await wb.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    panel = await wb.webviewWith('svg.diagram', 90_000);
    await panel.locator(`svg.diagram g.part.selected[data-part="${selected}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await panel.locator('svg.diagram g.part.kind-block').count(), blocks.length);
    await wb.screenshot('after-reload');
  });

  it('shows the decode speed Glassbox measured on a completion next to the bandwidth bound', async () => {
    // A completion of a single token has no decode step to time: type until one gives a speed.
    const measuredText = /measured here: [\d,]+ tokens\/s/;
    let shown = '';
    const lines = [
      '\nexport function square(x: number): number {\n  return ',
      '\nconst total = ',
      '\nfunction area(w: number, h: number) {\n  ',
      '\nconst half = ',
    ];
    for (const [i, line] of lines.entries()) {
      await wb.openFile('src/math.ts');
      if (i === 0) await wb.cursorTo(18, 1);
      await wb.typeInEditor(line, { delayMs: 40 });
      const ghost = await wb.waitForGhostText(60_000).catch(() => '');
      if (!ghost) continue;
      await wb.runCommand('Glassbox: Show Model Architecture');
      panel = await wb.webviewWith('svg.diagram');
      const sub = panel.locator('.card[data-figure="decode-bound"] .card-sub');
      await sub
        .filter({ hasText: measuredText })
        .waitFor({ timeout: 15_000 })
        .catch(() => undefined);
      shown = await sub.innerText();
      if (measuredText.test(shown)) break;
    }
    assert.match(shown, measuredText, "a completion's decode speed reached the panel");
    assert.match(
      await panel.locator('.card[data-figure="decode-bound"] .card-value').innerText(),
      /≤ [\d,]+ tokens\/s/,
    );
    await scrollTo(panel.locator('.card[data-figure="decode-bound"]'));
    await wb.screenshot('measured');
  });
});
