/**
 * GET with redirects followed under a policy: every hop is checked again (an https address may
 * redirect to plain http, or to another host), at most MAX_REDIRECTS hops. Model downloads (the hub
 * sends LFS files to a CDN) and the price update use it, each with its own policy and errors.
 */
import { httpRequest, isLoopback, type HttpResponse, type NetOptions } from './http';

const MAX_REDIRECTS = 5;

/** HTTPS, or plain HTTP to this machine (a local test server or mirror). */
export function isSecureUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url));
}

export interface GetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  net?: NetOptions;
  /** Called for the first address and every hop after it; throws to refuse it. */
  allow: (url: URL, from?: URL) => void;
  /** The error for more than MAX_REDIRECTS hops. */
  tooManyRedirects: () => Error;
  /** Maps a socket-level failure (refused, DNS, idle timeout, abort) to the caller's error. */
  networkError: (err: unknown, url: URL) => Error;
}

/** One GET, following redirects. The caller must consume or destroy `body`. */
export async function getFollowingRedirects(start: URL, o: GetOptions): Promise<HttpResponse> {
  let url = start;
  for (let hop = 0; ; hop++) {
    o.allow(url, hop > 0 ? start : undefined);
    let res: HttpResponse;
    try {
      if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      res = await httpRequest(url, { headers: o.headers ?? {}, signal: o.signal, net: o.net ?? {} });
    } catch (err) {
      throw o.networkError(err, url);
    }
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      res.body.resume(); // drain the redirect body so the socket can be reused
      if (hop >= MAX_REDIRECTS) throw o.tooManyRedirects();
      url = new URL(location, url);
      continue;
    }
    return res;
  }
}
