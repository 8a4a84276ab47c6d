/**
 * The host side of the engine worker: typed requests, streaming tokens, cancellation through an
 * AbortSignal, and recovery when the worker dies (pending requests fail with a clear error, the
 * next request starts a fresh worker and reloads the last model).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { cancelled, deserializeError, GlassboxError } from '../errors';
import type { GeneratedToken } from '../generation/generate';
import type { SpanDependence } from '../dependence/types';
import { addStageTo, epochNow } from '../runtime/stageClock';
import {
  isWorkerToHost,
  type HostToWorker,
  type LoadParams,
  type Method,
  type Params,
  type Result,
  type WorkerData,
} from './protocol';
import { WorkerRpc, type ExitReason, type RpcReply } from './rpc';

interface EngineClientOptions {
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
  /** A dependence ranking's spans as they are scored. */
  onSpan?: (span: SpanDependence) => void;
}

/** How long a new worker may take to say it is ready, ms. */
const START_TIMEOUT_MS = 30_000;
/** Longest wait for a worker to end its runs and exit on dispose, ms. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/** `p`, or a CANCELLED rejection as soon as `signal` fires (p goes on; its outcome is then ignored). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A worker's message as it concerns a request; 'ready' is read by EngineClient.awaitReady. */
function receive(msg: unknown): RpcReply | undefined {
  if (!isWorkerToHost(msg)) return undefined;
  switch (msg.type) {
    case 'ready':
      return undefined;
    case 'token':
      return { id: msg.id, progress: msg.token };
    case 'span':
      return { id: msg.id, progress: msg.span };
    case 'result':
      if (msg.sentAt !== undefined) addStageTo(msg.result, 'reply', epochNow() - msg.sentAt);
      return { id: msg.id, result: msg.result };
    case 'error':
      return { id: msg.id, error: deserializeError(msg.error) };
  }
}

export class EngineClient {
  private readonly rpc: WorkerRpc;
  /** The running worker's start, resolved by its 'ready' message. */
  private started: Promise<void> | null = null;
  /** A reload of the last model into a restarted worker, shared by every call that arrives meanwhile. */
  private reloading: Promise<void> | null = null;
  /** A worker died since the last model load succeeded: the next call reloads it first. */
  private needsReload = false;
  private lastLoad: LoadParams | null = null;
  private disposed = false;
  /** Workers that have said 'ready'. */
  private readonly ready = new WeakSet<Worker>();

  constructor(private readonly options: EngineClientOptions = {}) {
    const data: WorkerData = { testHooks: options.testHooks };
    this.rpc = new WorkerRpc({
      spawn: () => new Worker(options.workerPath ?? path.join(__dirname, 'engineWorker.js'), { workerData: data }),
      onStart: (worker) => (this.started = this.awaitReady(worker)),
      receive,
      abortError: cancelled,
      crashError: (reason) =>
        new GlassboxError(
          'WORKER_CRASHED',
          `The model worker stopped unexpectedly (${typeof reason === 'number' ? `exit code ${reason}` : reason.message}).`,
          'The request failed; the next one restarts the worker and reloads the model.',
        ),
      onCrash: (reason) => this.onCrash(reason),
    });
  }

  /** Loads a model in the worker; it is reloaded automatically if the worker has to restart. */
  async load(params: LoadParams, opts: CallOptions = {}): Promise<Result<'load'>> {
    const info = await this.call('load', params, opts);
    this.lastLoad = params;
    this.needsReload = false;
    return info;
  }

  /** Sends one request; rejects with CANCELLED as soon as the signal fires. */
  async call<M extends Method>(method: M, params: Params<M>, opts: CallOptions = {}): Promise<Result<M>> {
    if (this.disposed) throw new GlassboxError('NOT_LOADED', 'The engine has been shut down.');
    if (opts.signal?.aborted) throw cancelled();
    this.rpc.start(); // a new worker's onStart sets `started`
    await untilAborted(this.started!, opts.signal); // a slow start must not hold a cancelled call for 30 s
    if (method !== 'load') await this.reloadIfNeeded();
    return this.send(method, params, opts);
  }

  /** Test hook: makes the worker exit as if it had crashed. */
  crashForTest(): void {
    this.rpc.worker?.postMessage({ type: 'crash' } satisfies HostToWorker);
  }

  get running(): boolean {
    return this.rpc.worker !== null;
  }

  /**
   * Fails pending calls at once, then stops the worker safely: it cancels its runs (a decode step
   * or a prefill chunk at most) and exits by itself. worker.terminate() while ONNX Runtime runs
   * aborts the whole process (the extension host, at deactivation), so it is only the fallback for
   * a worker that has not exited after SHUTDOWN_TIMEOUT_MS.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.rpc.detach(new GlassboxError('CANCELLED', 'The engine was shut down.'));
    if (!w) return;
    // a worker that never said 'ready' runs no model yet: nothing to wait for
    if (!this.ready.has(w)) return void (await w.terminate());
    let timer: NodeJS.Timeout | undefined;
    const exited = await new Promise<boolean>((resolve) => {
      w.once('exit', () => resolve(true));
      timer = setTimeout(() => resolve(false), SHUTDOWN_TIMEOUT_MS);
      w.postMessage({ type: 'shutdown' } satisfies HostToWorker);
    });
    clearTimeout(timer);
    if (!exited) await w.terminate();
  }

  private send<M extends Method>(method: M, params: Params<M>, opts: CallOptions): Promise<Result<M>> {
    const onProgress = opts.onToken ?? opts.onSpan;
    const stream = onProgress !== undefined;
    return this.rpc.request<Result<M>>((id) => ({ type: 'request', id, method, params, stream, sentAt: epochNow() }), {
      signal: opts.signal,
      cancel: (id) => ({ type: 'cancel', id }) satisfies HostToWorker,
      onProgress: onProgress as ((value: unknown) => void) | undefined,
    });
  }

  /**
   * After a crash, loads the last model into the new worker before anything else runs there. Every
   * call that arrives meanwhile waits for the same reload; a reload that fails fails those calls and
   * is tried again by the next one (the user may have fixed the model folder).
   */
  private reloadIfNeeded(): Promise<void> {
    if (!this.needsReload || !this.lastLoad) return Promise.resolve();
    this.reloading ??= this.send('load', this.lastLoad, {})
      .then(() => {
        this.needsReload = false;
      })
      .finally(() => {
        this.reloading = null;
      });
    return this.reloading;
  }

  /** Resolves on the worker's first message ('ready'); a worker that dies or hangs before it must not leave callers waiting forever. */
  private awaitReady(worker: Worker): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new GlassboxError(
            'WORKER_CRASHED',
            `The model worker did not start within ${START_TIMEOUT_MS / 1000} s.`,
            'Try again; if it keeps happening, reload the window.',
          ),
        );
        void worker.terminate();
      }, START_TIMEOUT_MS);
      const settle = (err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      worker.once('message', () => {
        this.ready.add(worker);
        settle();
      });
      worker.once('error', (err) =>
        settle(new GlassboxError('WORKER_CRASHED', `The model worker failed to start: ${err.message}.`)),
      );
      worker.once('exit', (code) =>
        settle(
          new GlassboxError(
            'WORKER_CRASHED',
            `The model worker exited (code ${code}) before it was ready.`,
            'Try again; if it keeps happening, reload the window.',
          ),
        ),
      );
    });
    started.catch(() => undefined); // observed by the callers; never an unhandled rejection
    return started;
  }

  /** The worker died (its calls have failed): the next call starts a new one and reloads the model. */
  private onCrash(reason: ExitReason): void {
    this.started = null;
    if (this.lastLoad) this.needsReload = true;
    this.options.onCrash?.(typeof reason === 'number' ? reason : -1);
  }
}
