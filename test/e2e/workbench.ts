/**
 * A real VS Code workbench for end-to-end tests: code-server (VS Code 1.99 in a browser) on
 * 127.0.0.1 with a throwaway profile and workspace, driven through Debian's Chromium by
 * playwright-core. See test/e2e/README.md.
 *
 * @example
 *   const wb = await Workbench.start({ name: 'smoke', vsix: findGlassboxVsix() });
 *   try {
 *     await wb.openFile('src/math.ts');
 *     await wb.typeInEditor('const x = 1;');
 *     assert.match(await wb.editorText(), /const x = 1;/);
 *   } finally {
 *     await wb.close();
 *   }
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { chromiumBin, codeServerBin, repoRoot, resultsDir } from './prerequisites';
import { freePort, killOnExit, stopProcessGroup, waitForHealthz, withTimeout } from './processes';

/** Chromium flags that work on this kind of machine (no GPU, no sandbox, no background traffic). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Settings every workbench gets; the caller's `settings` are merged over them. */
const BASE_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false, // or the trust dialog covers the editor
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'git.enabled': false,
  'editor.inlineSuggest.enabled': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
};

/**
 * Ghost text as VS Code 1.99 renders it (checked in the real DOM): the part on the cursor's line
 * is `span.ghost-text-decoration` (`.ghost-text-decoration-preview` when it previews a suggest
 * widget item); the lines below are `.view-line`s of `span.ghost-text` inside a
 * `div.suggest-preview-text` view zone.
 */
const GHOST_INLINE = '.ghost-text-decoration, .ghost-text-decoration-preview';
const GHOST_LINES = '.suggest-preview-text .view-line';

/** Options for {@link Workbench.start}. */
interface WorkbenchOptions {
  /** Prefix of the screenshot and log files in test-results/e2e/. Default `workbench`. */
  name?: string;
  /** A .vsix (or several) installed with `code-server --install-extension` before start. */
  vsix?: string | string[];
  /** User keybindings, written to User/keybindings.json. */
  keybindings?: { key: string; command: string; when?: string }[];
  /** User settings, merged over the harness defaults into User/settings.json. */
  settings?: Record<string, unknown>;
  /**
   * Machine settings (Machine/settings.json: code-server's server side), for settings of machine
   * scope, which a remote window does not take from User settings.
   */
  machineSettings?: Record<string, unknown>;
  /** Folder copied to a temp dir and opened as the workspace. Default test/e2e/workspace/. */
  workspace?: string;
  /** Longest wait for code-server and the workbench to come up, in ms. Default 90 000. */
  startTimeoutMs?: number;
}

const run = promisify(execFile);

/** Clipboard contents meaning "nothing was copied" (the copy of an empty document). */
const EMPTY_MARK = '\u0000glassbox-e2e-empty';

/** The few browser globals the in-page functions use (this project compiles without the DOM lib). */
interface InPage {
  navigator: { clipboard: { readText(): Promise<string>; writeText(text: string): Promise<void> } };
  document: { querySelector(selector: string): InPageElement | null };
}
interface InPageElement {
  textContent: string | null;
  style: { top: string };
  querySelectorAll(selector: string): Iterable<InPageElement>;
}

/** A code-server process, a Chromium page on it, and the temp dirs they use. */
export class Workbench {
  /** The Playwright page showing the workbench (for anything the helpers don't cover). */
  readonly page: Page;
  /** The code-server origin, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
  /** The workspace folder (a temp copy of the fixtures); tests may read and write it. */
  readonly workspaceDir: string;
  /** Prefix of this workbench's files in test-results/e2e/. */
  readonly name: string;

  private closed = false;

  private constructor(
    page: Page,
    baseUrl: string,
    workspaceDir: string,
    name: string,
    private readonly browser: Browser,
    private readonly server: ChildProcess,
    private readonly tempDir: string,
    private readonly logs: fs.WriteStream[],
  ) {
    this.page = page;
    this.baseUrl = baseUrl;
    this.workspaceDir = workspaceDir;
    this.name = name;
  }

  /**
   * Starts code-server with a fresh profile (extensions dir, user data dir, settings) and a temp
   * copy of the workspace, installs `vsix` first if given, launches Chromium and opens the
   * workspace. Logs go to test-results/e2e/<name>.code-server.log and <name>.browser.log.
   */
  static async start(options: WorkbenchOptions = {}): Promise<Workbench> {
    const name = options.name ?? 'workbench';
    const timeoutMs = options.startTimeoutMs ?? 90_000;
    fs.mkdirSync(resultsDir, { recursive: true });
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-e2e-'));
    const serverLog = fs.createWriteStream(path.join(resultsDir, `${name}.code-server.log`));
    const browserLog = fs.createWriteStream(path.join(resultsDir, `${name}.browser.log`));
    const logs = [serverLog, browserLog];
    logs.forEach((l) => l.on('error', () => undefined)); // a late write must not crash the test run
    let server: ChildProcess | undefined;
    let browser: Browser | undefined;
    try {
      const dirs = {
        extensions: path.join(tempDir, 'extensions'),
        userData: path.join(tempDir, 'user-data'),
        workspace: path.join(tempDir, 'workspace'),
        xdg: path.join(tempDir, 'xdg'),
      };
      fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
      fs.writeFileSync(
        path.join(dirs.userData, 'User', 'settings.json'),
        JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2),
      );
      if (options.machineSettings) {
        fs.mkdirSync(path.join(dirs.userData, 'Machine'), { recursive: true });
        fs.writeFileSync(
          path.join(dirs.userData, 'Machine', 'settings.json'),
          JSON.stringify(options.machineSettings, null, 2),
        );
      }
      if (options.keybindings)
        fs.writeFileSync(
          path.join(dirs.userData, 'User', 'keybindings.json'),
          JSON.stringify(options.keybindings, null, 2),
        );
      fs.cpSync(options.workspace ?? path.join(repoRoot, 'test', 'e2e', 'workspace'), dirs.workspace, {
        recursive: true,
      });

      // code-server's own state (config.yaml, last-opened folder) stays in the temp dir too.
      const env = {
        ...process.env,
        XDG_CONFIG_HOME: path.join(dirs.xdg, 'config'),
        XDG_DATA_HOME: path.join(dirs.xdg, 'data'),
        XDG_CACHE_HOME: path.join(dirs.xdg, 'cache'),
      };
      const profile = ['--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData];
      const vsixes = options.vsix === undefined ? [] : [options.vsix].flat();
      if (vsixes.length > 0) {
        const install = vsixes.flatMap((v) => ['--install-extension', path.resolve(v)]);
        serverLog.write(`$ code-server ${[...profile, ...install].join(' ')}\n`);
        const { stdout, stderr } = await run(codeServerBin, [...profile, ...install], { env, timeout: 120_000 });
        serverLog.write(stdout + stderr);
      }

      const port = await freePort();
      const args = [
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        ...profile,
        dirs.workspace,
      ];
      serverLog.write(`$ code-server ${args.join(' ')}\n`);
      // Own process group, so close() can end code-server and everything it started at once.
      server = spawn(codeServerBin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      killOnExit(server);
      server.stdout?.pipe(serverLog, { end: false });
      server.stderr?.pipe(serverLog, { end: false });
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitForHealthz(baseUrl, server, timeoutMs);

      browser = await chromium.launch({
        executablePath: chromiumBin,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 60_000,
      });
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const stamp = () => new Date().toISOString().slice(11, 23);
      page.on('console', (m) => browserLog.write(`${stamp()} [${m.type()}] ${m.text()}\n`));
      page.on('pageerror', (e) => browserLog.write(`${stamp()} [pageerror] ${e.stack ?? e.message}\n`));
      page.on('crash', () => browserLog.write(`${stamp()} [crash] the page crashed\n`));

      const wb = new Workbench(page, baseUrl, dirs.workspace, name, browser, server, tempDir, logs);
      await wb.open(`${baseUrl}/?folder=${encodeURIComponent(dirs.workspace)}`, timeoutMs);
      return wb;
    } catch (err) {
      await browser?.close().catch(() => undefined);
      if (server) await stopProcessGroup(server);
      logs.forEach((l) => l.end());
      fs.rmSync(tempDir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Navigates to `url` (default: the workspace) and waits for `.monaco-workbench` and for the
   * explorer to list the workspace, so the extension host has started.
   */
  async open(url?: string, timeoutMs = 60_000): Promise<void> {
    await this.page.goto(url ?? `${this.baseUrl}/?folder=${encodeURIComponent(this.workspaceDir)}`, {
      timeout: timeoutMs,
    });
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: timeoutMs });
  }

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits until its editor has focus. */
  async openFile(relativePath: string): Promise<void> {
    const base = path.posix.basename(relativePath);
    await this.page.keyboard.press('Escape'); // close ghost text or a widget that would take the keys
    await this.quickInput('Control+P', relativePath);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first();
    await row.waitFor();
    await row.click(); // not Enter: the highlighted row may still be a recently opened file
    await this.page.locator('.tabs-container .tab.active', { hasText: base }).waitFor();
    await this.page.locator('.editor-instance .monaco-editor.focused').waitFor();
  }

  /**
   * Runs a command from the command palette (F1), as a user would. `title` is the full label the
   * palette shows, e.g. `Glassbox: Explain Selection`. Extensions register their commands a few
   * seconds after the workbench appears, so it reopens the palette until the entry is there, for
   * up to `timeoutMs` (default 30 000).
   */
  async runCommand(title: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.quickInput('F1', `>${title}`);
      const row = this.page.locator('.quick-input-list .monaco-list-row').filter({
        has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
      });
      try {
        await row.first().waitFor({ timeout: Math.min(3_000, Math.max(1, deadline - Date.now())) });
      } catch (err) {
        await this.page.keyboard.press('Escape');
        if (Date.now() >= deadline) throw new Error(`the command palette has no "${title}"`, { cause: err });
        continue;
      }
      await row.first().click();
      await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
      return;
    }
  }

  /**
   * The command palette labels that contain `filter` (case-insensitive), e.g. all `Glassbox:`
   * commands; the palette's other fuzzy matches are left out. Closes the palette afterwards.
   */
  async listCommands(filter: string): Promise<string[]> {
    await this.quickInput('F1', `>${filter}`);
    const labels = this.page.locator('.quick-input-list .monaco-list-row .label-name');
    // The list renders asynchronously: read it until it is the same twice, 300 ms apart.
    let seen: string[] = [];
    for (let previous = '', i = 0; i < 20; i++) {
      await this.page.waitForTimeout(300);
      seen = (await labels.allInnerTexts()).map((l) => l.replace(/\s+/g, ' ').trim());
      if (seen.join('\n') === previous) break;
      previous = seen.join('\n');
    }
    await this.page.keyboard.press('Escape');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    return seen.filter((l) => l.toLowerCase().includes(filter.toLowerCase()));
  }

  /**
   * Like {@link listCommands}, but polls until at least one label contains `filter` (extensions
   * register their commands a few seconds after the workbench appears). Fails after `timeoutMs`.
   */
  async waitForCommands(filter: string, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const labels = await this.listCommands(filter);
      if (labels.length > 0) return labels;
      if (Date.now() >= deadline)
        throw new Error(`no command palette entry contains "${filter}" after ${timeoutMs} ms`);
      await this.page.waitForTimeout(1_000);
    }
  }

  /**
   * Types into the focused editor with real key presses (`\n` presses Enter), `delayMs` between
   * keys (default 20). The editor behaves as for a user: auto-closing brackets and auto-indent
   * apply, and inline suggestions are requested as you type.
   */
  async typeInEditor(text: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.page.locator('.editor-instance .monaco-editor.focused').waitFor();
    await this.page.keyboard.type(text, { delay: options.delayMs ?? 20 });
  }

  /** Moves the cursor to `line`:`column` (both 1-based) with Go to Line (Ctrl+G). */
  async cursorTo(line: number, column = 1): Promise<void> {
    await this.quickInput('Control+G', `:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await this.page.locator('.editor-instance .monaco-editor.focused').waitFor();
  }

  /**
   * The cursor position (1-based) as the status bar shows it. The status bar renders on a later
   * animation frame than the keystroke, so this reads until two reads 100 ms apart agree.
   */
  async cursorPosition(): Promise<{ line: number; column: number }> {
    const item = this.page.locator('#status\\.editor\\.selection');
    let previous = '';
    for (let i = 0; i < 30; i++) {
      await this.page.waitForTimeout(100);
      const text = await item.innerText();
      if (text === previous) {
        const m = /Ln (\d+), Col (\d+)/.exec(text);
        if (!m) throw new Error(`cannot read the cursor position from the status bar: "${text}"`);
        return { line: Number(m[1]), column: Number(m[2]) };
      }
      previous = text;
    }
    throw new Error(`the status bar's cursor position did not settle (last: "${previous}")`);
  }

  /**
   * The full text of the focused editor's model, exactly (the DOM shows only the visible lines,
   * with non-breaking spaces and ghost text mixed in). It selects all, copies (Ctrl+C) and reads
   * the browser clipboard, then puts the cursor back where it was. Side effect: this dismisses
   * any visible inline suggestion and replaces the clipboard.
   */
  async editorText(): Promise<string> {
    const editor = this.page.locator('.editor-instance .monaco-editor.focused');
    await editor.waitFor();
    const { line, column } = await this.cursorPosition();
    await this.page.evaluate((m) => (globalThis as unknown as InPage).navigator.clipboard.writeText(m), EMPTY_MARK);
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+C');
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await this.page.evaluate(() => (globalThis as unknown as InPage).navigator.clipboard.readText());
      if (text !== EMPTY_MARK) break;
      await this.page.waitForTimeout(100);
    }
    await this.cursorTo(line, column);
    // An empty document copies nothing (VS Code copies the empty line only if emptySelectionClipboard).
    return text === EMPTY_MARK ? '' : text;
  }

  /**
   * Waits until the focused editor shows ghost text (an inline suggestion) and returns it: the
   * part on the cursor's line, then `\n` and each further line. VS Code 1.99 renders the inline
   * part as `.ghost-text-decoration` (or `.ghost-text-decoration-preview` for a suggest-widget
   * preview) spans inside the line, and further lines as `.view-line`s inside a `.ghost-text`
   * view zone. When the cursor is mid-line, the rest of the line follows the last ghost line in
   * that zone; it is not part of the returned text. Fails after `timeoutMs` (default 15 000).
   */
  async waitForGhostText(timeoutMs = 15_000): Promise<string> {
    const editor = this.page.locator('.editor-instance .monaco-editor.focused');
    // A suggestion that starts with a line break has no inline part, only further lines.
    await editor.locator(`${GHOST_INLINE}, ${GHOST_LINES}`).first().waitFor({ timeout: timeoutMs });
    return this.ghostText();
  }

  /** The ghost text the focused editor shows now ('' when none), as {@link waitForGhostText} reads it. */
  async ghostText(): Promise<string> {
    return this.page.evaluate(
      ({ inline, lines }) => {
        const editor = (globalThis as unknown as InPage).document.querySelector(
          '.editor-instance .monaco-editor.focused',
        );
        if (!editor) return '';
        const text = (el: InPageElement) => (el.textContent ?? '').replace(/\u00a0/g, ' ');
        const parts = [...editor.querySelectorAll(inline)].map(text).join('');
        // A line may end with the rest of the original line (not ghost text): keep only ghost spans.
        const more = [...editor.querySelectorAll(lines)]
          .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
          .map((line) => [...line.querySelectorAll('.ghost-text')].map(text).join(''));
        return [parts, ...more].join('\n');
      },
      { inline: GHOST_INLINE, lines: GHOST_LINES },
    );
  }

  /**
   * Presses a key or chord in the focused element, e.g. `Tab` (accept ghost text),
   * `Control+ArrowRight` (accept the next word), `Escape` (dismiss). Playwright key names.
   */
  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  /**
   * The document inside a webview (panel or view) as a Playwright FrameLocator: the `nth`
   * (default 0) loaded webview in DOM order. VS Code puts each webview in an outer
   * `iframe.webview` whose inner `#active-frame` holds the extension's HTML.
   *
   * @example await wb.webview().locator('#output').waitFor();
   */
  webview(nth = 0): FrameLocator {
    return this.page.locator('iframe.webview.ready').nth(nth).contentFrame().locator('#active-frame').contentFrame();
  }

  /**
   * The first loaded webview whose page has `selector` (panels and side views share the page,
   * in no fixed order). Polls until one does, for up to `timeoutMs` (default 60 000).
   */
  async webviewWith(selector: string, timeoutMs = 60_000): Promise<FrameLocator> {
    const deadline = Date.now() + timeoutMs;
    // VS Code in the browser sometimes starts a webview under the workbench's own service worker
    // ("Found unexpected service worker controller" in the browser log); its resources then fail
    // to load (ERR_NAME_NOT_RESOLVED) and the view stays empty for good. Reloading the webviews,
    // once, a third of the way into the wait, registers the right worker.
    let reloadAt: number | null = Date.now() + timeoutMs / 3;
    for (;;) {
      if (reloadAt !== null && Date.now() > reloadAt) {
        reloadAt = null;
        await this.runCommand('Developer: Reload Webviews').catch(() => undefined);
      }
      const n = await this.page.locator('iframe.webview.ready').count();
      for (let i = 0; i < n; i++) {
        const frame = this.webview(i);
        if (
          (await frame
            .locator(selector)
            .count()
            .catch(() => 0)) > 0
        )
          return frame;
      }
      if (Date.now() > deadline) throw new Error(`no webview shows ${selector} after ${timeoutMs} ms`);
      await this.page.waitForTimeout(500);
    }
  }

  /** Lines an extension wrote to its output channel `channel` (code-server keeps them under logs/). */
  outputChannelLines(channel: string): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === `${channel}.log` || e.name.endsWith(`-${channel}.log`))
          found.push(...fs.readFileSync(p, 'utf8').split('\n'));
      }
    };
    const logs = path.join(this.tempDir, 'user-data', 'logs');
    if (fs.existsSync(logs)) walk(logs);
    return found;
  }

  /** A file in the extension's global storage (context.globalStorageUri), e.g. the usage ledger. */
  globalStorageFile(extensionId: string, file: string): string {
    return path.join(this.tempDir, 'user-data', 'User', 'globalStorage', extensionId, file);
  }

  /** Resident memory of code-server's extension host process(es), in MB (Linux /proc). */
  extensionHostRssMB(): number {
    let total = 0;
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (!cmd.includes('extensionHost')) continue;
        const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (rss && this.ownsProcess(Number(pid))) total += Number(rss[1]) / 1024;
      } catch {
        // the process ended while we looked
      }
    }
    return total;
  }

  /** Whether `pid` belongs to this workbench's code-server (its process group). */
  private ownsProcess(pid: number): boolean {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[2]) === this.server.pid; // pgrp: code-server was started detached, as a group leader
    } catch {
      return false;
    }
  }

  /** Saves a PNG of the page to test-results/e2e/<name>-<shot>.png and returns its path. */
  async screenshot(shot: string): Promise<string> {
    const file = path.join(resultsDir, `${this.name}-${shot}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Closes the browser, ends code-server and every process it started, and removes the temp
   * dirs. Never takes longer than about 20 s, never throws, and is safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await withTimeout(this.browser.close(), 10_000).catch(() => undefined);
    await stopProcessGroup(this.server);
    this.server.stdout?.unpipe();
    this.server.stderr?.unpipe();
    await Promise.all(this.logs.map((l) => new Promise<void>((resolve) => l.end(resolve))));
    fs.rmSync(this.tempDir, { recursive: true, force: true });
  }

  /**
   * Opens a quick input with `key` and types `text` into it. A quick input that is still closing
   * (a save dialog just answered) can pass for the new one and then hide, and a key pressed while a
   * webview has focus reaches the workbench only through the webview's forwarding: so it waits for
   * the old one to go, and presses the key again if the input does not become editable.
   */
  private async quickInput(key: string, text: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    for (let attempt = 1; ; attempt++) {
      await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
      await this.page.keyboard.press(key);
      try {
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(text, { timeout: 5_000 });
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await this.page.keyboard.press('Escape');
      }
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Scrolls to an element of a webview; an update that lands meanwhile (a late capture or speed)
 * redraws the view and detaches it, so the scroll is tried again on the redrawn one.
 */
export async function scrollTo(target: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await target.scrollIntoViewIfNeeded({ timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt >= 5 || !/not attached|detached/i.test(String(err))) throw err;
    }
  }
}
