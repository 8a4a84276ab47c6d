/**
 * The one HTTP client of Glassbox: model downloads, the price update and model servers all go
 * through `httpRequest`. An idle timeout, abort by AbortSignal, and a proxy chosen by one of two
 * routes: inside VS Code the extension host's own (`proxySupport: 'host'`, Config.net()), in the
 * CLI Glassbox's (a proxy URL or HTTPS_PROXY, never for this machine). Plain Node.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';

export interface NetOptions {
  /**
   * Who routes requests through a proxy.
   * - 'host': the process's own `http`/`https` modules. VS Code's extension host patches them
   *   (`http.proxySupport`) to follow `http.proxy`, PAC files and the system's proxy, `http.noProxy`,
   *   proxy authorization (Kerberos, Basic) and the system's certificates; Glassbox adds no agent,
   *   which under `http.proxySupport: "on"` would win over all of that.
   * - 'own' (default): Glassbox's HttpsProxyAgent to `proxy`, else HTTPS_PROXY / ALL_PROXY (the CLI).
   */
  proxySupport?: 'host' | 'own';
  /** Proxy URL for the 'own' route; else HTTPS_PROXY / https_proxy / ALL_PROXY. */
  proxy?: string;
  /** Verify the server's certificate (VS Code's `http.proxyStrictSSL`). Default true. */
  strictSSL?: boolean;
  /** Longest silence on a connection before it counts as dropped, ms. Default 30 000. */
  idleTimeoutMs?: number;
  /** Environment to read proxy variables from (tests pass their own). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  /** The URL that answered. */
  url: URL;
  /** Whether the connection was closed for staying silent too long (the body's error then says only "aborted"). */
  timedOut: () => boolean;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A request body (JSON is the caller's to stringify). */
  body?: string;
  signal?: AbortSignal;
  net?: NetOptions;
}

/** Raised for a connection that stayed silent longer than the idle timeout. */
export class IdleTimeoutError extends Error {
  constructor(
    readonly url: URL,
    readonly idleMs: number,
  ) {
    super(`No data from ${url.host} for ${idleMs / 1000} s.`);
    this.name = 'IdleTimeoutError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK.has(url.hostname);
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

/** Glassbox's own proxy agent for `url`, or undefined for the default agent (the host's route, or direct). */
export function agentFor(url: URL, opts: NetOptions): http.Agent | undefined {
  if (opts.proxySupport === 'host') return undefined;
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

/**
 * One request, no redirects followed. Resolves on the response head; the caller must consume or
 * destroy `body`. Rejects with the socket's error, an IdleTimeoutError, or an AbortError.
 */
export function httpRequest(url: URL, req: HttpRequest = {}): Promise<HttpResponse> {
  const net = req.net ?? {};
  const lib = url.protocol === 'https:' ? https : http;
  const idleMs = net.idleTimeoutMs ?? 30_000;
  let idle = false;
  return new Promise((resolve, reject) => {
    const r = lib.request(url, {
      method: req.method ?? 'GET',
      headers: {
        'user-agent': 'glassbox-vscode',
        ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}),
        ...req.headers,
      },
      agent: agentFor(url, net),
      rejectUnauthorized: net.strictSSL !== false,
      signal: req.signal,
    });
    r.setTimeout(idleMs, () => {
      idle = true;
      r.destroy(new IdleTimeoutError(url, idleMs));
    });
    r.once('response', (body) =>
      resolve({ status: body.statusCode ?? 0, headers: body.headers, body, url, timedOut: () => idle }),
    );
    r.once('error', reject);
    r.end(req.body);
  });
}
