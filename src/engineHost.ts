/**
 * The extension's handle on the engine worker: loads the model lazily on first use, tracks its
 * state for the status bar, reports a load failure once (with actions), and announces every
 * request it served (for the usage ledger and the explorers).
 */
import { cappedExplain } from './remote/cappedExplain';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EMBEDDED_MODEL } from './engine/embedded';
import { GlassboxError } from './engine/errors';
import type { CompletionResult, ExplainResult, ModelInfo } from './engine/engine';
import { EngineClient, type CallOptions } from './engine/worker/client';
import type { Params, Result } from './engine/worker/protocol';
import type { Config } from './config';
import type { CompletionRequest } from './engine/completion';
import { chatExplainInstruction } from './engine/prompts';
import type { BackendKind } from './remote/endpoint';
import { remoteComplete, unaskedCompletion } from './remote/remoteCompletion';
import type { RemoteHost } from './remoteHost';

export type EngineState =
  | { kind: 'idle' } // nothing loaded yet: the model loads on first use
  | { kind: 'loading' }
  | { kind: 'ready' }
  | { kind: 'generating' }
  | { kind: 'error'; message: string };

export interface ServedRequest {
  /** Unique across sessions (ties an accepted completion to its request in the usage ledger). */
  id: string;
  kind: 'completion' | 'explain';
  model: string;
  /** Where it ran: the embedded engine, or a model server (whose results have no token ids or attention). */
  backend: 'embedded' | BackendKind;
  result: CompletionResult | ExplainResult;
  /** Wall time from request to result, ms (includes queueing and worker transfer). */
  latencyMs: number;
}

export class EngineHost implements vscode.Disposable {
  private client: EngineClient | null = null;
  private loading: Promise<ModelInfo> | null = null;
  private active = 0;
  private stateValue: EngineState = { kind: 'idle' };
  private infoValue: ModelInfo | null = null;
  private readonly stateEmitter = new vscode.EventEmitter<EngineState>();
  private readonly servedEmitter = new vscode.EventEmitter<ServedRequest>();
  private servedCount = 0;
  private readonly session = Date.now().toString(36);
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires after each completion or explanation the model produced. */
  readonly onDidServe = this.servedEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    readonly remote: RemoteHost,
  ) {}

  /** The model that serves requests now: the loaded one, or the server's as configured. */
  get modelName(): string {
    return this.remote.kind ? this.remote.label : (this.infoValue?.name ?? 'model');
  }

  get state(): EngineState {
    return this.stateValue;
  }

  get info(): ModelInfo | null {
    return this.infoValue;
  }

  /** The folder of the model to load: the setting, or the embedded model. */
  modelDir(): string {
    const p = this.config.modelPath;
    if (!p) return this.context.asAbsolutePath(path.join('models', EMBEDDED_MODEL));
    return path.isAbsolute(p) ? p : path.resolve(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', p);
  }

  /**
   * Loads the model if needed; concurrent callers share one load. After a failed load it does not
   * retry by itself (that would re-fail on every keystroke); `reload` does, after a change.
   */
  ensureLoaded(): Promise<ModelInfo> {
    if (this.infoValue) return Promise.resolve(this.infoValue);
    if (this.stateValue.kind === 'error')
      return Promise.reject(new GlassboxError('NOT_LOADED', this.stateValue.message));
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  /** Drops the current model and loads the configured one (after a settings change or a pick). */
  async reload(): Promise<ModelInfo> {
    this.infoValue = null;
    this.setState({ kind: 'idle' });
    return this.ensureLoaded();
  }

  async complete(
    params: Params<'complete'>,
    opts: CallOptions = {},
  ): Promise<CompletionResult & { requestId: string }> {
    if (this.remote.kind) {
      if (this.remote.rateLimited) return { ...unaskedCompletion(params as CompletionRequest), requestId: '' };
      return this.serveRemote('completion', async () =>
        remoteComplete(await this.remote.client(), params as CompletionRequest, opts.signal),
      );
    }
    return this.serve('completion', () => this.worker().call('complete', params, opts));
  }

  async explain(params: Params<'explain'>, opts: CallOptions = {}): Promise<ExplainResult & { requestId: string }> {
    if (this.remote.kind) return this.serveRemote('explain', () => this.remoteExplain(params, opts));
    return this.serve('explain', () => this.worker().call('explain', params, opts));
  }

  /** Explain on the server: chat, streamed; log-probabilities only where the server sends them (else NaN). */
  private async remoteExplain(params: Params<'explain'>, opts: CallOptions): Promise<ExplainResult> {
    const server = await this.remote.client();
    const req = { code: params.code, language: params.language, template: params.template };
    const r = await cappedExplain(
      server,
      { ...req, maxTokens: params.maxNewTokens ?? this.config.explainMaxTokens },
      {
        signal: opts.signal,
        onToken: (t) => opts.onToken?.({ id: -1, text: t.text, logprob: t.logprob ?? NaN, top: [] }),
      },
    );
    return {
      text: r.text,
      tokens: [],
      logprobs: r.tokens.map((t) => t.logprob ?? NaN),
      steps: [],
      stopReason: r.stopReason === 'length' ? 'max_tokens' : 'eos',
      timings: {
        prefillMs: r.timings.firstTokenMs,
        decodeMs: r.timings.totalMs - r.timings.firstTokenMs,
        promptTokens: r.usage?.promptTokens ?? 0,
        reusedTokens: 0,
        generatedTokens: r.usage?.completionTokens ?? r.tokens.length,
        stages: {}, // a server's stages are its own
      },
      style: 'chat',
      promptText: chatExplainInstruction(req),
    };
  }

  /** Runs a request on the model server; a 429 is remembered so that keystrokes do not ask again. */
  private serveRemote<T extends CompletionResult | ExplainResult>(
    kind: ServedRequest['kind'],
    call: () => Promise<T>,
  ): Promise<T & { requestId: string }> {
    return this.served(kind, this.remote.kind!, this.modelName, () =>
      call().catch((err: unknown) => {
        this.remote.noteError(err);
        throw err;
      }),
    );
  }

  /** Attention capture on the worker's separate session: not a served request (no onDidServe, no state change). */
  /** The selected code's surprisal under the loaded model (Explain's "What the model did not expect"). */
  async surprisal(params: Params<'surprisal'>, opts: CallOptions = {}): Promise<Result<'surprisal'>> {
    await this.ensureLoaded();
    return this.worker().call('surprisal', params, opts);
  }

  async captureAttention(
    params: Params<'captureAttention'>,
    opts: CallOptions = {},
  ): Promise<Result<'captureAttention'>> {
    await this.ensureLoaded();
    return this.worker().call('captureAttention', params, opts);
  }

  dispose(): void {
    void this.client?.dispose();
    this.stateEmitter.dispose();
    this.servedEmitter.dispose();
  }

  private worker(): EngineClient {
    this.client ??= new EngineClient({
      workerPath: this.context.asAbsolutePath(path.join('dist', 'engineWorker.js')),
      // The client restarts the worker and reloads the model on the next request.
      onCrash: () => this.setState({ kind: 'loading' }),
    });
    return this.client;
  }

  private async load(): Promise<ModelInfo> {
    this.setState({ kind: 'loading' });
    try {
      const info = await this.worker().load({
        modelDir: this.modelDir(),
        onnxFile: this.config.modelFile,
        threads: this.config.threads,
        // Optimized graphs are per machine and runtime: global storage, not the model folder (which may be read-only).
        graphCacheDir: path.join(this.context.globalStorageUri.fsPath, 'graph-cache'),
      });
      this.infoValue = info;
      this.setState({ kind: 'ready' });
      return info;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setState({ kind: 'error', message });
      void this.reportLoadFailure(message);
      throw err;
    }
  }

  /** Runs a request on the embedded engine, loading the model first. */
  private async serve<T extends CompletionResult | ExplainResult>(
    kind: ServedRequest['kind'],
    call: () => Promise<T>,
  ): Promise<T & { requestId: string }> {
    const info = await this.ensureLoaded();
    return this.served(kind, 'embedded', info.name, call);
  }

  /** Runs a request: 'generating' for the status bar meanwhile, and `onDidServe` with the id its result carries. */
  private async served<T extends CompletionResult | ExplainResult>(
    kind: ServedRequest['kind'],
    backend: ServedRequest['backend'],
    model: string,
    call: () => Promise<T>,
  ): Promise<T & { requestId: string }> {
    const start = performance.now();
    this.active++;
    this.setState({ kind: 'generating' });
    try {
      const result = await call();
      const id = `${this.session}-${++this.servedCount}`;
      this.servedEmitter.fire({ id, kind, model, backend, result, latencyMs: performance.now() - start });
      return { ...result, requestId: id };
    } finally {
      if (--this.active === 0 && this.stateValue.kind === 'generating') this.setState({ kind: 'ready' });
    }
  }

  private setState(state: EngineState): void {
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }

  /** One notification per failure, with the two ways out. */
  private async reportLoadFailure(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      `Glassbox could not load the model: ${message}`,
      'Select Model',
      'Open Settings',
    );
    if (choice === 'Select Model') await vscode.commands.executeCommand('glassbox.selectModel');
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox');
  }
}
