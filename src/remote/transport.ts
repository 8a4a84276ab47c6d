/**
 * Requests to a model server over the shared HTTP client: the API key and extra headers, a total
 * deadline, a cap on what is read, HTTP statuses and socket failures turned into RemoteErrors, and
 * the two streaming framings servers use (server-sent events, newline-delimited JSON).
 */
import { StringDecoder } from 'node:string_decoder';
import { cancelled } from '../engine';
import { cappedChunks } from '../net/capped';
import { httpRequest, IdleTimeoutError, type HttpResponse, type NetOptions } from '../net/http';
import { routeUrl } from './endpoint';
import { RemoteError } from './errors';

export interface TransportOptions {
  base: URL;
  /** Sent as `Authorization: Bearer …`; never logged. */
  apiKey?: string;
  /** Extra headers (a gateway's own auth, an organisation id). */
  headers?: Record<string, string>;
  net?: NetOptions;
  /** Deadline for a whole request, ms. */
  timeoutMs?: number;
  /** Most bytes read from one response. */
  maxBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** A streamed or whole response, read under the transport's cap and deadline. */
export interface OpenResponse {
  res: HttpResponse;
  /** The request's signal (the caller's, the deadline, or both). */
  signal: AbortSignal;
  maxBytes: number;
  /** Whether the deadline (not the caller) ended the request. */
  timedOut: () => boolean;
  route: string;
}

export class Transport {
  constructor(readonly opts: TransportOptions) {
    const key = opts.apiKey?.trim();
    if (key && /\s/.test(key))
      throw new RemoteError(
        'ENDPOINT_INVALID',
        'The API key has a space or line break in it.',
        'Run "Glassbox: Set API Key" and paste the key alone.',
      );
  }

  get host(): string {
    return this.opts.base.host;
  }

  /** Sends a request; resolves once a 2xx answered, else throws the status's RemoteError. */
  async open(
    route: string,
    body: unknown,
    signal?: AbortSignal,
    method: 'GET' | 'POST' = 'POST',
  ): Promise<OpenResponse> {
    if (signal?.aborted) throw cancelled();
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const url = routeUrl(this.opts.base, route);
    const key = this.opts.apiKey?.trim();
    const headers: Record<string, string> = {
      accept: 'application/json, text/event-stream, application/x-ndjson',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...this.opts.headers,
    };
    const timedOut = () => deadline.aborted && !signal?.aborted;
    let res: HttpResponse;
    try {
      res = await httpRequest(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: both,
        net: { idleTimeoutMs: timeoutMs, ...this.opts.net },
      });
    } catch (err) {
      throw this.socketError(err, route, signal, timedOut());
    }
    const open = { res, signal: both, maxBytes: this.opts.maxBytes ?? DEFAULT_MAX_BYTES, timedOut, route };
    if (res.status < 200 || res.status >= 300) throw await this.statusError(open);
    const type = String(res.headers['content-type'] ?? '');
    if (/text\/html/i.test(type)) {
      res.body.destroy();
      throw new RemoteError(
        'BAD_RESPONSE',
        `${this.host} answered ${route} with a web page, not a model server's API.`,
        `Check glassbox.endpoint and glassbox.backend: is ${this.opts.base.href} the server's API address?`,
      );
    }
    return open;
  }

  /** The whole body as JSON. */
  async json(route: string, body?: unknown, signal?: AbortSignal, method: 'GET' | 'POST' = 'POST'): Promise<unknown> {
    const open = await this.open(route, body, signal, method);
    let text = '';
    for await (const line of this.lines(open)) text += line + '\n';
    try {
      return JSON.parse(text);
    } catch {
      throw new RemoteError('BAD_RESPONSE', `${this.host} answered ${route} with something that is not JSON.`);
    }
  }

  /** The body's lines (UTF-8; invalid bytes become U+FFFD), under the cap and the deadline. */
  async *lines(open: OpenResponse): AsyncGenerator<string> {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const tooLarge = () =>
      new RemoteError(
        'TOO_LARGE',
        `${this.host} sent more than ${Math.round(open.maxBytes / 1024 / 1024)} MB for ${open.route}; Glassbox stopped reading.`,
      );
    try {
      for await (const chunk of cappedChunks(open.res.body, open.maxBytes, tooLarge)) {
        pending += decoder.write(chunk);
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          yield pending.slice(0, nl).replace(/\r$/, '');
          pending = pending.slice(nl + 1);
        }
      }
    } catch (err) {
      if (err instanceof RemoteError) throw err;
      throw this.socketError(err, open.route, open.signal, open.timedOut(), true);
    } finally {
      open.res.body.destroy(); // also when the caller stops early: closes the connection
    }
    pending += decoder.end();
    if (pending) yield pending;
  }

  private socketError(
    err: unknown,
    route: string,
    signal: AbortSignal | undefined,
    timedOut: boolean,
    midStream = false,
  ) {
    // the deadline first: mid-stream `signal` is the caller's and the deadline's together, and a
    // server that trickled past the deadline is a timeout, not "the request was cancelled"
    if (timedOut || err instanceof IdleTimeoutError)
      return new RemoteError(
        'TIMEOUT',
        `${this.host} did not answer ${route} within ${(this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s.`,
        'Check that the server is running and not overloaded; glassbox.remote.timeoutMs sets the limit.',
      );
    if (signal?.aborted) return cancelled();
    const e = err as NodeJS.ErrnoException;
    if (midStream)
      return new RemoteError(
        'BAD_RESPONSE',
        `The connection to ${this.host} broke during ${route} (${e.code ?? e.message}).`,
      );
    return new RemoteError(
      'UNREACHABLE',
      `Cannot reach ${this.host} (${e.code ? `${e.code}: ` : ''}${e.message}).`,
      'Check that the server is running, glassbox.endpoint, and the proxy (http.proxy).',
    );
  }

  private async statusError(open: OpenResponse): Promise<RemoteError> {
    const { res, route } = open;
    let detail = '';
    try {
      let text = '';
      for await (const line of this.lines({ ...open, maxBytes: 64 * 1024 })) text += line + '\n';
      detail = serverMessage(text);
    } catch {
      // the status says enough
    }
    const what = `${this.host} answered HTTP ${res.status} to ${route}${detail ? `: ${detail}` : ''}`;
    if (res.status === 401 || res.status === 403)
      return new RemoteError(
        'UNAUTHORIZED',
        `${what}.`,
        'Run "Glassbox: Set API Key" (the CLI reads GLASSBOX_API_KEY), or check glassbox.remote.headers.',
      );
    if (res.status === 404)
      return new RemoteError(
        'NOT_FOUND',
        `${what}.`,
        "Check glassbox.remote.model (Glassbox: Select Model lists the server's models) and that glassbox.backend matches the server.",
      );
    if (res.status === 429) {
      const asked = retryAfterSeconds(res.headers['retry-after']);
      const after = asked === undefined ? undefined : Math.min(asked, MAX_RETRY_AFTER_S);
      return new RemoteError(
        'RATE_LIMITED',
        `${what}.`,
        after === undefined
          ? 'Glassbox waits before asking again.'
          : after < asked!
            ? `The server asked for ${asked} s; Glassbox waits at most ${after / 60} minutes before asking again.`
            : `Glassbox waits ${after} s before asking again.`,
        after,
      );
    }
    return new RemoteError('SERVER_ERROR', `${what}.`);
  }
}

/** The error text a server put in its body: OpenAI's `{error: {message}}`, llama.cpp's and Ollama's `{error}`. */
function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = j.error;
    const m =
      typeof e === 'string'
        ? e
        : typeof (e as { message?: unknown })?.message === 'string'
          ? (e as { message: string }).message
          : (j.message ?? j.detail);
    if (typeof m === 'string') return m.slice(0, 300);
  } catch {
    // not JSON
  }
  return /<html/i.test(text) ? '' : text.trim().slice(0, 200);
}

/** Longest wait a 429's Retry-After can impose, s: a server's 99999999999 must not block completions for ages. */
export const MAX_RETRY_AFTER_S = 600;

/** Retry-After as seconds: delta-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Server-sent events' `data:` payloads (joined across lines), up to `[DONE]` (sets `state.done`) or the end of the body. */
export async function* sseData(lines: AsyncIterable<string>, state?: { done: boolean }): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of lines) {
    if (line === '') {
      if (data.length) {
        const payload = data.join('\n');
        data = [];
        if (payload === '[DONE]') {
          if (state) state.done = true;
          return;
        }
        yield payload;
      }
    } else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    // comments (":"), `event:`, `id:` and `retry:` lines carry nothing these protocols use
  }
  if (data.length && data.join('\n') !== '[DONE]') yield data.join('\n');
  else if (data.length && state) state.done = true;
}

/**
 * An OpenAI-compatible answer's event payloads: its server-sent events, or the whole body when the
 * server ignored `stream: true` and sent one JSON object (`state.done` then). A compressed body or
 * one of another type is BAD_RESPONSE: taken as a stream, it gave an empty completion and no error.
 */
export async function* openAiPayloads(
  transport: Transport,
  open: OpenResponse,
  state: { done: boolean },
): AsyncGenerator<string> {
  const type = String(open.res.headers['content-type'] ?? '');
  const encoding = String(open.res.headers['content-encoding'] ?? 'identity');
  const refuse = (what: string) => {
    open.res.body.destroy();
    return new RemoteError(
      'BAD_RESPONSE',
      `${transport.host} answered ${open.route} with ${what}, not the stream of events Glassbox asked for.`,
      'Check glassbox.endpoint and glassbox.backend (a proxy in between may compress or rewrite the answer).',
    );
  };
  if (encoding !== 'identity') throw refuse(`a ${encoding}-compressed body`);
  if (/application\/json/i.test(type)) {
    let text = '';
    for await (const line of transport.lines(open)) text += line + '\n';
    state.done = true;
    yield text;
    return;
  }
  if (!/text\/event-stream/i.test(type)) throw refuse(type ? `"${type}"` : 'no content type');
  yield* sseData(transport.lines(open), state);
}

/** A stream that ended with neither [DONE] nor a finish reason was cut off: its text may be half an answer. */
export function cutOffStream(host: string, route: string): RemoteError {
  return new RemoteError(
    'BAD_RESPONSE',
    `${host}'s answer to ${route} ended before the server said it was done.`,
    'The connection was cut, or a proxy ended it; try again.',
  );
}

/** Parses one streamed JSON payload, or says the stream is not the protocol. */
export function parseEvent(payload: string, host: string, route: string): Record<string, unknown> {
  try {
    const v = JSON.parse(payload) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // below
  }
  throw new RemoteError(
    'BAD_RESPONSE',
    `${host} streamed something that is not JSON for ${route}: "${payload.slice(0, 80)}".`,
  );
}
