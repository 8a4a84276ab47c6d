/**
 * The Costs panel's host side (webview-sample pattern: one `currentPanel`, createOrShow and
 * revive, disposables). It sends the webview a complete report and rebuilds it when the ledger,
 * the prices, the cost settings or the what-if inputs change.
 */
import * as vscode from 'vscode';
import { Config } from '../config';
import { WebviewChannel } from '../webviews/webviewChannel';
import { webviewOptions } from '../webviews/webviewHtml';
import { isViewToHost, type HostToView, type ScaleInputs, type ViewToHost } from '../../webview/costs/protocol';
import type { Costs } from './costs';

export const COSTS_VIEW_TYPE = 'glassbox.costs';
const TITLE = 'Glassbox: Costs';

export class CostsPanel {
  static currentPanel: CostsPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: WebviewChannel<HostToView, ViewToHost>;
  private inputs: ScaleInputs | undefined;
  /** A refresh asked for while one runs: one more follows it. */
  private refreshing: Promise<void> | null = null;
  private again = false;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly costs: Costs,
  ) {
    this.channel = new WebviewChannel(panel.webview, {
      extensionUri,
      view: 'costs',
      title: TITLE,
      accepts: isViewToHost,
      onMessage: (m) => this.onMessage(m),
    });
    this.disposables.push(this.channel);
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.onDidChangeViewState(() => panel.visible && this.refresh(), null, this.disposables);
    costs.onDidChange(() => this.refresh(), null, this.disposables);
    Config.onDidChange('costs')(() => this.refresh(), null, this.disposables);
  }

  static createOrShow(extensionUri: vscode.Uri, costs: Costs): CostsPanel {
    if (CostsPanel.currentPanel) {
      CostsPanel.currentPanel.panel.reveal();
      return CostsPanel.currentPanel;
    }
    const panel = vscode.window.createWebviewPanel(COSTS_VIEW_TYPE, TITLE, vscode.ViewColumn.Active, {
      ...webviewOptions(extensionUri),
      retainContextWhenHidden: false,
    });
    CostsPanel.currentPanel = new CostsPanel(panel, extensionUri, costs);
    return CostsPanel.currentPanel;
  }

  /** Restores a panel VS Code kept across a window reload; the webview sends its inputs after `ready`. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, costs: Costs): void {
    CostsPanel.currentPanel = new CostsPanel(panel, extensionUri, costs);
  }

  dispose(): void {
    CostsPanel.currentPanel = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }

  private onMessage(msg: ViewToHost): void {
    switch (msg.type) {
      case 'ready':
        void this.refresh();
        break;
      case 'scale':
        this.inputs = msg.inputs;
        void this.refresh();
        break;
      case 'run':
        if (msg.command === 'openSettings')
          void vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox.costs');
        else void vscode.commands.executeCommand(`glassbox.${msg.command}`);
        break;
    }
  }

  /** Rebuilds the report; calls during a rebuild are folded into one more. */
  private refresh(): Promise<void> {
    if (!this.channel.isReady || !this.panel.visible) return Promise.resolve();
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          this.post({ type: 'report', report: await this.costs.report(this.inputs) });
        } catch (err) {
          this.post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        }
      } while (this.again);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private post(msg: HostToView): void {
    this.channel.post(msg);
  }
}
