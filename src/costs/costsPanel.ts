/**
 * The Costs panel's host side (one panel at a time: singletonPanel.ts). It sends the webview a
 * complete report and rebuilds it when the ledger, the prices, the cost settings or the what-if
 * inputs change.
 */
import * as vscode from 'vscode';
import { Config } from '../config';
import { PanelSlot } from '../webviewHost/panelSlot';
import { createPanel, SingletonPanel, type PanelKind } from '../webviewHost/singletonPanel';
import { isViewToHost, type HostToView, type ScaleInputs, type ViewToHost } from '../../webview/costs/protocol';
import type { Costs } from './costs';

export const COSTS_VIEW_TYPE = 'glassbox.costs';

const KIND: PanelKind<ViewToHost> = {
  viewType: COSTS_VIEW_TYPE,
  view: 'costs',
  get title() {
    return vscode.l10n.t('Glassbox: Costs');
  },
  accepts: isViewToHost,
};
const slot = new PanelSlot<CostsPanel>();

export class CostsPanel extends SingletonPanel<HostToView, ViewToHost> {
  static get currentPanel(): CostsPanel | undefined {
    return slot.current;
  }

  private inputs: ScaleInputs | undefined;
  /** A refresh asked for while one runs: one more follows it. */
  private refreshing: Promise<void> | null = null;
  private again = false;

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly costs: Costs,
  ) {
    super(panel, slot, KIND, extensionUri);
    panel.onDidChangeViewState(() => panel.visible && this.refresh(), null, this.disposables);
    costs.onDidChange(() => this.refresh(), null, this.disposables);
    Config.onDidChange('costs')(() => this.refresh(), null, this.disposables);
  }

  static createOrShow(extensionUri: vscode.Uri, costs: Costs): CostsPanel {
    return slot.show(() => new CostsPanel(createPanel(KIND, extensionUri), extensionUri, costs));
  }

  /** Restores a panel VS Code kept across a window reload; the webview sends its inputs after `ready`. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, costs: Costs): void {
    slot.adopt(new CostsPanel(panel, extensionUri, costs));
  }

  protected override onMessage(msg: ViewToHost): void {
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
}
