/**
 * The CLI against a model server (`--backend openai|llamacpp|ollama --endpoint URL`): complete,
 * explain and info, through the same clients and completion shaping as the extension. The API key
 * comes from GLASSBOX_API_KEY (never an argument: arguments show in process lists).
 */
import type { CompletionRequest } from '../engine';
import type { ModelServer } from '../remote/backend';
import { BACKEND_KINDS, keyInTheClear, parseEndpoint, type BackendKind } from '../remote/endpoint';
import { offsetOf } from './textFile';
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
  warn?: (message: string) => void;
}): ModelServer {
  if (!(BACKEND_KINDS as readonly string[]).includes(opts.backend))
    throw new Error(`--backend must be one of ${BACKEND_KINDS.join(', ')} (or leave it out for the embedded model).`);
  const families = ['qwen', 'starcoder', 'deepseek', 'codellama'] as const;
  const fimFamily = families.find((f) => f === opts.fimTemplate);
  if (opts.fimTemplate && opts.fimTemplate !== 'auto' && !fimFamily)
    throw new Error(`--fim-template must be auto or one of ${families.join(', ')}.`);
  const endpoint = opts.endpoint ?? (opts.env ?? process.env).GLASSBOX_ENDPOINT;
  const key = (opts.env ?? process.env).GLASSBOX_API_KEY;
  if (key && endpoint && keyInTheClear(parseEndpoint(endpoint, opts.backend as BackendKind)))
    (opts.warn ?? ((m: string) => process.stderr.write(`glassbox: ${m}\n`)))(
      `${endpoint} is plain http on another machine: GLASSBOX_API_KEY crosses the network unencrypted. Use https:// if the server has it.`,
    );
  return createServer({
    kind: opts.backend as BackendKind,
    endpoint,
    model: opts.model,
    apiKey: key,
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
  // the same position checks as the embedded model's (a clear message, no stack trace)
  const offset = offsetOf(text, line, column);
  const req: CompletionRequest = {
    prefix: text.slice(Math.max(0, offset - WINDOW_CHARS), offset),
    suffix: text.slice(offset, offset + WINDOW_CHARS),
    maxNewTokens: opts.maxNewTokens,
    minConfidence: opts.minConfidence,
  };
  return remoteComplete(server, req);
}
