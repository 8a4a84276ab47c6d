/**
 * The host side of the context worker. Queries that take too long (a scan in progress, a huge
 * workspace) resolve to no context instead of delaying the completion, and a worker that dies is
 * started again (and rescans) on the next call.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ContextQueries } from '../cursorContext';
import type { ContextAnswer } from '../cursorCompletion';
import { isContextToHost, type ContextToHost, type HostToContext, type ScanRoot } from './protocol';

export type { ContextAnswer };

/** A query's wait, ms: past this the completion goes ahead without repository context. */
const QUERY_TIMEOUT_MS = 60;

export class ContextClient {
  private worker: Worker | null = null;
  private roots: ScanRoot[] = [];
  private readonly pending = new Map<number, (a: ContextAnswer | null) => void>();
  private nextId = 1;
  private disposed = false;
  /** The last scan's figures, for the status bar and tests. */
  lastScan: Extract<ContextToHost, { type: 'scanned' }> | null = null;

  constructor(private readonly workerPath = path.join(__dirname, 'contextWorker.js')) {}

  /** (Re)scans these folders. */
  scan(roots: ScanRoot[]): void {
    this.roots = roots;
    this.post({ type: 'scan', roots });
  }

  setFile(filePath: string, text: string): void {
    this.post({ type: 'setFile', path: filePath, text });
  }

  refresh(files: { file: string; path: string }[]): void {
    if (files.length) this.post({ type: 'refresh', files });
  }

  deleteFile(filePath: string): void {
    this.post({ type: 'deleteFile', path: filePath });
  }

  /** Snippets and copy sources, or null when the worker did not answer in time. */
  query(queries: ContextQueries, timeoutMs = QUERY_TIMEOUT_MS): Promise<ContextAnswer | null> {
    if (this.disposed) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, null), timeoutMs);
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.post({ type: 'query', id, queries });
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, null);
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private post(msg: HostToContext): void {
    if (this.disposed) return;
    this.start().postMessage(msg);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    this.worker = worker;
    worker.on('message', (msg: unknown) => {
      if (!isContextToHost(msg)) return;
      if (msg.type === 'answer') this.settle(msg.id, { snippets: msg.snippets, copySources: msg.copySources });
      else if (msg.type === 'scanned') this.lastScan = msg;
    });
    const gone = () => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const id of [...this.pending.keys()]) this.settle(id, null);
      // the next message starts a fresh worker, which scans again
      if (this.roots.length && !this.disposed) queueMicrotask(() => this.worker === null && this.scan(this.roots));
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    return worker;
  }

  private settle(id: number, answer: ContextAnswer | null): void {
    const done = this.pending.get(id);
    if (!done) return;
    this.pending.delete(id);
    done(answer);
  }
}
