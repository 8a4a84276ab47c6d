/**
 * What the Explain, Costs and Architecture panels share (the webview-sample pattern, written
 * once): a panel of one view type at a time (panelSlot.ts), opened with the view's options or
 * revived after a window reload, one typed WebviewChannel, and a dispose list that is emptied,
 * and the slot cleared, when the user closes the panel.
 */
import * as vscode from 'vscode';
import type { PanelSlot } from './panelSlot';
import { WebviewChannel } from './webviewChannel';
import { webviewOptions } from './webviewHtml';

export interface PanelKind<ViewToHost> {
  viewType: string;
  /** The bundle, webview/<view>/main.ts. */
  view: string;
  title: string;
  /** The view's protocol guard: messages that fail it are dropped. */
  accepts: (x: unknown) => x is ViewToHost;
  /**
   * Where the panel opens and where showing it again moves it. Unset: it opens in the active
   * column and is shown again where it is. Explain sets it to stay beside the code it explains,
   * leaving the focus in the editor.
   */
  column?: { viewColumn: vscode.ViewColumn; preserveFocus: boolean };
}

/** A new panel of `kind`. Its page is not kept while hidden: each view redraws from its saved state. */
export function createPanel<V>(kind: PanelKind<V>, extensionUri: vscode.Uri): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(kind.viewType, kind.title, kind.column ?? vscode.ViewColumn.Active, {
    ...webviewOptions(extensionUri),
    retainContextWhenHidden: false,
  });
}

export abstract class SingletonPanel<HostToView, ViewToHost extends { type: string }> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  protected readonly channel: WebviewChannel<HostToView, ViewToHost>;

  protected constructor(
    protected readonly panel: vscode.WebviewPanel,
    private readonly slot: PanelSlot<SingletonPanel<HostToView, ViewToHost>>,
    private readonly kind: PanelKind<ViewToHost>,
    extensionUri: vscode.Uri,
  ) {
    this.channel = new WebviewChannel(panel.webview, {
      extensionUri,
      view: kind.view,
      title: kind.title,
      accepts: kind.accepts,
      onMessage: (m) => this.onMessage(m),
    });
    this.disposables.push(this.channel);
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
  }

  /** Every checked message from the page, `ready` included. */
  protected abstract onMessage(msg: ViewToHost): void;

  /** Brings the panel to the front (the slot calls this when the panel is opened again). */
  reveal(): void {
    const c = this.kind.column;
    if (c) this.panel.reveal(c.viewColumn, c.preserveFocus);
    else this.panel.reveal();
  }

  dispose(): void {
    this.slot.release(this);
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }

  /** Sends now, or once the page is ready. */
  protected post(msg: HostToView): void {
    this.channel.post(msg);
  }
}
