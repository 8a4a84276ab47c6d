/**
 * The embedded engine as a backend: the model in a worker thread on this machine, loaded lazily on
 * first use, its load failure reported once (with the ways out), restarted after a crash. The only
 * backend with token records, surprisal, attention capture and a graph to read.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Config } from '../config';
import {
  EMBEDDED_MODEL,
  type CompletionResult,
  type ExplainResult,
  type ModelInfo,
  GlassboxError,
  EngineClient,
  type CallOptions,
  type Params,
  type Result,
} from '../engine';
import type { Backend, BackendCapabilities, BackendDescription } from './backend';

const CAPABILITIES: BackendCapabilities = { local: true, tokens: true, surprisal: true, graph: true };

/** Where the model is in loading: the router shows it (and 'generating' over it). */
export type LoadState =
  | { kind: 'idle' } // nothing loaded yet: the model loads on first use
  | { kind: 'loading' }
  | { kind: 'ready' }
  | { kind: 'error'; message: string };

export class EmbeddedBackend implements Backend {
  readonly kind = 'embedded';
  readonly capabilities = CAPABILITIES;
  readonly resting = false;
  private client: EngineClient | null = null;
  private loading: Promise<ModelInfo> | null = null;
  private infoValue: ModelInfo | null = null;
  private failed: string | null = null;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly onLoadState: (state: LoadState) => void,
  ) {}

  get label(): string {
    return this.infoValue?.name ?? 'model';
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
    if (this.failed !== null) return Promise.reject(new GlassboxError('NOT_LOADED', this.failed));
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  /** Drops the current model and loads the configured one (after a settings change or a pick). */
  reload(): Promise<ModelInfo> {
    this.infoValue = null;
    this.failed = null;
    this.onLoadState({ kind: 'idle' });
    return this.ensureLoaded();
  }

  async complete(params: Params<'complete'>, opts: CallOptions): Promise<CompletionResult> {
    await this.ensureLoaded();
    return this.worker().call('complete', params, opts);
  }

  async explain(params: Params<'explain'>, opts: CallOptions): Promise<ExplainResult> {
    await this.ensureLoaded();
    return this.worker().call('explain', params, opts);
  }

  async describe(): Promise<BackendDescription> {
    const info = await this.ensureLoaded();
    return { name: info.name, where: 'this machine', facts: [] };
  }

  /** The selected code's surprisal under the loaded model (Explain's "What the model did not expect"). */
  async surprisal(params: Params<'surprisal'>, opts: CallOptions = {}): Promise<Result<'surprisal'>> {
    await this.ensureLoaded();
    return this.worker().call('surprisal', params, opts);
  }

  /** Attention capture on the worker's separate session: not a served request. */
  async captureAttention(
    params: Params<'captureAttention'>,
    opts: CallOptions = {},
  ): Promise<Result<'captureAttention'>> {
    await this.ensureLoaded();
    return this.worker().call('captureAttention', params, opts);
  }

  /** What a finished completion depended on, span by span (streamed through opts.onSpan): not a served request. */
  async dependence(params: Params<'dependence'>, opts: CallOptions = {}): Promise<Result<'dependence'>> {
    await this.ensureLoaded();
    return this.worker().call('dependence', params, opts);
  }

  dispose(): void {
    void this.client?.dispose();
  }

  private worker(): EngineClient {
    this.client ??= new EngineClient({
      workerPath: this.context.asAbsolutePath(path.join('dist', 'engineWorker.js')),
      // The client restarts the worker and reloads the model on the next request.
      onCrash: () => this.onLoadState({ kind: 'loading' }),
    });
    return this.client;
  }

  private async load(): Promise<ModelInfo> {
    this.onLoadState({ kind: 'loading' });
    try {
      const info = await this.worker().load({
        modelDir: this.modelDir(),
        onnxFile: this.config.modelFile,
        threads: this.config.threads,
        // Optimized graphs are per machine and runtime: global storage, not the model folder (which may be read-only).
        graphCacheDir: path.join(this.context.globalStorageUri.fsPath, 'graph-cache'),
      });
      this.infoValue = info;
      this.onLoadState({ kind: 'ready' });
      return info;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.failed = message;
      this.onLoadState({ kind: 'error', message });
      void reportLoadFailure(message);
      throw err;
    }
  }
}

/** One notification per failure, with the two ways out. */
async function reportLoadFailure(message: string): Promise<void> {
  const selectModel = vscode.l10n.t('Select Model');
  const openSettings = vscode.l10n.t('Open Settings');
  const choice = await vscode.window.showErrorMessage(
    vscode.l10n.t('Glassbox could not load the model: {0}', message),
    selectModel,
    openSettings,
  );
  if (choice === selectModel) await vscode.commands.executeCommand('glassbox.selectModel');
  if (choice === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', 'glassbox');
}
