/** The side panel's "Model" view (a WebviewView in Glassbox's activity-bar container). */
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { EngineHost, ServedRequest } from '../engineHost';
import { isViewToHost, type HostToView, type SidebarModel } from '../../webview/sidebar/protocol';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const SIDEBAR_VIEW_ID = 'glassbox.model';

export class SidebarView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private last: ServedRequest | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: EngineHost,
    private readonly config: Config,
  ) {
    this.disposables.push(
      host.onDidChangeState(() => this.update()),
      host.onDidServe((r) => {
        this.last = r;
        this.update();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('glassbox') && this.update()),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'sidebar', 'Glassbox');
    view.webview.onDidReceiveMessage((msg: unknown) => {
      if (!isViewToHost(msg)) return;
      if (msg.type === 'ready') {
        this.ready = true;
        this.update();
      } else void vscode.commands.executeCommand(msg.command);
    });
    view.onDidDispose(() => (this.view = undefined));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private update(): void {
    if (!this.view || !this.ready) return;
    const msg: HostToView = { type: 'update', model: this.snapshot() };
    void this.view.webview.postMessage(msg);
  }

  private snapshot(): SidebarModel {
    const s = this.host.state;
    const info = this.host.info;
    const t = this.last?.result.timings;
    return {
      model: info?.name ?? (this.config.modelPath ? 'Custom model' : 'Embedded model'),
      modelDir: info?.dir ?? this.host.modelDir(),
      state: s.kind,
      error: s.kind === 'error' ? s.message : undefined,
      completionsEnabled: this.config.enabled,
      last: this.last && t ? { kind: this.last.kind, latencyMs: this.last.latencyMs, tokens: t.generatedTokens, tokensPerSecond: t.decodeMs > 0 ? (t.generatedTokens / t.decodeMs) * 1000 : 0 } : undefined,
      details: info ? { layers: info.numLayers, kvHeads: info.kvHeads, headDim: info.headDim, context: info.contextLength, fim: info.fimFamily, kv: info.kvType } : undefined,
    };
  }
}
