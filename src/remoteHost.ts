/**
 * The extension's side of model servers: the client for the configured backend (made again when a
 * setting or the key changes), the API key in VS Code's secret storage (one per server origin, so
 * a key never goes to another server), and the commands that set the key and test the connection.
 */
import * as vscode from 'vscode';
import { Config } from './config';
import type { ModelServer } from './remote/backend';
import { keyInTheClear, parseEndpoint, type BackendKind } from './remote/endpoint';
import { RemoteError } from './remote/errors';
import { createServer } from './remote/index';
import { watchModels } from './remote/modelWatch';

const KEY_PREFIX = 'glassbox.apiKey ';

export class RemoteHost implements vscode.Disposable {
  private server: Promise<ModelServer> | null = null;
  /** Until when (ms since the epoch) the server asked not to be asked (429 Retry-After). */
  private blockedUntil = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly config: Config,
  ) {
    const reset = () => {
      this.server = null;
      this.blockedUntil = 0;
    };
    this.disposables.push(
      Config.onDidChange('server')(reset),
      Config.onDidChange('net')(reset),
      secrets.onDidChange((e) => e.key.startsWith(KEY_PREFIX) && reset()),
    );
  }

  /** The configured server backend, or undefined for the embedded engine. */
  get kind(): BackendKind | undefined {
    const b = this.config.backend;
    return b === 'embedded' ? undefined : b;
  }

  /** "ollama qwen2.5-coder:1.5b" for the status bar and the ledger. */
  get label(): string {
    return `${this.kind ?? 'embedded'}${this.config.remoteModel ? ` ${this.config.remoteModel}` : ''}`;
  }

  /** The client for the configured server (throws ENDPOINT_INVALID with what to set). */
  client(): Promise<ModelServer> {
    const kind = this.kind;
    if (!kind) return Promise.reject(new Error('The embedded engine is selected, not a server.'));
    this.server ??= (async () => {
      const base = parseEndpoint(this.config.endpoint, kind);
      const server = createServer({
        kind,
        endpoint: base.href,
        model: this.config.remoteModel,
        apiKey: await this.secrets.get(KEY_PREFIX + base.origin),
        headers: this.config.remoteHeaders,
        net: Config.net(),
        timeoutMs: this.config.remoteTimeoutMs,
        fimFamily: this.config.remoteFimTemplate,
      });
      return watchModels(server, (now, before) => this.modelChanged(server.host, now, before));
    })();
    this.server.catch(() => (this.server = null)); // a fixed setting is read again next time
    return this.server;
  }

  /** The server answered with another model than before: say so once per change, with what to check. */
  private modelChanged(host: string, now: string, before: string): void {
    const test = vscode.l10n.t('Test Server Connection');
    void vscode.window
      .showWarningMessage(
        vscode.l10n.t(
          'Glassbox: {0} now answers with the model "{1}" (before: "{2}"). Suggestions are asked for in the fill-in-the-middle format of glassbox.remote.model (or glassbox.remote.fimTemplate), and the costs view prices by it: check they fit the new model.',
          host,
          now,
          before,
        ),
        test,
        vscode.l10n.t('Open Settings'),
      )
      .then((c) => {
        if (c === test) void vscode.commands.executeCommand('glassbox.testConnection');
        else if (c) void vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox.remote');
      });
  }

  /** Whether a 429 asked Glassbox to wait; automatic completions then ask nothing. */
  get rateLimited(): boolean {
    return Date.now() < this.blockedUntil;
  }

  /** Notes a 429's Retry-After (default 10 s) so that keystrokes do not hammer the server. */
  noteError(err: unknown): void {
    if (err instanceof RemoteError && err.code === 'RATE_LIMITED')
      this.blockedUntil = Date.now() + 1000 * (err.retryAfterS ?? 10);
  }

  /** "Glassbox: Set API Key": for the configured endpoint's origin, or clears it when left empty. */
  async setApiKey(): Promise<void> {
    const kind = this.kind ?? 'openai';
    let origin: string;
    let base: URL;
    try {
      base = parseEndpoint(this.config.endpoint, kind);
      origin = base.origin;
    } catch (err) {
      showServerError(err);
      return;
    }
    const key = await vscode.window.showInputBox({
      title: vscode.l10n.t('API key for {0}', origin),
      prompt: vscode.l10n.t(
        'Kept in VS Code\'s secret storage and sent only to this server, as "Authorization: Bearer". Leave empty to remove it.',
      ),
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    if (key.trim() === '') {
      await this.secrets.delete(KEY_PREFIX + origin);
      void vscode.window.showInformationMessage(vscode.l10n.t('Glassbox: the API key for {0} was removed.', origin));
      return;
    }
    if (/\s/.test(key.trim())) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('Glassbox: the key has a space or line break in it. Paste the key alone.'),
      );
      return;
    }
    if (keyInTheClear(base)) {
      const saveAnyway = vscode.l10n.t('Save Anyway');
      const go = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          '{0} is plain http on another machine: the key would cross the network unencrypted with every request. Use an https:// endpoint if the server has one.',
          origin,
        ),
        { modal: true },
        saveAnyway,
      );
      if (go !== saveAnyway) return;
    }
    await this.secrets.store(KEY_PREFIX + origin, key.trim());
    void vscode.window.showInformationMessage(vscode.l10n.t('Glassbox: API key saved for {0}.', origin));
  }

  /** "Glassbox: Test Server Connection": reachability, the model, its facts, and a first completion's latency. */
  async testConnection(): Promise<void> {
    if (!this.kind) {
      const c = await vscode.window.showInformationMessage(
        vscode.l10n.t(
          'Glassbox runs the embedded model: there is no server to test. Set glassbox.backend and glassbox.endpoint to use one.',
        ),
        vscode.l10n.t('Open Settings'),
      );
      if (c) void vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox.backend');
      return;
    }
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Glassbox: testing {0}…', this.kind),
        cancellable: true,
      },
      async (_p, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        try {
          const server = await this.client();
          const info = await server.info(controller.signal);
          const start = performance.now();
          const r = await server.complete(
            { prefix: 'def add(a, b):\n    return ', suffix: '\n', maxTokens: 8 },
            { signal: controller.signal },
          );
          const ms = performance.now() - start;
          const facts = info.facts.map(([k, v]) => `${k}: ${v}`).join(', ');
          const fim =
            r.fim === 'raw'
              ? vscode.l10n.t("a raw prompt in the model's FIM tokens")
              : r.fim === 'infill'
                ? '/infill'
                : vscode.l10n.t('the suffix field');
          void vscode.window.showInformationMessage(
            vscode.l10n.t(
              'Glassbox: {0} answered. Model {1}. A completion took {2} ms (first token {3} ms), fill-in-the-middle by {4}: "{5}".',
              server.host,
              `${r.model || info.name}${facts ? ` (${facts})` : ''}`,
              ms.toFixed(0),
              r.timings.firstTokenMs.toFixed(0),
              fim,
              r.text.split('\n')[0],
            ),
          );
        } catch (err) {
          if (!controller.signal.aborted) showServerError(err);
        }
      },
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** A server setting or the server failed: the message, and the way to the endpoint setting. */
function showServerError(err: unknown): void {
  const openSettings = vscode.l10n.t('Open Settings');
  void vscode.window
    .showErrorMessage(vscode.l10n.t('Glassbox: {0}', (err as Error).message), openSettings)
    .then((c) => {
      if (c === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox.endpoint');
    });
}
