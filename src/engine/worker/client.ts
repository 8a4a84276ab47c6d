/**
 * The host side of the engine worker: typed requests, streaming tokens, cancellation through an
 * AbortSignal, and recovery when the worker dies (pending requests fail with a clear error, the
 * next request starts a fresh worker and reloads the last model).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cancelled, deserializeError, GlassboxError } from '../errors';
import type { GeneratedToken } from '../generate';
import { isWorkerToHost, type LoadParams, type Method, type Params, type Result, type WorkerData, type WorkerToHost } from './protocol';

export interface EngineClientOptions {
  /** Path of the built worker script (default: engineWorker.js next to this file). */
  workerPath?: string;
  /** Enables the worker's test hooks (the `crash` message). */
  testHooks?: boolean;
  /** Called when the worker dies unexpectedly, with its exit code. */
  onCrash?: (exitCode: number) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  onToken?: (token: GeneratedToken) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onToken?: (token: GeneratedToken) => void;
  cleanup: () => void;
}

export class EngineClient {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastLoad: LoadParams | null = null;
  private disposed = false;

  constructor(private readonly options: EngineClientOptions = {}) {}

  /** Loads a model in the worker; it is reloaded automatically if the worker has to restart. */
  async load(params: LoadParams, opts: CallOptions = {}): Promise<Result<'load'>> {
    const info = await this.call('load', params, opts);
    this.lastLoad = params;
    return info;
  }

  /** Sends one request; rejects with CANCELLED as soon as the signal fires. */
  async call<M extends Method>(method: M, params: Params<M>, opts: CallOptions = {}): Promise<Result<M>> {
    if (this.disposed) throw new GlassboxError('NOT_LOADED', 'The engine has been shut down.');
    if (opts.signal?.aborted) throw cancelled();
    const restarted = !this.worker;
    await this.start();
    if (restarted && this.lastLoad && method !== 'load') await this.send('load', this.lastLoad, {});
    return this.send(method, params, opts);
  }

  /** Test hook: makes the worker exit as if it had crashed. */
  crashForTest(): void {
    this.worker?.postMessage({ type: 'crash' });
  }

  get running(): boolean {
    return this.worker !== null;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new GlassboxError('CANCELLED', 'The engine was shut down.'));
    await w?.terminate();
  }

  private send<M extends Method>(method: M, params: Params<M>, opts: CallOptions): Promise<Result<M>> {
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      const onAbort = () => {
        this.worker?.postMessage({ type: 'cancel', id });
        this.settle(id)?.reject(cancelled());
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onToken: opts.onToken,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      });
      this.worker!.postMessage({ type: 'request', id, method, params, stream: opts.onToken !== undefined });
    });
  }

  private start(): Promise<void> {
    if (this.worker && this.ready) return this.ready;
    const data: WorkerData = { testHooks: this.options.testHooks };
    const worker = new Worker(this.options.workerPath ?? path.join(__dirname, 'engineWorker.js'), { workerData: data });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.on('message', (msg: unknown) => {
      if (isWorkerToHost(msg)) this.onMessage(msg);
    });
    worker.on('error', (err) => this.onExit(worker, err));
    worker.on('exit', (code) => this.onExit(worker, code));
    return this.ready;
  }

  private onMessage(msg: WorkerToHost): void {
    switch (msg.type) {
      case 'ready':
        return;
      case 'token':
        this.pending.get(msg.id)?.onToken?.(msg.token);
        return;
      case 'result':
        this.settle(msg.id)?.resolve(msg.result);
        return;
      case 'error':
        this.settle(msg.id)?.reject(deserializeError(msg.error));
        return;
    }
  }

  private onExit(worker: Worker, reason: number | Error): void {
    if (this.worker !== worker) return; // an old worker, already replaced or disposed
    this.worker = null;
    this.ready = null;
    const detail = typeof reason === 'number' ? `exit code ${reason}` : reason.message;
    this.failAll(new GlassboxError('WORKER_CRASHED', `The model worker stopped unexpectedly (${detail}).`, 'The request failed; the next one restarts the worker and reloads the model.'));
    this.options.onCrash?.(typeof reason === 'number' ? reason : -1);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.cleanup();
    return p;
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
  }
}
