/**
 * Counts OpenAI tokens for the usage ledger in a worker thread: loading an encoding takes most of
 * a second and counting a prompt a few ms, which must not happen on the extension host's thread
 * (it serves keystrokes). The worker starts on first use and stops when idle.
 */
import { Worker } from 'node:worker_threads';
import type { TextCounts } from './tokenCounts';

type CountRequest = { type: 'count'; id: number; texts: string[] };
export type CountReply =
  { type: 'counts'; id: number; counts: TextCounts[] } | { type: 'error'; id: number; message: string };

export function isCountRequest(x: unknown): x is CountRequest {
  const m = x as Partial<CountRequest> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === 'count' &&
    typeof m.id === 'number' &&
    Array.isArray(m.texts) &&
    m.texts.every((t) => typeof t === 'string')
  );
}

function isCountReply(x: unknown): x is CountReply {
  const m = x as { type?: unknown; id?: unknown; counts?: unknown; message?: unknown } | null;
  if (typeof m !== 'object' || m === null || typeof m.id !== 'number') return false;
  return (m.type === 'counts' && Array.isArray(m.counts)) || (m.type === 'error' && typeof m.message === 'string');
}

interface Pending {
  resolve: (counts: TextCounts[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class TokenCounter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | undefined;

  /** `workerPath`: the built tokenCountWorker.js. */
  constructor(
    private readonly workerPath: string,
    private readonly idleMs = 60_000,
  ) {}

  /** Exact o200k/cl100k counts of each text; rejects after `timeoutMs` or if the worker fails. */
  count(texts: string[], timeoutMs = 20_000): Promise<TextCounts[]> {
    const worker = this.start();
    const id = this.nextId++;
    clearTimeout(this.idle);
    return new Promise<TextCounts[]>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error(`token counting took over ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ type: 'count', id, texts } satisfies CountRequest);
    });
  }

  dispose(): void {
    clearTimeout(this.idle);
    this.failAll(new Error('token counter stopped'));
    void this.worker?.terminate();
    this.worker = null;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    worker.unref(); // never keeps VS Code (or a test run) alive
    worker.on('message', (msg: unknown) => {
      if (!isCountReply(msg)) return;
      this.settle(
        msg.id,
        msg.type === 'error' ? new Error(msg.message) : undefined,
        msg.type === 'counts' ? msg.counts : undefined,
      );
    });
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => this.fail(worker, new Error(`token counter exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(id: number, err?: Error, counts?: TextCounts[]): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err || !counts) p.reject(err ?? new Error('no counts'));
    else p.resolve(counts);
    if (this.pending.size === 0) {
      clearTimeout(this.idle);
      this.idle = setTimeout(() => this.stopIdle(), this.idleMs);
      this.idle.unref();
    }
  }

  private stopIdle(): void {
    if (this.pending.size > 0 || !this.worker) return;
    void this.worker.terminate();
    this.worker = null;
  }

  private fail(worker: Worker, err: Error): void {
    if (this.worker !== worker) return; // an old worker we already replaced or stopped
    this.worker = null;
    this.failAll(err);
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}
