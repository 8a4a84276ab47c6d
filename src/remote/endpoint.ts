/**
 * The server a user points Glassbox at: `glassbox.endpoint` (or the CLI's --endpoint) read into a
 * base URL. Nothing is sent anywhere unless the user set one.
 */
import { isLoopback } from '../net/http';
import { RemoteError } from './errors';

export type BackendKind = 'openai' | 'llamacpp' | 'ollama';
export const BACKEND_KINDS: readonly BackendKind[] = ['openai', 'llamacpp', 'ollama'];

/** Each server's address when it runs on this machine with its defaults (shown as examples). */
export const EXAMPLE_ENDPOINTS: Record<BackendKind, string> = {
  openai: 'http://127.0.0.1:8000/v1', // vLLM's `vllm serve`
  llamacpp: 'http://127.0.0.1:8080', // llama.cpp's `llama-server`
  ollama: 'http://127.0.0.1:11434', // `ollama serve`
};

/**
 * The base URL under which the backend's routes live, without a trailing slash. An OpenAI-compatible
 * endpoint is accepted with or without its `/v1` (people copy either from server docs).
 */
export function parseEndpoint(raw: string | undefined, kind: BackendKind): URL {
  const text = (raw ?? '').trim();
  const fix = `Set glassbox.endpoint to the server's address, e.g. ${EXAMPLE_ENDPOINTS[kind]}.`;
  if (!text) throw new RemoteError('ENDPOINT_INVALID', `No endpoint is set for the ${kind} backend.`, fix);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RemoteError('ENDPOINT_INVALID', `"${text}" is not a URL.`, fix);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RemoteError('ENDPOINT_INVALID', `${url.protocol} is not a model server's scheme.`, fix);
  if (url.username || url.password)
    throw new RemoteError(
      'ENDPOINT_INVALID',
      'The endpoint has a user name or password in it, where anyone who sees the setting can read it.',
      'Remove it and run "Glassbox: Set API Key" instead.',
    );
  url.search = '';
  url.hash = '';
  let p = url.pathname.replace(/\/+$/, '');
  if (kind === 'openai') p = p.replace(/\/v1$/, '');
  url.pathname = p || '/';
  return url;
}

/** `base` + `route` ("/v1/completions"), keeping a path prefix the base has (a reverse proxy's). */
export function routeUrl(base: URL, route: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/$/, '')}${route}`;
  return url;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The extra headers a user set (glassbox.remote.headers) that can be sent, and the names of those
 * that cannot: a name that is not a token, or a value with a line break or NUL. Such an entry once
 * failed every request as "Cannot reach host… check the server is running".
 */
export function checkHeaders(headers: Record<string, string>): { headers: Record<string, string>; bad: string[] } {
  const ok: Record<string, string> = {};
  const bad: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (HEADER_NAME.test(name) && typeof value === 'string' && !/[\r\n\0]/.test(value)) ok[name] = value;
    else bad.push(name);
  }
  return { headers: ok, bad };
}

/** Whether a key for this server would cross the network unencrypted: plain http to a host that is not this machine. */
export function keyInTheClear(base: URL): boolean {
  return base.protocol === 'http:' && !isLoopback(base);
}
