/**
 * The CLI against a model server (`--backend openai|llamacpp|ollama --endpoint URL`): complete,
 * explain and info, through the same clients and completion shaping as the extension. The API key
 * comes from GLASSBOX_API_KEY (never an argument: arguments show in process lists).
 */
import type { CompletionRequest } from '../engine/completion';
import type { ModelServer } from '../remote/backend';
import { BACKEND_KINDS, type BackendKind } from '../remote/endpoint';
import { createServer } from '../remote/index';
import { remoteComplete } from '../remote/remoteCompletion';

/** Characters of the file on each side of the cursor sent to the server. */
const WINDOW_CHARS = 8000;

export function serverFor(opts: {
  backend: string;
  endpoint?: string;
  model?: string;
  fimTemplate?: string;
  env?: NodeJS.ProcessEnv;
}): ModelServer {
  if (!(BACKEND_KINDS as readonly string[]).includes(opts.backend))
    throw new Error(`--backend must be one of ${BACKEND_KINDS.join(', ')} (or leave it out for the embedded model).`);
  const families = ['qwen', 'starcoder', 'deepseek', 'codellama'] as const;
  const fimFamily = families.find((f) => f === opts.fimTemplate);
  if (opts.fimTemplate && opts.fimTemplate !== 'auto' && !fimFamily)
    throw new Error(`--fim-template must be auto or one of ${families.join(', ')}.`);
  return createServer({
    kind: opts.backend as BackendKind,
    endpoint: opts.endpoint ?? (opts.env ?? process.env).GLASSBOX_ENDPOINT,
    model: opts.model,
    apiKey: (opts.env ?? process.env).GLASSBOX_API_KEY,
    fimFamily,
  });
}

/** A completion at 1-based `line`:`column` of `text` from the server. */
export async function remoteCompleteAt(
  server: ModelServer,
  text: string,
  line: number,
  column: number,
  opts: { maxNewTokens: number; minConfidence?: number },
) {
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) throw new Error(`--line must be within 1..${lines.length}.`);
  const offset =
    lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.min(column - 1, lines[line - 1].length);
  const req: CompletionRequest = {
    prefix: text.slice(Math.max(0, offset - WINDOW_CHARS), offset),
    suffix: text.slice(offset, offset + WINDOW_CHARS),
    maxNewTokens: opts.maxNewTokens,
    minConfidence: opts.minConfidence,
  };
  return remoteComplete(server, req);
}
