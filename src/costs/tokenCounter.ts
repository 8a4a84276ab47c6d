/**
 * Counts OpenAI tokens for the usage ledger in a worker thread: loading an encoding takes most of
 * a second and counting a prompt a few ms, which must not happen on the extension host's thread
 * (it serves keystrokes). The worker starts on first use and stops when idle.
 */
import { Worker } from 'node:worker_threads';
import { WorkerRpc, type RpcReply } from '../engine';
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

function receive(msg: unknown): RpcReply | undefined {
  if (!isCountReply(msg)) return undefined;
  return msg.type === 'error' ? { id: msg.id, error: new Error(msg.message) } : { id: msg.id, result: msg.counts };
}

export class TokenCounter {
  private readonly rpc: WorkerRpc;

  /** `workerPath`: the built tokenCountWorker.js; the worker stops after `idleMs` without work. */
  constructor(workerPath: string, idleMs = 60_000) {
    this.rpc = new WorkerRpc({
      spawn: () => {
        const worker = new Worker(workerPath);
        worker.unref(); // never keeps VS Code (or a test run) alive
        return worker;
      },
      receive,
      crashError: (reason) =>
        typeof reason === 'number' ? new Error(`token counter exited with code ${reason}`) : reason,
      idleMs,
    });
  }

  /** Exact o200k/cl100k counts of each text; rejects after `timeoutMs` or if the worker fails. */
  count(texts: string[], timeoutMs = 20_000): Promise<TextCounts[]> {
    return this.rpc.request<TextCounts[]>((id) => ({ type: 'count', id, texts }) satisfies CountRequest, {
      timeoutMs,
      timeoutError: () => new Error(`token counting took over ${timeoutMs} ms`),
    });
  }

  dispose(): void {
    void this.rpc.close(new Error('token counter stopped'));
  }
}
