/**
 * The extension's one handle on the model: it holds the backend the settings choose (the embedded
 * engine, or a model server), routes completions and explanations to it, tracks the state the
 * status bar shows, and announces every request it served (for the usage ledger and the views).
 * Attention capture and surprisal always run on the embedded engine: they need the model's every
 * token, which only this machine's model gives.
 */
import * as vscode from 'vscode';
import type { Config } from '../config';
import type {
  CompletionResult,
  ExplainResult,
  ModelInfo,
  CallOptions,
  Params,
  Result,
  CompletionRequest,
} from '../engine';
import type { BackendKind } from '../remote/endpoint';
import { unaskedCompletion } from '../remote/remoteCompletion';
import type { RemoteHost } from '../remoteHost';
import type { Backend, BackendCapabilities } from './backend';
import { EmbeddedBackend, type LoadState } from './embedded';
import { ServerBackend } from './server';

export type EngineState = LoadState | { kind: 'generating' };

export interface ServedRequest {
  /** Unique across sessions (ties an accepted completion to its request in the usage ledger). */
  id: string;
  kind: 'completion' | 'explain';
  model: string;
  /** Where it ran: the embedded engine, or a model server. */
  backend: 'embedded' | BackendKind;
  /** What the backend's results hold (a server's have no token ids or attention). */
  capabilities: BackendCapabilities;
  result: CompletionResult | ExplainResult;
  /** A completion's request as it was sent (the Attention view ranks what its suggestion depended on). */
  request?: Params<'complete'>;
  /** Wall time from request to result, ms (includes queueing and worker transfer). */
  latencyMs: number;
}

export class BackendRouter implements vscode.Disposable {
  readonly embedded: EmbeddedBackend;
  private serverValue: ServerBackend | null = null;
  private active = 0;
  private stateValue: EngineState = { kind: 'idle' };
  private readonly stateEmitter = new vscode.EventEmitter<EngineState>();
  private readonly servedEmitter = new vscode.EventEmitter<ServedRequest>();
  private servedCount = 0;
  private readonly session = Date.now().toString(36);
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires after each completion or explanation a backend produced. */
  readonly onDidServe = this.servedEmitter.event;

  constructor(
    context: vscode.ExtensionContext,
    private readonly config: Config,
    /** The model server's client, key and commands (for Select Model and the server's settings). */
    readonly remote: RemoteHost,
  ) {
    this.embedded = new EmbeddedBackend(context, config, (s) => this.setState(s));
  }

  /** The backend the settings choose now. */
  get backend(): Backend {
    const kind = this.remote.kind;
    if (!kind) return this.embedded;
    if (this.serverValue?.kind !== kind) this.serverValue = new ServerBackend(kind, this.remote, this.config);
    return this.serverValue;
  }

  /** The server backend, when one is chosen (Select Model lists its models). */
  get server(): ServerBackend | undefined {
    const b = this.backend;
    return b instanceof ServerBackend ? b : undefined;
  }

  /** The model that serves requests now: the loaded one, or the server's as configured. */
  get modelName(): string {
    return this.backend.label;
  }

  get state(): EngineState {
    return this.stateValue;
  }

  /** The embedded model, once loaded. */
  get info(): ModelInfo | null {
    return this.embedded.info;
  }

  /** The folder of the embedded model to load: the setting, or the shipped model. */
  modelDir(): string {
    return this.embedded.modelDir();
  }

  ensureLoaded(): Promise<ModelInfo> {
    return this.embedded.ensureLoaded();
  }

  /** Drops the embedded model and loads the configured one (after a settings change or a pick). */
  reload(): Promise<ModelInfo> {
    return this.embedded.reload();
  }

  complete(params: Params<'complete'>, opts: CallOptions = {}): Promise<CompletionResult & { requestId: string }> {
    const b = this.backend;
    // a backend that asked to be left alone gets no request until it said (not a served request)
    if (b.resting) return Promise.resolve({ ...unaskedCompletion(params as CompletionRequest), requestId: '' });
    return this.served('completion', b, () => b.complete(params, opts), params);
  }

  explain(params: Params<'explain'>, opts: CallOptions = {}): Promise<ExplainResult & { requestId: string }> {
    const b = this.backend;
    return this.served('explain', b, () => b.explain(params, opts));
  }

  /** The selected code's surprisal under the embedded model (Explain's "What the model did not expect"). */
  surprisal(params: Params<'surprisal'>, opts: CallOptions = {}): Promise<Result<'surprisal'>> {
    return this.embedded.surprisal(params, opts);
  }

  /** Attention capture on the embedded worker's separate session: not a served request. */
  captureAttention(params: Params<'captureAttention'>, opts: CallOptions = {}): Promise<Result<'captureAttention'>> {
    return this.embedded.captureAttention(params, opts);
  }

  /** What a finished completion depended on, on the embedded worker: not a served request. */
  dependence(params: Params<'dependence'>, opts: CallOptions = {}): Promise<Result<'dependence'>> {
    return this.embedded.dependence(params, opts);
  }

  dispose(): void {
    this.embedded.dispose();
    this.serverValue?.dispose();
    this.stateEmitter.dispose();
    this.servedEmitter.dispose();
  }

  /** Runs a request: 'generating' for the status bar meanwhile, and `onDidServe` with the id its result carries. */
  private async served<T extends CompletionResult | ExplainResult>(
    kind: ServedRequest['kind'],
    backend: Backend,
    call: () => Promise<T>,
    request?: Params<'complete'>,
  ): Promise<T & { requestId: string }> {
    // the embedded model loads before 'generating' shows (its load has states of its own)
    if (backend === this.embedded) await this.embedded.ensureLoaded();
    const start = performance.now();
    this.active++;
    this.setState({ kind: 'generating' });
    try {
      const result = await call();
      const id = `${this.session}-${++this.servedCount}`;
      this.servedEmitter.fire({
        id,
        kind,
        model: backend.label,
        backend: backend.kind,
        capabilities: backend.capabilities,
        result,
        ...(request ? { request } : {}),
        latencyMs: performance.now() - start,
      });
      return { ...result, requestId: id };
    } finally {
      if (--this.active === 0 && this.stateValue.kind === 'generating') this.setState({ kind: 'ready' });
    }
  }

  private setState(state: EngineState): void {
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }
}
