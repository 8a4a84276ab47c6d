/**
 * One request/reply channel to a worker thread, the plumbing under the engine, context and
 * token-count clients: numbered requests, replies matched to them, progress, cancellation,
 * timeouts, and a worker that dies failing every pending request. Each client keeps its own wire
 * format: it builds its request messages and reads the worker's replies (RpcOptions.receive), so
 * the worker scripts need not know this class exists. Plain Node: the CLI and tests use it too.
 */
import type { Worker } from 'node:worker_threads';

/** What a message from the worker means for a request (errors already rebuilt by the client). */
export type RpcReply =
  { id: number; result: unknown } | { id: number; error: Error } | { id: number; progress: unknown };

/** Why a worker went away: its exit code, or the error it died of. */
export type ExitReason = number | Error;

export interface RpcOptions {
  /** Starts a worker thread (script, workerData, unref: each client's own choice). */
  spawn(): Worker;
  /**
   * Reads one message from the worker: the reply it carries, or undefined for anything else (a
   * 'ready', a scan report: the client deals with those itself; malformed messages are dropped).
   */
  receive(msg: unknown): RpcReply | undefined;
  /** The error every pending request gets when the worker errs or exits by itself. */
  crashError(reason: ExitReason): Error;
  /** Called with each new worker before any message of it is read (e.g. to wait for its 'ready'). */
  onStart?(worker: Worker): void;
  /** Called after a dead worker's requests were failed; the next request starts a fresh worker. */
  onCrash?(reason: ExitReason): void;
  /** The rejection of a request whose AbortSignal fires (default: the signal's reason). */
  abortError?(): Error;
  /** Stops the worker after this long without a pending request, ms (default: it runs on). */
  idleMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** The message that tells the worker to drop request `id` once the signal fires. */
  cancel?(id: number): unknown;
  /** Receives the request's progress replies (streamed tokens) until it settles. */
  onProgress?(value: unknown): void;
  /** Past this the request rejects with timeoutError(); a late reply is ignored. */
  timeoutMs?: number;
  timeoutError?(): Error;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?(value: unknown): void;
  /** Removes the abort listener and the timeout. */
  cleanup(): void;
}

export class WorkerRpc {
  private current: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  /** Ids run on across restarts, so a late reply of an old worker can never settle a new request. */
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly options: RpcOptions) {}

  /** The running worker, or null when none runs (never started, crashed, detached, idle-stopped). */
  get worker(): Worker | null {
    return this.current;
  }

  /** The running worker, started first when none runs. */
  start(): Worker {
    if (this.current) return this.current;
    const worker = this.options.spawn();
    this.current = worker;
    this.options.onStart?.(worker);
    // an old worker's replies still count (its ids are unique); its death no longer does (onGone)
    worker.on('message', (msg: unknown) => this.onMessage(msg));
    worker.on('error', (err) => this.onGone(worker, err));
    worker.on('exit', (code) => this.onGone(worker, code));
    return worker;
  }

  /**
   * Posts `message(id)` to the worker (started if need be) and resolves with the reply to `id`.
   * Rejects with the worker's error, on abort (after posting `cancel(id)`), on timeout, or when the
   * worker dies first. A signal already aborted rejects without posting anything.
   */
  request<T>(message: (id: number) => unknown, opts: RequestOptions = {}): Promise<T> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(this.abortError(signal));
    clearTimeout(this.idle);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const worker = this.start();
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        if (opts.cancel) this.current?.postMessage(opts.cancel(id));
        this.settle(id)?.reject(this.abortError(signal!));
      };
      this.pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress: opts.onProgress,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs !== undefined) {
        const error = opts.timeoutError ?? (() => new Error(`no reply from the worker within ${opts.timeoutMs} ms`));
        timer = setTimeout(() => this.settle(id)?.reject(error()), opts.timeoutMs);
        timer.unref(); // a timeout is no reason to keep a process alive
      }
      try {
        worker.postMessage(message(id));
      } catch (err) {
        // a message that cannot be cloned: fail this request, not the worker
        this.settle(id)?.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Forgets the worker (its exit is then no crash) and fails every pending request with `err`. The
   * caller ends the worker as it sees fit: terminate(), or a shutdown message it waits on.
   */
  detach(err: Error): Worker | null {
    clearTimeout(this.idle);
    const worker = this.current;
    this.current = null;
    this.failAll(err);
    return worker;
  }

  /** detach(), then terminate the worker. */
  async close(err: Error): Promise<void> {
    await this.detach(err)?.terminate();
  }

  private abortError(signal: AbortSignal): Error {
    return this.options.abortError?.() ?? (signal.reason as Error);
  }

  private onMessage(msg: unknown): void {
    const reply = this.options.receive(msg);
    if (!reply) return;
    if ('progress' in reply) this.pending.get(reply.id)?.onProgress?.(reply.progress);
    else if ('error' in reply) this.settle(reply.id)?.reject(reply.error);
    else this.settle(reply.id)?.resolve(reply.result);
  }

  private onGone(worker: Worker, reason: ExitReason): void {
    if (this.current !== worker) return; // an old worker, already replaced, detached or stopped
    this.current = null;
    this.failAll(this.options.crashError(reason));
    this.options.onCrash?.(reason);
  }

  /** Takes request `id` out of the pending map (undefined if it has settled already). */
  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.cleanup();
    if (this.pending.size === 0 && this.current && this.options.idleMs !== undefined) this.armIdle(this.options.idleMs);
    return p;
  }

  private armIdle(ms: number): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      const worker = this.current;
      if (this.pending.size > 0 || !worker) return;
      this.current = null;
      void worker.terminate();
    }, ms);
    this.idle.unref(); // an idle worker's stop must not keep the process alive either
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
  }
}
