/**
 * Where the architecture explorer's graph reading runs: a worker thread of its own (the engine
 * worker's bundle, with no model loaded), so that reading a large graph or laying out a drill-down
 * never delays a completion, and so that the parsed graph's memory is released when the explorer
 * is idle. Also remembers the decode speed Glassbox last measured, for the explorer's bound.
 */
import * as vscode from 'vscode';
import { type CompletionResult, type ExplainResult, EngineClient, type Params, type Result } from '../engine';
import type { BackendRouter } from '../backends/router';
import type { MeasuredSpeed } from '../../webview/architecture/protocol';

const IDLE_MS = 60_000; // the worker and its parsed graph go after a minute without requests

type GraphMethod = 'inspectArchitecture' | 'architectureGraph';

export class GraphInspector implements vscode.Disposable {
  private client: EngineClient | null = null;
  private inflight = 0;
  private idle: NodeJS.Timeout | undefined;
  private lastSpeed: MeasuredSpeed | null = null;
  private readonly speedEmitter = new vscode.EventEmitter<MeasuredSpeed>();
  private readonly subscription: vscode.Disposable;
  /** Fires when a request the model served gives a new decode speed. */
  readonly onDidMeasure = this.speedEmitter.event;

  constructor(
    private readonly workerPath: string,
    host: BackendRouter,
  ) {
    // decode speeds of the embedded engine only: a server's are not this machine's
    this.subscription = host.onDidServe((r) => r.capabilities.tokens && this.record(r.model, r.result));
  }

  get measured(): MeasuredSpeed | null {
    return this.lastSpeed;
  }

  async call<M extends GraphMethod>(method: M, params: Params<M>): Promise<Result<M>> {
    clearTimeout(this.idle);
    this.client ??= new EngineClient({ workerPath: this.workerPath });
    this.inflight++;
    try {
      return await this.client.call(method, params);
    } finally {
      if (--this.inflight === 0) this.idle = setTimeout(() => this.stop(), IDLE_MS);
    }
  }

  dispose(): void {
    clearTimeout(this.idle);
    this.stop();
    this.subscription.dispose();
    this.speedEmitter.dispose();
  }

  private stop(): void {
    void this.client?.dispose();
    this.client = null;
  }

  /** Decode steps per second: every generated token after the first is one forward pass in decodeMs. */
  private record(model: string, result: CompletionResult | ExplainResult): void {
    const t = result.timings;
    if (t.generatedTokens < 2 || t.decodeMs <= 0) return;
    this.lastSpeed = {
      model,
      tokensPerSecond: ((t.generatedTokens - 1) * 1000) / t.decodeMs,
      tokens: t.generatedTokens,
      decodeMs: t.decodeMs,
      context: t.promptTokens + t.generatedTokens,
    };
    this.speedEmitter.fire(this.lastSpeed);
  }
}
