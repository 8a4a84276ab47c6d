// A model server in a real VS Code workbench: with glassbox.backend "openai" pointed (in machine
// settings) at an OpenAI-compatible server on 127.0.0.1 started by this test, the ghost text comes
// from the server, Explain streams from it (its Markdown rendered: a list as a list), the status bar
// names the backend, and the usage ledger marks the request as the server's. Screenshots: test-results/e2e/remote-*.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FakeModelServer, sse } from '../unit/fakeModelServer';
import { e2eSkip, findGlassboxVsix } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');
const MODEL = 'team-coder-7b';
/** What the server completes with: a suggestion the embedded model would not write. */
const SUGGESTION = 'a * b * 1000;';

describe('A model server in a real VS Code', { skip, timeout: 600_000 }, () => {
  let wb: Workbench;
  const server = new FakeModelServer();
  before(async () => {
    server.route('POST /v1/completions', (_req, res) =>
      sse(res, [
        { model: MODEL, choices: [{ index: 0, text: SUGGESTION, finish_reason: null }] },
        { model: MODEL, choices: [{ index: 0, text: '\n}', finish_reason: 'stop' }] },
        { model: MODEL, choices: [], usage: { prompt_tokens: 321, completion_tokens: 9, total_tokens: 330 } },
      ]),
    );
    server.route('POST /v1/chat/completions', (_req, res) =>
      sse(res, [
        { model: MODEL, choices: [{ index: 0, delta: { content: 'Computes the distance ' } }] },
        { model: MODEL, choices: [{ index: 0, delta: { content: 'between two points.\n\nIt ' } }] },
        // a chat model's Markdown: the panel renders it, a list as a list
        { model: MODEL, choices: [{ index: 0, delta: { content: 'takes:\n\n- the differences `dx` and `dy`\n' } }] },
        {
          model: MODEL,
          choices: [{ index: 0, delta: { content: '- the root of **their squares**\n' }, finish_reason: 'stop' }],
        },
      ]),
    );
    const url = await server.start();
    wb = await Workbench.start({
      name: 'remote',
      vsix,
      machineSettings: {
        'glassbox.backend': 'openai',
        'glassbox.endpoint': `${url}/v1`,
        'glassbox.remote.model': MODEL,
      },
    });
    await wb.waitForCommands('Glassbox:');
  });
  after(async () => {
    await wb?.close();
    await server.stop();
  });

  it("shows the server's completion as ghost text, and the status bar names the backend", async () => {
    await wb.openFile('src/math.ts');
    await wb.cursorTo(18, 1);
    await wb.typeInEditor('\nexport function scaled(a: number, b: number): number {\n  return ', { delayMs: 40 });
    let ghost = await wb.waitForGhostText(20_000).catch(() => '');
    if (!ghost) {
      await wb.runCommand('Glassbox: Trigger Completion');
      ghost = await wb.waitForGhostText(20_000);
    }
    await wb.screenshot('ghost');
    assert.equal(ghost.trim(), SUGGESTION);
    // the request behind the ghost text is the last one (earlier keystrokes asked too)
    const sent = server.seen.filter((r) => r.path === '/v1/completions').at(-1)!;
    assert.equal(sent.body.model, MODEL);
    assert.match(String(sent.body.prompt), /return $/);
    await wb.page.locator('.statusbar-item', { hasText: 'Glassbox (openai)' }).waitFor({ timeout: 30_000 });
    await wb.press('Escape');
  });

  it('explains from the server in rendered Markdown, and the ledger marks its requests', async () => {
    await wb.cursorTo(10, 5); // inside distance()
    await wb.runCommand('Glassbox: Explain');
    const panel = await wb.webviewWith('h2:has-text("Explaining math.ts")', 60_000);
    await panel
      .locator('.markdown', { hasText: 'Computes the distance between two points.' })
      .waitFor({ timeout: 60_000 });
    const items = panel.locator('.markdown ul > li');
    await items.nth(1).waitFor({ timeout: 30_000 });
    assert.deepEqual(await items.allInnerTexts(), ['the differences dx and dy', 'the root of their squares']);
    assert.equal(await panel.locator('.markdown li code').first().innerText(), 'dx');
    assert.equal(await panel.locator('.markdown li strong').innerText(), 'their squares');
    assert.equal(await panel.locator('.markdown', { hasText: '**' }).count(), 0, 'no raw Markdown shows');
    // this server sends no log-probabilities: nothing is coloured, and the panel says why
    await panel.locator('p', { hasText: 'sent no word probabilities' }).waitFor({ timeout: 10_000 });
    await wb.screenshot('explain');
    const ledger = wb.globalStorageFile('glassbox.glassbox', 'usage-ledger.jsonl');
    const deadline = Date.now() + 30_000;
    let lines: { b?: string; m?: string; pt?: number }[] = [];
    while (Date.now() < deadline) {
      lines = fs.existsSync(ledger)
        ? fs
            .readFileSync(ledger, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { b?: string })
        : [];
      if (lines.filter((l) => l.b === 'openai').length >= 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const remote = lines.filter((l) => l.b === 'openai');
    assert.ok(remote.length >= 2, `the ledger has ${remote.length} server requests`);
    assert.ok(
      remote.some((l) => l.pt === 321),
      "the server's own prompt token count was recorded",
    );
    assert.ok(remote.every((l) => l.m === `openai ${MODEL}`));
  });
});
