/**
 * The host side of the context worker. Queries that take too long (a scan in progress, a huge
 * workspace) resolve to no context instead of delaying the completion, and a worker that dies is
 * started again (and rescans) on the next call.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ContextQueries } from '../cursorContext';
import type { ContextAnswer } from '../cursorCompletion';
import { WorkerRpc, type RpcReply } from '../../worker/rpc';
import { isContextToHost, type ContextToHost, type HostToContext, type ScanRoot } from './protocol';

export type { ContextAnswer };

/** A query's wait, ms: past this the completion goes ahead without repository context. */
const QUERY_TIMEOUT_MS = 60;

export class ContextClient {
  private readonly rpc: WorkerRpc;
  private roots: ScanRoot[] = [];
  private disposed = false;
  /** The last scan's figures, for the status bar and tests. */
  lastScan: Extract<ContextToHost, { type: 'scanned' }> | null = null;

  constructor(workerPath = path.join(__dirname, 'contextWorker.js')) {
    this.rpc = new WorkerRpc({
      spawn: () => new Worker(workerPath),
      receive: (msg) => this.receive(msg),
      // every failure of a query (crash, timeout, dispose) is "no context": query() maps it to null
      crashError: () => new Error('the context worker stopped'),
      // the next message starts a fresh worker, which scans again
      onCrash: () => {
        if (this.roots.length && !this.disposed)
          queueMicrotask(() => this.rpc.worker === null && this.scan(this.roots));
      },
    });
  }

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
    return this.rpc
      .request<ContextAnswer>((id) => ({ type: 'query', id, queries }) satisfies HostToContext, { timeoutMs })
      .catch(() => null);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.rpc.close(new Error('the context client was disposed'));
  }

  private post(msg: HostToContext): void {
    if (this.disposed) return;
    this.rpc.start().postMessage(msg);
  }

  private receive(msg: unknown): RpcReply | undefined {
    if (!isContextToHost(msg)) return undefined;
    if (msg.type === 'answer') return { id: msg.id, result: { snippets: msg.snippets, copySources: msg.copySources } };
    if (msg.type === 'scanned') this.lastScan = msg;
    return undefined;
  }
}
