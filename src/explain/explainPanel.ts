/**
 * The Explain panel's host side (one panel at a time: singletonPanel.ts). It streams the model's
 * tokens in small batches, each with its probability, and stops generation when the user presses
 * Stop or closes the panel.
 */
import * as vscode from 'vscode';
import { isCancellation } from '../engine';
import type { BackendRouter } from '../backends/router';
import { PanelSlot } from '../webviewHost/panelSlot';
import { createPanel, SingletonPanel, type PanelKind } from '../webviewHost/singletonPanel';
import { isViewToHost, type HostToView, type StreamedToken, type ViewToHost } from '../../webview/explain/protocol';

export const EXPLAIN_VIEW_TYPE = 'glassbox.explain';
const BATCH_MS = 30; // tokens are sent to the webview at most this often

const KIND: PanelKind<ViewToHost> = {
  viewType: EXPLAIN_VIEW_TYPE,
  view: 'explain',
  get title() {
    return vscode.l10n.t('Glassbox: Explain');
  },
  accepts: isViewToHost,
  // beside the code it explains, and typing goes on in the editor
  column: { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
};
const slot = new PanelSlot<ExplainPanel>();

export interface ExplainJob {
  code: string;
  language: string;
  /** Where the code came from, e.g. "app.ts:12–30". */
  source: string;
  /** The text before the code in its file (the model reads it before scoring the code's surprisal). */
  context?: string;
}

export class ExplainPanel extends SingletonPanel<HostToView, ViewToHost> {
  static get currentPanel(): ExplainPanel | undefined {
    return slot.current;
  }

  /** How many times the page has loaded (each load after the first needs the transcript again). */
  private loads = 0;
  /**
   * The current explanation's messages, in memory only: the webview keeps no code in its state, so
   * each time it loads (shown again after being hidden) they are replayed to it.
   */
  private transcript: HostToView[] = [];
  private running: AbortController | null = null;

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: BackendRouter,
  ) {
    super(panel, slot, KIND, extensionUri);
  }

  static createOrShow(extensionUri: vscode.Uri, host: BackendRouter): ExplainPanel {
    return slot.show(() => new ExplainPanel(createPanel(KIND, extensionUri), extensionUri, host));
  }

  /** Restores a panel VS Code kept across a window reload; the webview says the explanation was not kept. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, host: BackendRouter): void {
    slot.adopt(new ExplainPanel(panel, extensionUri, host));
  }

  /** Runs one explanation, streaming into the panel. Resolves when it ends (done, stopped or failed). */
  async explain(
    job: ExplainJob,
    opts: { maxNewTokens: number; template?: string; temperature: number },
  ): Promise<void> {
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    this.post({ type: 'start', code: job.code, language: job.language, source: job.source });
    // requests run one at a time in the worker: the surprisal (one forward pass) comes before the first word
    // surprisal needs every token's probability under the model: the embedded engine only
    if (this.host.backend.capabilities.surprisal)
      void this.host.surprisal({ code: job.code, context: job.context }, { signal: controller.signal }).then(
        (surprisal) => this.post({ type: 'surprisal', surprisal }),
        () => undefined, // cancelled or failed: the explanation still comes
      );
    let batch: StreamedToken[] = [];
    let lastFlush = performance.now();
    const flush = () => {
      if (batch.length) this.post({ type: 'tokens', tokens: batch });
      batch = [];
      lastFlush = performance.now();
    };
    try {
      const r = await this.host.explain(
        {
          code: job.code,
          language: job.language,
          maxNewTokens: opts.maxNewTokens,
          template: opts.template,
          temperature: opts.temperature,
        },
        {
          signal: controller.signal,
          onToken: (t) => {
            // A token can show no text yet (half a UTF-8 character); its text comes with a later one.
            // a server that sends no log-probabilities leaves the word uncoloured (NaN): none is made up
            if (t.text)
              batch.push({ text: t.text, prob: Number.isFinite(t.logprob) ? Math.exp(t.logprob) : undefined });
            if (performance.now() - lastFlush > BATCH_MS) flush();
          },
        },
      );
      flush();
      const t = r.timings;
      this.post({
        type: 'done',
        text: r.text,
        details: {
          model: this.host.modelName,
          promptText: r.promptText,
          promptTokens: t.promptTokens,
          generatedTokens: t.generatedTokens,
          prefillMs: t.prefillMs,
          decodeMs: t.decodeMs,
          stopReason: r.stopReason,
        },
      });
    } catch (err) {
      flush();
      this.post(
        isCancellation(err)
          ? { type: 'stopped' }
          : { type: 'error', message: err instanceof Error ? err.message : String(err) },
      );
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  /** Closing the panel stops the generation: nobody is left to read it. */
  override dispose(): void {
    this.running?.abort();
    super.dispose();
  }

  protected override onMessage(msg: ViewToHost): void {
    if (msg.type === 'ready') {
      // the first load got what was posted meanwhile from the channel; a page loaded again gets it all
      if (this.loads++ > 0) for (const m of this.transcript) this.channel.post(m);
    } else if (msg.type === 'stop') {
      this.running?.abort();
    } else if (msg.type === 'selectModel') {
      void vscode.commands.executeCommand('glassbox.selectModel');
    }
  }

  /** Every message joins the transcript, and goes to the page (or waits for it). */
  protected override post(msg: HostToView): void {
    if (msg.type === 'start') this.transcript = [];
    this.transcript.push(msg);
    super.post(msg);
  }
}
