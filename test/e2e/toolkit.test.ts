// Every @vscode/webview-ui-toolkit component Glassbox's webviews use renders in a real VS Code
// (code-server 1.99 in Chromium) with no console errors (issue 31, item 10). The toolkit is archived
// upstream: this is the check that says when a VS Code or Chromium update breaks it, and the list
// of what a move to @vscode-elements/elements must cover (CONTRIBUTING.md, "The toolkit seam").
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { e2eSkip, findGlassboxVsix, repoRoot, resultsDir } from './prerequisites';
import { Workbench } from './workbench';

const vsix = findGlassboxVsix();
const skip = e2eSkip() || (!vsix && 'no glassbox-*.vsix: run `npm run package`');

/** The toolkit's tags (`vscode-button`, …) that the webviews' sources create, found by reading them. */
function toolkitTagsInUse(): string[] {
  const tags = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts') && !full.endsWith(path.join('shared', 'toolkit.ts')))
        for (const m of fs.readFileSync(full, 'utf8').matchAll(/['"<](vscode-[a-z]+(?:-[a-z]+)*)\b/g)) tags.add(m[1]);
    }
  };
  walk(path.join(repoRoot, 'webview'));
  return [...tags].sort();
}

interface Rendered {
  tag: string;
  defined: boolean;
  /** Nodes in the element's shadow root: the toolkit's template was stamped. */
  shadowNodes: number;
  width: number;
  height: number;
  /** An option's dropdown's value: the option's text when the option was read. */
  shows?: string;
}

/** The few DOM calls the in-page check makes (this tsconfig has no DOM library). */
interface DomNode {
  id: string;
  value?: string;
  textContent: string | null;
  shadowRoot: { childNodes: { length: number } } | null;
  append(...nodes: DomNode[]): void;
  prepend(...nodes: DomNode[]): void;
  setAttribute(name: string, value: string): void;
  getBoundingClientRect(): { width: number; height: number };
}
interface InPage {
  document: { createElement(tag: string): DomNode };
  customElements: { whenDefined(tag: string): Promise<unknown> };
  requestAnimationFrame(cb: () => void): number;
  setTimeout(cb: () => void, ms: number): number;
}

/** Console errors (and uncaught page errors) logged since `from` bytes into the browser log. */
function browserErrors(logFile: string, from: number): string[] {
  const text = fs.readFileSync(logFile, 'utf8').slice(from);
  return text.split('\n').filter((l) => /\[(error|pageerror)\]/.test(l));
}

describe('webview-ui-toolkit components in a real VS Code', { skip, timeout: 300_000 }, () => {
  let wb: Workbench;
  const logFile = path.join(resultsDir, 'toolkit.browser.log');
  before(async () => {
    wb = await Workbench.start({ name: 'toolkit', vsix });
    await wb.waitForCommands('Glassbox:');
  });
  after(() => wb?.close());

  it('renders every component the webviews use, with no console errors', async () => {
    const tags = toolkitTagsInUse();
    // the webviews use buttons, checkboxes, a dropdown with options, links, progress rings and text fields
    for (const t of ['vscode-button', 'vscode-dropdown', 'vscode-option', 'vscode-text-field'])
      assert.ok(tags.includes(t), `${t} is found in webview/ (the scan works)`);

    // Console errors from here on: the panel's page load (the toolkit registers and probes the page
    // there) and each component below. A CSP refusal shows up here too.
    const logStart = fs.statSync(logFile).size;
    // The Costs panel registers the toolkit (registerToolkit) like every Glassbox webview does.
    await wb.runCommand('Glassbox: Show Costs');
    const panel = await wb.webviewWith('#usage');
    await panel.locator('#usage-table, #usage').first().waitFor();

    const rendered = await panel.locator('body').evaluate(async (page, tagList: string[]) => {
      const { document, customElements, requestAnimationFrame, setTimeout } = globalThis as unknown as InPage;
      const body = page as unknown as DomNode;
      const box = document.createElement('div');
      box.id = 'toolkit-check';
      body.prepend(box);
      const results: Rendered[] = [];
      for (const tag of tagList) {
        const defined = await Promise.race([
          customElements.whenDefined(tag).then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000)),
        ]);
        // an option lives in a dropdown; every other component stands alone
        const host = tag === 'vscode-option' ? document.createElement('vscode-dropdown') : box;
        const e = document.createElement(tag);
        if (tag === 'vscode-dropdown')
          e.append(Object.assign(document.createElement('vscode-option'), { textContent: 'one' }));
        else if (tag === 'vscode-text-field') e.setAttribute('value', '42');
        else if (tag !== 'vscode-progress-ring') e.textContent = tag;
        host.append(e);
        if (host !== box) box.append(host);
        // two frames: the element is upgraded, then laid out
        await new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
        // a closed dropdown's options take no space: the dropdown shows the first one as its value
        const r = (host === box ? e : host).getBoundingClientRect();
        results.push({
          tag,
          defined,
          shadowNodes: e.shadowRoot?.childNodes.length ?? 0,
          width: r.width,
          height: r.height,
          shows: host === box ? undefined : host.value,
        });
      }
      return results;
    }, tags);
    await wb.screenshot('toolkit-components');

    for (const r of rendered) {
      assert.ok(
        r.defined,
        `${r.tag} is not a registered custom element (registerToolkit in webview/shared/toolkit.ts)`,
      );
      assert.ok(r.shadowNodes > 0, `${r.tag} rendered no template into its shadow root`);
      assert.ok(r.width > 0 && r.height > 0, `${r.tag} takes no space (${r.width}×${r.height})`);
      if (r.shows !== undefined) assert.equal(r.shows, r.tag, `the dropdown around ${r.tag} shows its text`);
    }
    assert.deepEqual(browserErrors(logFile, logStart), [], `console errors in ${logFile}`);
  });
});
