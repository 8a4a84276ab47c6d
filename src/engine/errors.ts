import { CodedError } from '../net/codedError';

/** Error codes a caller can branch on; each GlassboxError also carries a message a user can act on. */
export type ErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'ONNX_MISSING'
  | 'ONNX_AMBIGUOUS'
  | 'ONNX_INVALID'
  | 'CONFIG_INVALID'
  | 'TOKENIZER_MISSING'
  | 'TOKENIZER_INVALID'
  | 'GRAPH_UNSUPPORTED'
  | 'PROMPT_EMPTY'
  | 'PROMPT_TOO_LONG'
  | 'INPUT_NOT_TEXT'
  | 'WORKSPACE_NOT_FOUND'
  | 'NOT_LOADED'
  | 'RUN_FAILED'
  | 'CANCELLED'
  | 'WORKER_CRASHED'
  | 'COMMAND_LINE_TOO_LONG'
  | 'INTERNAL';

/** An error the engine raises on purpose: `message` says what happened, `hint` what to do next. */
export class GlassboxError extends CodedError<ErrorCode> {
  override name = 'GlassboxError';
}

/** The plain-object form that crosses the worker boundary. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  hint?: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof GlassboxError) {
    return { code: err.code, message: err.message, hint: err.hint, stack: err.stack };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: 'INTERNAL', message: e.message, stack: e.stack };
}

export function deserializeError(s: SerializedError): GlassboxError {
  const err = new GlassboxError(s.code, s.message);
  // The message already includes the hint (see the constructor), so keep it verbatim.
  Object.defineProperty(err, 'hint', { value: s.hint });
  if (s.stack) err.stack = s.stack;
  return err;
}

export function cancelled(): GlassboxError {
  return new GlassboxError('CANCELLED', 'The request was cancelled.');
}

export function isCancellation(err: unknown): boolean {
  return err instanceof GlassboxError && err.code === 'CANCELLED';
}

/** Throws CANCELLED if the signal has fired; called between model steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}
