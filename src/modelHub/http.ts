/**
 * GET requests to the model hub: HTTPS only (plain HTTP only to a loopback test hub), redirects
 * followed (the hub sends LFS files to a CDN), proxy from settings or the environment, abort by
 * AbortSignal. Plain Node; the VS Code side passes its `http.proxy` setting in.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { DownloadError } from './errors';

export interface NetOptions {
  /** Proxy URL (VS Code's `http.proxy`); else HTTPS_PROXY / https_proxy / ALL_PROXY. */
  proxy?: string;
  /** Verify the server's certificate (VS Code's `http.proxyStrictSSL`). Default true. */
  strictSSL?: boolean;
  /** Longest silence on a connection before it counts as dropped, ms. Default 30 000. */
  idleTimeoutMs?: number;
  /** Environment to read proxy variables from (tests pass their own). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

interface HubResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  /** The URL that answered, after redirects. */
  url: URL;
  /** Whether the connection was closed for staying silent too long (the body's error then says only "aborted"). */
  timedOut: () => boolean;
}

const MAX_REDIRECTS = 5;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK.has(url.hostname);
}

/** Throws INSECURE_URL unless the URL is HTTPS, or HTTP to this machine (a local test hub). */
export function checkHubUrl(url: URL): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url)) return;
  throw new DownloadError(
    'INSECURE_URL',
    `Refusing ${url.protocol}//${url.host}: model downloads use HTTPS only.`,
    'Set glassbox.hub.baseUrl to an https:// address.',
  );
}

/** The proxy to use for `url`, or undefined for a direct connection (loopback, NO_PROXY). */
export function proxyFor(url: URL, opts: NetOptions = {}): string | undefined {
  if (isLoopback(url)) return undefined;
  const env = opts.env ?? process.env;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const host = url.hostname.toLowerCase();
  if (noProxy.some((p) => p === '*' || host === p.replace(/^\./, '') || host.endsWith(p.startsWith('.') ? p : `.${p}`)))
    return undefined;
  const proxy = opts.proxy?.trim() || env.HTTPS_PROXY || env.https_proxy || env.ALL_PROXY || env.all_proxy;
  return proxy || undefined;
}

const agents = new Map<string, http.Agent>();

function agentFor(url: URL, opts: NetOptions): http.Agent | undefined {
  const proxy = proxyFor(url, opts);
  if (!proxy || url.protocol !== 'https:') return undefined;
  const key = `${proxy}|${opts.strictSSL !== false}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new HttpsProxyAgent(proxy, { rejectUnauthorized: opts.strictSSL !== false });
    agents.set(key, agent);
  }
  return agent;
}

/** One GET, following redirects. The caller must consume or destroy `body`. */
export async function hubGet(
  start: URL,
  opts: { headers?: Record<string, string>; signal?: AbortSignal; net?: NetOptions } = {},
): Promise<HubResponse> {
  let url = start;
  for (let hop = 0; ; hop++) {
    checkHubUrl(url);
    const res = await requestOnce(url, opts.headers ?? {}, opts.signal, opts.net ?? {});
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      res.body.resume(); // drain the redirect body so the socket can be reused
      if (hop >= MAX_REDIRECTS) throw new DownloadError('HUB_HTTP', `Too many redirects fetching ${start.href}.`);
      url = new URL(location, url);
      continue;
    }
    return res;
  }
}

function requestOnce(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  net: NetOptions,
): Promise<HubResponse> {
  if (signal?.aborted) return Promise.reject(new DownloadError('CANCELLED', 'The download was cancelled.'));
  const lib = url.protocol === 'https:' ? https : http;
  const idleMs = net.idleTimeoutMs ?? 30_000;
  let idle = false;
  const silence = () =>
    new DownloadError(
      'HUB_UNREACHABLE',
      `No data from ${url.host} for ${idleMs / 1000} s.`,
      'Check the network and the proxy (http.proxy); the download resumes where it stopped.',
    );
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: 'GET',
      headers: { 'user-agent': 'glassbox-vscode', ...headers },
      agent: agentFor(url, net),
      rejectUnauthorized: net.strictSSL !== false,
      signal,
    });
    req.setTimeout(idleMs, () => {
      idle = true;
      req.destroy(silence());
    });
    req.once('response', (body) =>
      resolve({ status: body.statusCode ?? 0, headers: body.headers, body, url, timedOut: () => idle }),
    );
    req.once('error', (err) => reject(idle ? silence() : networkError(err, url, signal)));
    req.end();
  });
}

/** Maps a socket-level failure to CANCELLED or HUB_UNREACHABLE with the cause in words. */
export function networkError(err: unknown, url: URL, signal?: AbortSignal): DownloadError {
  if (err instanceof DownloadError) return err;
  if (signal?.aborted) return new DownloadError('CANCELLED', 'The download was cancelled.');
  const e = err as NodeJS.ErrnoException;
  const why = e.code ? `${e.code}: ${e.message}` : e.message;
  return new DownloadError(
    'HUB_UNREACHABLE',
    `Cannot reach ${url.host} (${why}).`,
    'Check the network, the proxy (http.proxy) and glassbox.hub.baseUrl.',
  );
}

/** Reads a JSON response body (at most `maxBytes`). */
export async function readJsonBody(res: HubResponse, maxBytes = 32 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += (chunk as Buffer).length;
    if (n > maxBytes) {
      res.body.destroy();
      throw new DownloadError('HUB_HTTP', `${res.url.href} answered more than ${maxBytes} bytes of JSON.`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new DownloadError('HUB_HTTP', `${res.url.href} did not answer JSON: ${(err as Error).message}.`);
  }
}

/** An error for a status the caller did not expect, worded by status class. */
export function statusError(res: HubResponse, what: string): DownloadError {
  res.body.resume();
  const where = `${what} (${res.url.host}, HTTP ${res.status})`;
  if (res.status === 404)
    return new DownloadError(
      'NOT_FOUND',
      `Not found on the hub: ${where}.`,
      'The repository or file may have been renamed or removed.',
    );
  if (res.status === 401 || res.status === 403) {
    return new DownloadError(
      'UNAUTHORIZED',
      `The hub refused access to ${where}.`,
      'The repository may be gated or private; download it yourself and use "Open model folder…".',
    );
  }
  return new DownloadError('HUB_HTTP', `The hub answered HTTP ${res.status} for ${where}.`);
}
