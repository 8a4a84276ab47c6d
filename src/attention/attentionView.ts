/**
 * The side panel's "Attention" view (a WebviewView next to "Model"). After each completion or
 * explanation (BackendRouter.onDidServe) — only while the view is visible, debounced — it captures
 * attention on the prompt plus the generated tokens, on the worker's separate capture session.
 * "Show Attention for Selection" captures the selected code. The webview keeps its UI state;
 * the host re-sends the capture whenever the webview (re)loads. Nothing of the code is saved in
 * the webview's state, so after a window reload the view waits for the next completion.
 */
import * as vscode from 'vscode';
import { type AttentionCapture, type TokenProvenance, GlassboxError, isCancellation } from '../engine';
import type { BackendRouter, ServedRequest } from '../backends/router';
import { saveExport, WebviewChannel } from '../webviewHost/webviewChannel';
import { isViewToHost, type AttentionSource, type HostToView, type ViewToHost } from '../../webview/attention/protocol';
import { DependenceSection } from './dependenceSection';
import { EditorTint } from './editorTint';
import { SpanTint } from './spanTint';
import { mapBySearch, mapFromStart, type TokenRange } from './sourceMap';
import { linesData, queryData, summarize } from './viewData';

export const ATTENTION_VIEW_ID = 'glassbox.attention';
const SERVE_DEBOUNCE_MS = 400;

interface Source {
  kind: AttentionSource;
  title: string;
  prompt: string | number[];
  generated: number[];
  /** The document the prompt came from: the anchor is the cursor or selection start. */
  doc?: { uri: vscode.Uri; anchor: number; exactStart?: number };
  /** A completion's per-token provenance (model or copy cache). */
  provenance?: TokenProvenance[];
}

export class AttentionView implements vscode.WebviewViewProvider, vscode.Disposable {
  static current: AttentionView | undefined;

  private view: vscode.WebviewView | undefined;
  private channel: WebviewChannel<HostToView, ViewToHost> | undefined;
  private capture: AttentionCapture | null = null;
  private captureId = 0;
  private source: Source | null = null;
  private ranges: TokenRange[] = [];
  private pendingServe: { served: ServedRequest; doc?: Source['doc'] } | null = null;
  private running: AbortController | null = null;
  private runningSource: Source | null = null;
  /** A capture stopped for a completion, run again once the engine is idle (unless a newer request replaces it). */
  private deferred: Source | null = null;
  private timer: NodeJS.Timeout | undefined;
  private problem: HostToView | null = null;
  private readonly tint: EditorTint;
  /** "What it depended on": the last suggestion's spans ranked, on request. */
  private readonly depend: DependenceSection;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: BackendRouter,
    state: vscode.Memento,
  ) {
    AttentionView.current = this;
    this.tint = new EditorTint(state);
    const spanTint = new SpanTint(() => this.tint.enabled);
    this.depend = new DependenceSection(host, spanTint, (s) => this.post({ type: 'depend', state: s }));
    this.disposables.push(
      this.tint,
      spanTint,
      this.depend,
      host.onDidServe((served) => {
        this.depend.onServed(served, vscode.window.activeTextEditor);
        // a server's answer has no token ids here, and its attention stays on the server
        if (!served.capabilities.tokens) return;
        this.pendingServe = { served, doc: cursorOf(vscode.window.activeTextEditor) };
        this.deferred = null;
        if (this.view?.visible) this.schedule();
      }),
      host.onDidChangeState((s) => {
        if (s.kind === 'generating') this.yieldToCompletion();
        else if (s.kind === 'ready' && this.view?.visible && this.pendingServe) this.schedule();
        else if (s.kind === 'ready' && this.view?.visible && this.deferred && !this.running)
          void this.run(this.deferred);
        else if (!this.capture && !this.running) this.postStatus();
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.channel?.dispose();
    const channel = new WebviewChannel<HostToView, ViewToHost>(view.webview, {
      extensionUri: this.extensionUri,
      view: 'attention',
      title: 'Glassbox: Attention',
      accepts: isViewToHost,
      onMessage: (m) => void this.onMessage(m),
    });
    this.channel = channel;
    view.onDidChangeVisibility(() => view.visible && this.pendingServe && this.schedule(), null, this.disposables);
    view.onDidDispose(
      () => {
        channel.dispose();
        if (this.channel === channel) [this.view, this.channel] = [undefined, undefined];
      },
      null,
      this.disposables,
    );
  }

  /** Shows the view (VS Code's generated `<id>.focus` command). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${ATTENTION_VIEW_ID}.focus`);
  }

  /** "Show Attention for Selection": the selected code, or the current line when nothing is selected. */
  async showForSelection(editor: vscode.TextEditor | undefined): Promise<void> {
    await this.reveal();
    if (!editor) {
      void vscode.window.showInformationMessage('Glassbox: open a file and select some code to see its attention.');
      return;
    }
    const doc = editor.document;
    const range = editor.selection.isEmpty ? doc.lineAt(editor.selection.active.line).range : editor.selection;
    const text = doc.getText(range);
    if (!text.trim()) {
      void vscode.window.showInformationMessage('Glassbox: the selection is empty.');
      return;
    }
    const start = doc.offsetAt(range.start);
    const name = vscode.workspace.asRelativePath(doc.uri);
    await this.run({
      kind: 'selection',
      title: `Selection in ${name}:${range.start.line + 1}–${range.end.line + 1}`,
      prompt: text,
      generated: [],
      doc: { uri: doc.uri, anchor: start, exactStart: start },
    });
  }

  async toggleTint(): Promise<void> {
    await this.tint.setEnabled(!this.tint.enabled);
    this.post({ type: 'tint', enabled: this.tint.enabled });
    this.depend.refreshTint();
    void vscode.window.setStatusBarMessage(`Glassbox attention tint ${this.tint.enabled ? 'on' : 'off'}`, 2000);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.running?.abort();
    if (AttentionView.current === this) AttentionView.current = undefined;
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }

  /**
   * A completion or explanation started: a capture of an earlier request would compete with it
   * for the cores, so it stops (the request's own onDidServe schedules a fresh one). A capture the
   * user asked for (a selection) keeps going.
   */
  private yieldToCompletion(): void {
    clearTimeout(this.timer);
    if (this.running && this.runningSource?.kind !== 'selection') {
      this.deferred = this.runningSource;
      this.running.abort();
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const p = this.pendingServe;
      this.pendingServe = null;
      if (p) void this.run(sourceOfServed(p.served, p.doc));
    }, SERVE_DEBOUNCE_MS);
  }

  private async run(source: Source, queries?: number[]): Promise<void> {
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    this.runningSource = source;
    const tokens = Array.isArray(source.prompt) ? source.prompt.length + source.generated.length : undefined;
    this.post({
      type: 'status',
      status: this.host.info ? 'capturing' : 'loading',
      message: this.host.info ? `Recording attention${tokens ? ` for ${tokens} tokens` : ''}…` : 'Loading the model…',
    });
    try {
      const capture = await this.host.captureAttention(
        { prompt: source.prompt, generated: source.generated, queries },
        { signal: controller.signal },
      );
      this.capture = capture;
      this.source = source;
      this.deferred = null;
      this.captureId++;
      this.problem = null;
      this.ranges = this.mapTokens(capture, source);
      this.tint.clear();
      this.postCapture();
    } catch (err) {
      if (isCancellation(err)) return;
      const unsupported = err instanceof GlassboxError && err.code === 'GRAPH_UNSUPPORTED';
      this.problem = { type: 'error', message: err instanceof Error ? err.message : String(err), unsupported };
      this.post(this.problem);
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  private async onMessage(msg: ViewToHost): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.post({ type: 'tint', enabled: this.tint.enabled });
        this.post({ type: 'depend', state: this.depend.state() });
        if (this.capture) this.postCapture();
        else if (this.problem) this.post(this.problem);
        else this.postStatus();
        if (this.pendingServe && this.view?.visible) this.schedule();
        return;
      case 'select':
        return this.select(msg.captureId, msg.position, msg.pin, msg.rollout);
      case 'lines':
        if (this.capture && msg.captureId === this.captureId) {
          this.post({
            type: 'lines',
            data: linesData(this.capture, this.captureId, msg.layer, msg.head, msg.start, msg.end, msg.threshold),
          });
        }
        return;
      case 'heat':
        if (msg.captureId === this.captureId) this.tintEditor(msg.position, msg.weights, msg.what);
        return;
      case 'export':
        return msg.format === 'png'
          ? this.save('png', Buffer.from(msg.dataUrl.slice(msg.dataUrl.indexOf(',') + 1), 'base64'))
          : this.save('json', Buffer.from(msg.json, 'utf8'));
      case 'run':
        await vscode.commands.executeCommand(msg.command);
        return;
      case 'openSource':
        return this.tint.showSource(msg.path, msg.line);
      case 'depend':
        return this.depend.run();
      case 'dependCancel':
        return this.depend.cancel();
      case 'dependOpen':
        return this.depend.open(msg.runId, msg.span);
      case 'dependExport':
        return this.depend.export(msg.format, msg.text);
    }
  }

  private select(captureId: number, position: number, pin: boolean, rollout: boolean): void {
    const c = this.capture;
    if (!c || captureId !== this.captureId || position < 0 || position >= c.seqLen) return;
    const data = queryData(c, this.captureId, position, rollout);
    if (data) {
      this.post({ type: 'query', data });
      return;
    }
    // Over the memory budget only selected rows were kept: a click records this one too.
    if (pin && this.source) {
      const ids = c.ids;
      const keep = [...c.queries, position].slice(-64);
      void this.run(
        { ...this.source, prompt: ids.slice(0, c.generatedFrom), generated: ids.slice(c.generatedFrom) },
        keep,
      );
    }
  }

  private postCapture(): void {
    const c = this.capture!;
    const s = this.source!;
    this.post({ type: 'capture', capture: summarize(c, this.captureId, s.kind, s.title, s.provenance) });
  }

  private postStatus(): void {
    const s = this.host.state;
    if (s.kind === 'error') {
      this.post({ type: 'error', message: `The model failed to load: ${s.message}`, unsupported: false });
    } else if (!this.host.info && !this.host.backend.capabilities.tokens) {
      this.post({
        type: 'status',
        status: 'noModel',
        message: `Completions run on the ${this.host.backend.kind} server, whose attention stays there. Select code and run "Show Attention for Selection" to record it with the embedded model on this machine, or switch back with "Glassbox: Select Model".`,
      });
    } else if (!this.host.info) {
      this.post(
        s.kind === 'loading'
          ? { type: 'status', status: 'loading', message: 'Loading the model…' }
          : {
              type: 'status',
              status: 'noModel',
              message:
                'No model has loaded yet. It loads with the first completion; or select code and run "Show Attention for Selection".',
            },
      );
    } else {
      this.post({
        type: 'status',
        status: 'waiting',
        message: 'Trigger a completion or run Explain, or select code and run "Show Attention for Selection".',
      });
    }
  }

  private mapTokens(c: AttentionCapture, s: Source): TokenRange[] {
    const doc = s.doc && vscode.workspace.textDocuments.find((d) => d.uri.toString() === s.doc!.uri.toString());
    if (!doc || !s.doc) return [];
    const text = doc.getText();
    if (s.doc.exactStart !== undefined && c.cut === 0)
      return (
        mapFromStart(c.pieces, text, s.doc.exactStart) ??
        mapBySearch(c.pieces, c.special, text, s.doc.anchor, c.generatedFrom)
      );
    return mapBySearch(c.pieces, c.special, text, s.doc.anchor, c.generatedFrom);
  }

  private tintEditor(position: number, weights: Float32Array, what: string): void {
    const uri = this.source?.doc?.uri.toString();
    const editor = uri ? vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri) : undefined;
    if (editor && this.ranges.length > 0) this.tint.apply(editor, this.ranges, weights, position, what);
  }

  private async save(ext: 'png' | 'json', data: Uint8Array): Promise<void> {
    await saveExport({
      title: 'Export attention',
      name: `glassbox-attention.${ext}`,
      filters: ext === 'png' ? { 'PNG image': ['png'] } : { JSON: ['json'] },
      bytes: () => data,
    });
  }

  private post(msg: HostToView): void {
    this.channel?.post(msg);
  }
}

function cursorOf(editor: vscode.TextEditor | undefined): Source['doc'] {
  return editor ? { uri: editor.document.uri, anchor: editor.document.offsetAt(editor.selection.active) } : undefined;
}

function sourceOfServed(r: ServedRequest, doc: Source['doc']): Source {
  const time = new Date().toLocaleTimeString();
  const prompt = r.result.promptText;
  const n = r.result.tokens.length;
  // every token the model generated; the ghost text may be a part (the line rule and the guards cut it)
  const shown = r.kind === 'completion' ? `; the ghost text: ${JSON.stringify(clip(r.result.text, 40))}` : '';
  return {
    kind: r.kind,
    title: `${r.kind === 'completion' ? 'Completion' : 'Explanation'} at ${time} (${n} generated${shown})`,
    prompt,
    generated: r.result.tokens,
    doc,
    provenance: 'provenance' in r.result ? r.result.provenance : undefined,
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
