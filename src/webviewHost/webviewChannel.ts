/**
 * One typed channel between a host and its webview, for every Glassbox panel and view: it sets the
 * HTML shell (webviewHtml.ts) and options, checks each incoming message with the view's protocol
 * guard before anything acts on it, holds messages posted before the webview said `ready` (each
 * load of the page says it again, when a hidden panel is shown), and disposes its listeners.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { webviewHtml, webviewOptions } from './webviewHtml';

interface ChannelOptions<ViewToHost extends { type: string }> {
  extensionUri: vscode.Uri;
  /** The bundle, webview/<view>/main.ts. */
  view: string;
  title: string;
  /** The view's protocol guard: messages that fail it are dropped. */
  accepts: (x: unknown) => x is ViewToHost;
  /** Every checked message, `ready` included (after the queue went out). */
  onMessage: (msg: ViewToHost) => void;
}

export class WebviewChannel<HostToView, ViewToHost extends { type: string }> implements vscode.Disposable {
  private ready = false;
  private queue: HostToView[] = [];
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly webview: vscode.Webview,
    o: ChannelOptions<ViewToHost>,
  ) {
    webview.options = webviewOptions(o.extensionUri);
    webview.html = webviewHtml(webview, o.extensionUri, o.view, o.title);
    this.subscription = webview.onDidReceiveMessage((raw: unknown) => {
      if (!o.accepts(raw)) return;
      if (raw.type === 'ready') {
        this.ready = true;
        const queued = this.queue;
        this.queue = [];
        for (const m of queued) void this.webview.postMessage(m);
      }
      o.onMessage(raw);
    });
  }

  /** Whether the page has said `ready` at least once. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Sends now, or once the page is ready. */
  post(msg: HostToView): void {
    if (this.ready) void this.webview.postMessage(msg);
    else this.queue.push(msg);
  }

  dispose(): void {
    this.subscription.dispose();
    this.queue = [];
  }
}

/**
 * Asks where to save an export and writes it: one dialog for every view's PNG, SVG and JSON.
 * Returns the file, or undefined when the user cancelled.
 */
export async function saveExport(o: {
  title: string;
  name: string;
  filters: Record<string, string[]>;
  bytes: (uri: vscode.Uri) => Uint8Array;
  announce?: boolean;
}): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const uri = await vscode.window.showSaveDialog({
    title: o.title,
    defaultUri: vscode.Uri.joinPath(folder, o.name),
    filters: o.filters,
  });
  if (!uri) return undefined;
  await vscode.workspace.fs.writeFile(uri, o.bytes(uri));
  if (o.announce !== false)
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Glassbox: saved {0}', vscode.workspace.asRelativePath(uri)),
    );
  return uri;
}
