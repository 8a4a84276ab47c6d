/**
 * Explain on a model server, read for at most the tokens asked for: a server that ignores
 * `max_tokens` (or streams for ever) is cut off there, and what it sent is the answer. The complete
 * path caps its reading the same way (remoteCompletion.ts).
 */
import { cancelled } from '../engine';
import type { ModelServer, RemoteCallOptions, RemoteExplainRequest, RemoteResult, RemoteToken } from './backend';

export async function cappedExplain(
  server: ModelServer,
  req: RemoteExplainRequest,
  opts: RemoteCallOptions = {},
): Promise<RemoteResult> {
  const enough = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, enough.signal]) : enough.signal;
  const tokens: RemoteToken[] = [];
  const start = performance.now();
  let first = -1;
  const onToken = (t: RemoteToken) => {
    if (enough.signal.aborted) return;
    if (first < 0) first = performance.now() - start;
    tokens.push(t);
    opts.onToken?.(t);
    if (tokens.length >= req.maxTokens) enough.abort();
  };
  try {
    return await server.explain(req, { ...opts, signal, onToken });
  } catch (err) {
    if (opts.signal?.aborted) throw cancelled();
    if (!enough.signal.aborted) throw err;
    const total = performance.now() - start;
    return {
      text: tokens.map((t) => t.text).join(''),
      tokens,
      model: '',
      stopReason: 'length',
      timings: { firstTokenMs: first < 0 ? total : first, totalMs: total },
    };
  }
}
