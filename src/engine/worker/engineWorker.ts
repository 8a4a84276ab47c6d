/**
 * The worker thread that owns the model. ONNX Runtime computes on the calling thread, so it runs
 * here and the extension host's event loop stays free while tokens are generated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { captureAttention, releaseAttention } from '../attention/capture';
import { captureBuffers, type AttentionCapture } from '../attention/types';
import { dependence } from '../dependence/dependence';
import type { SpanDependence } from '../dependence/types';
import { Engine } from '../engine';
import { GlassboxError, serializeError } from '../errors';
import { addStageTo, epochNow } from '../runtime/stageClock';
import { architectureGraph, inspectArchitecture } from '../architecture/architecture';
import type { GeneratedToken } from '../generation/generate';
import {
  isHostToWorker,
  type HostToWorker,
  type Method,
  type Params,
  type RequestMessage,
  type Result,
  type WorkerData,
  type WorkerToHost,
} from './protocol';

const port = parentPort;
if (!port) throw new Error('engineWorker.js must run in a worker thread');
const options = (workerData ?? {}) as WorkerData;

let engine: Engine | null = null;
const inflight = new Map<number, AbortController>();
/** Requests being served: a shutdown waits for them, so no thread ends inside ONNX Runtime. */
const serving = new Set<Promise<void>>();

function post(msg: WorkerToHost, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function loaded(): Engine {
  if (!engine) throw new GlassboxError('NOT_LOADED', 'No model is loaded yet.', 'Load a model first.');
  return engine;
}

type Handler<M extends Method> = (
  params: Params<M>,
  signal: AbortSignal,
  onToken: ((t: GeneratedToken) => void) | undefined,
  onSpan: ((s: SpanDependence) => void) | undefined,
) => Promise<Result<M>> | Result<M>;

const handlers: { [M in Method]: Handler<M> } = {
  async load(p) {
    const next = await Engine.load(p.modelDir, {
      onnxFile: p.onnxFile,
      threads: p.threads,
      graphCacheDir: p.graphCacheDir,
    });
    const old = engine;
    engine = next; // swap only once the new model loaded: a failed load keeps the old one
    if (old) await releaseAttention(old.model);
    await old?.dispose();
    return next.info();
  },
  async unload() {
    const old = engine;
    engine = null;
    if (old) await releaseAttention(old.model);
    await old?.dispose();
    return null;
  },
  info: () => engine?.info() ?? null,
  tokenize: (p) => loaded().tokenize(p.text),
  complete: (p, signal, onToken) => loaded().complete({ ...p, signal, onToken }),
  explain: (p, signal, onToken) => loaded().explain({ ...p, signal, onToken }),
  surprisal: (p) => loaded().surprisal(p.code, p.context),
  generate: (p, signal, onToken) => loaded().generate(p.prompt, { ...p, signal, onToken }),
  captureAttention: (p, signal) => captureAttention(loaded().model, p, signal),
  // off the Engine's queue, on a KV cache of its own: a completion need not wait for a ranking
  dependence: (p, signal, _onToken, onSpan) => dependence(loaded(), p, { signal, onResult: onSpan }),
  inspectArchitecture: (p) => inspectArchitecture(p),
  architectureGraph: (p) => architectureGraph(p),
};

async function serve(msg: RequestMessage): Promise<void> {
  const arrived = epochNow();
  const controller = new AbortController();
  inflight.set(msg.id, controller);
  const onToken = msg.stream ? (token: GeneratedToken) => post({ type: 'token', id: msg.id, token }) : undefined;
  const onSpan = msg.stream ? (span: SpanDependence) => post({ type: 'span', id: msg.id, span }) : undefined;
  try {
    const handler = handlers[msg.method] as Handler<Method>;
    const result = await handler(msg.params as never, controller.signal, onToken, onSpan);
    if (msg.sentAt !== undefined) addStageTo(result, 'message_in', arrived - msg.sentAt);
    // A capture's typed arrays move to the host instead of being copied.
    post(
      { type: 'result', id: msg.id, result, sentAt: epochNow() },
      msg.method === 'captureAttention' ? captureBuffers(result as AttentionCapture) : [],
    );
  } catch (err) {
    post({ type: 'error', id: msg.id, error: serializeError(err) });
  } finally {
    inflight.delete(msg.id);
  }
}

port.on('message', (raw: unknown) => {
  if (!isHostToWorker(raw)) {
    // a request we cannot serve (an unknown method, bad params) is answered, or its caller waits for ever
    const r = raw as { type?: unknown; id?: unknown; method?: unknown } | null;
    if (r?.type === 'request' && typeof r.id === 'number')
      post({
        type: 'error',
        id: r.id,
        error: serializeError(
          new GlassboxError('INTERNAL', `The model worker has no method ${JSON.stringify(r.method)}.`),
        ),
      });
    return; // not ours: ignore rather than guess
  }
  const msg: HostToWorker = raw;
  switch (msg.type) {
    case 'request': {
      const done = serve(msg);
      serving.add(done);
      void done.finally(() => serving.delete(done));
      break;
    }
    case 'shutdown':
      void shutdown();
      break;
    case 'cancel':
      inflight.get(msg.id)?.abort();
      break;
    case 'crash':
      if (options.testHooks) process.exit(70);
      break;
  }
});

/** Cancels and awaits every request, releases the model, then ends the thread. */
async function shutdown(): Promise<void> {
  for (const c of inflight.values()) c.abort();
  await Promise.allSettled([...serving]);
  const old = engine;
  engine = null;
  try {
    if (old) await releaseAttention(old.model);
    await old?.dispose();
  } finally {
    process.exit(0); // in a worker thread: ends this thread only
  }
}

post({ type: 'ready' });
