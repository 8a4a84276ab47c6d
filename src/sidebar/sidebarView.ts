/** The side panel's "Model" view (a WebviewView in Glassbox's activity-bar container). */
import * as vscode from 'vscode';
import { Config } from '../config';
import type { BackendRouter, ServedRequest } from '../backends/router';
import { isViewToHost, type HostToView, type SidebarModel, type ViewToHost } from '../../webview/sidebar/protocol';
import { WebviewChannel } from '../webviewHost/webviewChannel';

export const SIDEBAR_VIEW_ID = 'glassbox.model';

export class SidebarView implements vscode.WebviewViewProvider, vscode.Disposable {
  private channel: WebviewChannel<HostToView, ViewToHost> | undefined;
  private last: ServedRequest | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: BackendRouter,
    private readonly config: Config,
  ) {
    this.disposables.push(
      host.onDidChangeState(() => this.update()),
      host.onDidServe((r) => {
        this.last = r;
        this.update();
      }),
      Config.onDidChange('any')(() => this.update()),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.channel?.dispose();
    const channel = new WebviewChannel<HostToView, ViewToHost>(view.webview, {
      extensionUri: this.extensionUri,
      view: 'sidebar',
      title: 'Glassbox',
      accepts: isViewToHost,
      onMessage: (msg) => (msg.type === 'ready' ? this.update() : void vscode.commands.executeCommand(msg.command)),
    });
    this.channel = channel;
    view.onDidDispose(() => {
      channel.dispose();
      if (this.channel === channel) this.channel = undefined;
    });
  }

  dispose(): void {
    this.channel?.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** The latest snapshot (only once the page is ready: each `ready` asks for a fresh one). */
  private update(): void {
    if (this.channel?.isReady) this.channel.post({ type: 'update', model: this.snapshot() });
  }

  private snapshot(): SidebarModel {
    const s = this.host.state;
    const info = this.host.info;
    const t = this.last?.result.timings;
    return {
      model: info?.name ?? (this.config.modelPath ? vscode.l10n.t('Custom model') : vscode.l10n.t('Embedded model')),
      modelDir: info?.dir ?? this.host.modelDir(),
      state: s.kind,
      error: s.kind === 'error' ? s.message : undefined,
      completionsEnabled: this.config.enabled,
      last:
        this.last && t
          ? {
              kind: this.last.kind,
              latencyMs: this.last.latencyMs,
              tokens: t.generatedTokens,
              tokensPerSecond: t.decodeMs > 0 ? (t.generatedTokens / t.decodeMs) * 1000 : 0,
            }
          : undefined,
      details: info
        ? {
            layers: info.numLayers,
            kvHeads: info.kvHeads,
            headDim: info.headDim,
            context: info.contextLength,
            fim: info.fimFamily,
            kv: info.kvType,
          }
        : undefined,
    };
  }
}
