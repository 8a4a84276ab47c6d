/**
 * Activation wires adapters to the engine host and does no model work: the worker starts and
 * the model loads on first use. Errors here are shown, then rethrown (VS Code shows nothing when
 * an extension fails to activate).
 */
import * as vscode from 'vscode';
import { ATTENTION_VIEW_ID, AttentionView } from './attention/attentionView';
import { registerCommands } from './commands';
import { GlassboxCompletionProvider } from './completion/provider';
import { completionSelector } from './completion/selector';
import { Snooze } from './completion/snooze';
import { WorkspaceContext } from './completion/workspaceContext';
import { Config } from './config';
import { Costs } from './costs/costs';
import { COSTS_VIEW_TYPE, CostsPanel } from './costs/costsPanel';
import { RemoteHost } from './remoteHost';
import { BackendRouter } from './backends/router';
import { EXPLAIN_VIEW_TYPE, ExplainPanel } from './explain/explainPanel';
import { ARCHITECTURE_VIEW_TYPE, ArchitecturePanel } from './architecture/architecturePanel';
import { SIDEBAR_VIEW_ID, SidebarView } from './sidebar/sidebarView';
import { webviewOptions } from './webviewHost/webviewHtml';
import { StatusBar } from './statusBar';

/** What activate() returns: used by the integration tests (and open to other extensions). */
export interface GlassboxApi {
  engine: BackendRouter;
  provider: GlassboxCompletionProvider;
  costs: Costs;
}

export function activate(context: vscode.ExtensionContext): GlassboxApi {
  const start = performance.now();
  try {
    const log = vscode.window.createOutputChannel('Glassbox', { log: true });
    const config = new Config((message) => {
      log.warn(message);
      void vscode.window.showWarningMessage(vscode.l10n.t('Glassbox: {0}', message));
    });
    const remote = new RemoteHost(context.secrets, config);
    const host = new BackendRouter(context, config, remote);
    const workspace = new WorkspaceContext(context.extensionUri, () => config.workspaceContext);
    const snooze = new Snooze();
    const provider = new GlassboxCompletionProvider(host, config, workspace, snooze);
    const sidebar = new SidebarView(context.extensionUri, host, config);
    const attention = new AttentionView(context.extensionUri, host, context.globalState);
    const costs = new Costs(context, host, config, log);
    context.subscriptions.push(
      log,
      { dispose: () => Config.disposeEvents() }, // the one settings listener
      remote,
      host,
      workspace,
      snooze,
      provider,
      sidebar,
      new StatusBar(host, config, snooze),
      vscode.languages.registerInlineCompletionItemProvider(completionSelector(), provider),
      vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW_ID, sidebar),
      attention,
      vscode.window.registerWebviewViewProvider(ATTENTION_VIEW_ID, attention),
      vscode.window.registerWebviewPanelSerializer(EXPLAIN_VIEW_TYPE, {
        async deserializeWebviewPanel(panel) {
          panel.webview.options = webviewOptions(context.extensionUri);
          ExplainPanel.revive(panel, context.extensionUri, host);
        },
      }),
      costs,
      vscode.window.registerWebviewPanelSerializer(COSTS_VIEW_TYPE, {
        async deserializeWebviewPanel(panel) {
          CostsPanel.revive(panel, context.extensionUri, costs);
        },
      }),
      ArchitecturePanel.register(context, host),
      vscode.window.registerWebviewPanelSerializer(ARCHITECTURE_VIEW_TYPE, {
        async deserializeWebviewPanel(panel) {
          ArchitecturePanel.revive(panel, context.extensionUri, host, config);
        },
      }),
      ...registerCommands({ extension: context, host, config, costs, snooze }),
      reloadOnSettingsChange(host, log),
      host.onDidChangeState((s) => s.kind === 'error' && log.error(s.message)),
      host.onDidServe((r) =>
        log.debug(`${r.kind}: ${Math.round(r.latencyMs)} ms, ${r.result.timings.generatedTokens} tokens`),
      ),
    );
    log.info(`Glassbox activated in ${(performance.now() - start).toFixed(1)} ms; the model loads on first use.`);
    return { engine: host, provider, costs };
  } catch (err) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('Glassbox failed to start: {0}', err instanceof Error ? err.message : String(err)),
    );
    throw err;
  }
}

export function deactivate(): void {
  // Disposables in context.subscriptions stop the worker.
}

/** A change to the model settings reloads the model (once, even when several settings change). */
function reloadOnSettingsChange(host: BackendRouter, log: vscode.LogOutputChannel): vscode.Disposable {
  let timer: NodeJS.Timeout | undefined;
  const sub = Config.onDidChange('model')(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (host.state.kind === 'idle') return; // not loaded yet: the next use loads the new one
      host.reload().then(
        (info) => log.info(`Loaded ${info.name} in ${info.loadMs.toFixed(0)} ms`),
        () => undefined, // reported by the host
      );
    }, 150);
  });
  return { dispose: () => (clearTimeout(timer), sub.dispose()) };
}
