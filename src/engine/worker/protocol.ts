/**
 * The typed protocol between the extension host (or CLI) and the engine's worker thread.
 * One union per direction; every message is checked on arrival before anything acts on it.
 */
import type { CompletionRequest, CompletionResult, ExplainResult, ModelInfo, RequestOptions } from '../engine';
import type { SerializedError } from '../errors';
import type { GeneratedToken, GenerationResult } from '../generation/generate';
import type { ExplainRequest } from '../explain/prompts';
import type { SurprisalResult } from '../explain/surprisal';
import type { ArchitectureSummary, GraphView, GraphViewRequest } from '../../common/architectureTypes';
import { isRecord } from '../../common/isRecord';
import type { AttentionCapture, CaptureParams } from '../attention/types';
import type { DependenceRequest, DependenceResult, SpanDependence } from '../dependence/types';

/** Options cross the thread boundary by structured clone: no signals, no callbacks. */
type Wire<T> = Omit<T, 'signal' | 'onToken' | 'textRules'>;

export interface LoadParams {
  modelDir: string;
  onnxFile?: string;
  threads?: number;
  /** Folder for optimized graphs (LoadOptions.graphCacheDir). */
  graphCacheDir?: string;
}

/** Every method the worker serves, with its parameters and result. */
interface WorkerMethods {
  load: { params: LoadParams; result: ModelInfo };
  unload: { params: Record<string, never>; result: null };
  info: { params: Record<string, never>; result: ModelInfo | null };
  tokenize: { params: { text: string }; result: { ids: number[]; tokens: string[] } };
  complete: { params: Wire<CompletionRequest>; result: CompletionResult };
  explain: { params: Wire<ExplainRequest & RequestOptions>; result: ExplainResult };
  surprisal: { params: { code: string; context?: string }; result: SurprisalResult };
  generate: {
    params: Wire<RequestOptions> & { prompt: string | number[] };
    result: GenerationResult & { cutTokens: number };
  };
  /** The model folder's graph read as a transformer (structure only; no model needs to be loaded). */
  inspectArchitecture: { params: { modelDir: string; onnxFile?: string }; result: ArchitectureSummary };
  /** A laid-out drill-down view of one name scope of the last inspected graph. */
  architectureGraph: { params: GraphViewRequest; result: GraphView };
  /** Attention capture on its own session (typed arrays in the result are transferred). */
  captureAttention: { params: Omit<CaptureParams, 'onProgress'>; result: AttentionCapture };
  /** What a finished completion depended on; each span's result streams as a 'span' message. */
  dependence: { params: DependenceRequest; result: DependenceResult };
}

export type Method = keyof WorkerMethods;
export type Params<M extends Method> = WorkerMethods[M]['params'];
export type Result<M extends Method> = WorkerMethods[M]['result'];

/** `sentAt`: when the message was posted, ms on the process-wide clock (stageClock.ts epochNow). */
export type RequestMessage = {
  [M in Method]: { type: 'request'; id: number; method: M; params: Params<M>; stream: boolean; sentAt?: number };
}[Method];

export type HostToWorker =
  | RequestMessage
  | { type: 'cancel'; id: number }
  /**
   * Ends the worker safely: every run is cancelled and awaited, the model's sessions released, then
   * the thread exits. Terminating a thread while ONNX Runtime computes aborts the whole process.
   */
  | { type: 'shutdown' }
  /** Test hook, honoured only when the worker was started with testHooks: exits the thread. */
  | { type: 'crash' };

export type WorkerToHost =
  | { type: 'ready' }
  | { type: 'token'; id: number; token: GeneratedToken }
  | { type: 'span'; id: number; span: SpanDependence }
  | { type: 'result'; id: number; result: unknown; sentAt?: number }
  | { type: 'error'; id: number; error: SerializedError };

export interface WorkerData {
  testHooks?: boolean;
}

const METHODS: ReadonlySet<string> = new Set<Method>([
  'load',
  'unload',
  'info',
  'tokenize',
  'complete',
  'explain',
  'surprisal',
  'generate',
  'captureAttention',
  'dependence',
  'inspectArchitecture',
  'architectureGraph',
]);

function optionalNumber(x: unknown): boolean {
  return x === undefined || typeof x === 'number';
}

export function isHostToWorker(x: unknown): x is HostToWorker {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'request':
      return (
        typeof x.id === 'number' &&
        typeof x.method === 'string' &&
        METHODS.has(x.method) &&
        isRecord(x.params) &&
        typeof x.stream === 'boolean' &&
        optionalNumber(x.sentAt)
      );
    case 'cancel':
      return typeof x.id === 'number';
    case 'crash':
    case 'shutdown':
      return true;
    default:
      return false;
  }
}

export function isWorkerToHost(x: unknown): x is WorkerToHost {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'ready':
      return true;
    case 'token':
      return typeof x.id === 'number' && isRecord(x.token);
    case 'span':
      return typeof x.id === 'number' && isRecord(x.span);
    case 'result':
      return typeof x.id === 'number' && 'result' in x && optionalNumber(x.sentAt);
    case 'error':
      return typeof x.id === 'number' && isRecord(x.error) && typeof x.error.message === 'string';
    default:
      return false;
  }
}
