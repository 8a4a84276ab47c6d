/**
 * GET requests to the model hub: HTTPS only (plain HTTP only to a loopback test hub), redirects
 * followed (the hub sends LFS files to a CDN), abort by AbortSignal (src/net), with the hub's errors
 * (DownloadError). Plain Node; the proxy is the caller's choice of route (NetOptions.proxySupport):
 * the VS Code side leaves it to the extension host, the CLI and tests bring their own.
 */
import { readCapped } from '../net/capped';
import { getFollowingRedirects, isSecureUrl } from '../net/get';
import { IdleTimeoutError, type HttpResponse, type NetOptions } from '../net/http';
import { DownloadError } from './errors';

/** Throws INSECURE_URL unless the URL is HTTPS, or HTTP to this machine (a local test hub). */
export function checkHubUrl(url: URL): void {
  if (isSecureUrl(url)) return;
  throw new DownloadError(
    'INSECURE_URL',
    `Refusing ${url.protocol}//${url.host}: model downloads use HTTPS only.`,
    'Set glassbox.hub.baseUrl to an https:// address.',
  );
}

/** One GET, following redirects (each hop HTTPS again). The caller must consume or destroy `body`. */
export function hubGet(
  start: URL,
  opts: {
    headers?: Record<string, string>;
    signal?: AbortSignal;
    net?: NetOptions;
    /** Called before a redirect is followed; throws to refuse it (default: any https address). */
    redirect?: (from: URL, to: URL) => void;
  } = {},
): Promise<HttpResponse> {
  return getFollowingRedirects(start, {
    ...opts,
    allow: (url, from) => {
      if (from) opts.redirect?.(from, url);
      checkHubUrl(url);
    },
    tooManyRedirects: () => new DownloadError('HUB_HTTP', `Too many redirects fetching ${start.href}.`),
    networkError: (err, url) => networkError(err, url, opts.signal),
  });
}

/** Maps a socket-level failure to CANCELLED or HUB_UNREACHABLE with the cause in words. */
export function networkError(err: unknown, url: URL, signal?: AbortSignal): DownloadError {
  if (err instanceof DownloadError) return err;
  if (signal?.aborted) return new DownloadError('CANCELLED', 'The download was cancelled.');
  if (err instanceof IdleTimeoutError)
    return new DownloadError(
      'HUB_UNREACHABLE',
      err.message,
      'Check the network and the proxy (http.proxy); the download resumes where it stopped.',
    );
  const e = err as NodeJS.ErrnoException;
  const why = e.code ? `${e.code}: ${e.message}` : e.message;
  return new DownloadError(
    'HUB_UNREACHABLE',
    `Cannot reach ${url.host} (${why}).`,
    'Check the network, the proxy (http.proxy) and glassbox.hub.baseUrl.',
  );
}

/** Reads a JSON response body (at most `maxBytes`). */
export async function readJsonBody(res: HttpResponse, maxBytes = 32 * 1024 * 1024): Promise<unknown> {
  const text = await readCapped(
    res.body,
    maxBytes,
    () => new DownloadError('HUB_HTTP', `${res.url.href} answered more than ${maxBytes} bytes of JSON.`),
  );
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new DownloadError('HUB_HTTP', `${res.url.href} did not answer JSON: ${(err as Error).message}.`);
  }
}

/** An error for a status the caller did not expect, worded by status class. */
export function statusError(res: HttpResponse, what: string): DownloadError {
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
