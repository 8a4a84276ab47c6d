// The Costs panel in a real VS Code workbench: after a few completions (one accepted) and an
// explanation from the packaged model, "Glassbox: Show Costs" prices those requests on the hosted
// models, next to the local cost, with the what-if, break-even and latency views drawn.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, findGlassboxVsix } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');

describe('Costs panel in a real VS Code', { skip, timeout: 600_000 }, () => {
  let wb: Workbench;
  before(async () => {
    // A quarter of the machine attributed to Glassbox, so local has a fixed cost and break-even points
    // exist; and a team server at $1.50 an hour, for the "your own server" rows.
    wb = await Workbench.start({
      name: 'costs',
      vsix,
      settings: {
        'glassbox.maxTokens': 16,
        'glassbox.explain.maxTokens': 48,
        'glassbox.costs.hardwareShare': 0.25,
        'glassbox.costs.serverHourlyPrice': 1.5,
      },
    });
    await wb.waitForCommands('Glassbox:');
  });
  after(() => wb?.close());

  it('prices real completions and an explanation on the hosted models', async () => {
    // A few completions: each line typed asks the model; Tab accepts one.
    await wb.openFile('src/math.ts');
    await wb.cursorTo(18, 1);
    let accepted = false;
    for (const line of [
      '\nexport function square(x: number): number {\n  return ',
      '\nconst total = ',
      '\nfunction area(',
      '\nconst half = ',
    ]) {
      await wb.typeInEditor(line, { delayMs: 40 });
      const ghost = await wb.waitForGhostText(15_000).catch(() => '');
      if (ghost && !accepted) {
        await wb.press('Tab');
        accepted = true;
      }
    }
    // One explanation.
    await wb.cursorTo(10, 5);
    await wb.runCommand('Glassbox: Explain');
    const explain = await wb.webviewWith('h2');
    await explain.locator('table.figures').waitFor({ state: 'attached', timeout: 180_000 }); // in the collapsed Details

    await wb.runCommand('Glassbox: Show Costs');
    const panel = await wb.webviewWith('#usage');
    await panel.locator('#usage-table').waitFor({ timeout: 60_000 });
    await panel.locator('vscode-button.tab', { hasText: 'All time' }).click();
    await panel.locator('#usage-table').waitFor();
    await wb.page.waitForTimeout(1000); // charts draw on the next animation frame
    await wb.screenshot('panel');

    const summary = await panel.locator('#usage .summary').innerText();
    const requests = Number(/^([\d,]+) requests/.exec(summary)?.[1].replace(/,/g, ''));
    assert.ok(requests >= 2, `the ledger holds the session's requests: ${summary}`);
    assert.match(summary, /[1-9]\d* explanation/, 'the explanation was recorded');

    const costs = await panel.locator('#usage-table tr.hosted td:nth-child(6)').allInnerTexts();
    const priced = costs.filter((c) => /^\$\d/.test(c) && c !== '$0');
    assert.ok(priced.length >= 15, `${priced.length} hosted models priced: ${costs.join(' ')}`);
    assert.match(await panel.locator('#local-cost').innerText(), /Local cost: \$[\d.,]+/);
    // the server's hours are counted whether or not it answered: none of these requests went to one
    assert.match(
      await panel.locator('#server-cost').innerText(),
      /Your own server: \$[\d.,]+ · per request it answered \(0\)/,
    );
    // OpenAI models are priced on exact counts from the token-count worker the .vsix ships.
    const exact = await panel.locator('#usage-table tr.hosted .badge.exact').count();
    assert.ok(exact >= 8, `${exact} models priced on exact token counts`);

    // What-if and break-even are drawn.
    await panel.locator('#whatif-chart').waitFor();
    const canvas = async (id: string) =>
      panel
        .locator(id)
        .evaluate((c) => [(c as unknown as { width: number }).width, (c as unknown as { height: number }).height]);
    for (const id of ['#usage-chart', '#whatif-chart', '#breakeven-chart', '#latency-chart']) {
      const [w, h] = await canvas(id);
      assert.ok(w > 100 && h > 100, `${id} is drawn (${w}×${h})`);
    }
    assert.match(await panel.locator('#breakeven').innerText(), /[1-9]\d* crossing points? in range, marked/);
    assert.match(
      (await panel.locator('#breakeven-notes li.server').textContent()) ?? '', // inside the closed details
      /Your own server: \$1,096\/month at any volume \(\$1\.50\/hour, always on\)/,
    );
    await panel.locator('#breakeven-chart').scrollIntoViewIfNeeded();
    await wb.screenshot('breakeven');
    await panel.locator('#whatif').scrollIntoViewIfNeeded();
    await wb.screenshot('whatif');

    // A negative team size is refused with a message.
    const team = panel.locator('#whatif vscode-text-field').first().locator('input');
    await team.fill('-3');
    await team.press('Enter');
    await panel.locator('#whatif .warning', { hasText: 'Team size -3 was rejected' }).waitFor({ timeout: 30_000 });
    await panel.locator('#whatif').scrollIntoViewIfNeeded();
    await wb.screenshot('rejected-input');
  });
});
