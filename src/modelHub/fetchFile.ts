/**
 * Downloads one file into `<dest>.part`, resuming with an HTTP Range request from whatever the
 * part file already holds. A dropped connection is retried (from where it stopped) until
 * `retries` attempts in a row bring no new bytes.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DownloadError } from './errors';
import type { NetOptions } from '../net/http';
import { hubGet, networkError, statusError } from './http';
import { fileSize } from './store';

interface FetchFileOptions {
  url: URL;
  /** The .part file written to. */
  partPath: string;
  /** Size the hub's listing gave; the file must come out exactly this long. */
  size: number;
  /** Name for messages (the path in the repository). */
  label: string;
  signal?: AbortSignal;
  net?: NetOptions;
  /** Consecutive attempts without progress before giving up. Default 5. */
  retries?: number;
  /** Wait before attempt n is n × this, ms. Default 500. */
  retryDelayMs?: number;
  /** Called with every chunk's length as it is written; `fromDisk` for bytes an earlier attempt left. */
  onBytes?: (n: number, fromDisk?: boolean) => void;
  /** Called before each retry, with the error that caused it. */
  onRetry?: (attempt: number, err: Error) => void;
}

/** Fetches the rest of the file into `partPath`; resolves once it holds exactly `size` bytes. */
export async function fetchFile(o: FetchFileOptions): Promise<void> {
  const retries = o.retries ?? 5;
  let failures = 0;
  let have = fileSize(o.partPath) ?? 0;
  if (have > o.size) {
    await fs.promises.rm(o.partPath, { force: true }); // not ours (another revision): start over
    have = 0;
  }
  o.onBytes?.(have, true);
  // an empty file has no bytes to fetch, but verification reads the part file
  if (o.size === 0 && fileSize(o.partPath) === undefined) await fs.promises.writeFile(o.partPath, '');
  while (have < o.size) {
    const before = have;
    try {
      await fetchRange(o, have);
    } catch (err) {
      const e = err as DownloadError;
      if (o.signal?.aborted) throw new DownloadError('CANCELLED', 'The download was cancelled.');
      if (e instanceof DownloadError && !['HUB_UNREACHABLE', 'HUB_HTTP'].includes(e.code)) throw e;
      have = fileSize(o.partPath) ?? 0;
      failures = have > before ? 1 : failures + 1;
      if (failures > retries) throw e;
      o.onRetry?.(failures, e);
      await sleep((o.retryDelayMs ?? 500) * failures, o.signal);
      continue;
    }
    have = fileSize(o.partPath) ?? 0;
    if (have === before)
      throw new DownloadError('HUB_HTTP', `${o.label}: the hub sent no bytes at offset ${have} of ${o.size}.`);
  }
}

/** One request for bytes `from`…end, written into the part file at their offset. */
async function fetchRange(o: FetchFileOptions, from: number): Promise<void> {
  const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
  const res = await hubGet(o.url, { headers, signal: o.signal, net: o.net });
  let start: number;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== from) {
      res.body.destroy();
      throw new DownloadError(
        'HUB_HTTP',
        `${o.label}: asked for bytes from ${from}, got Content-Range "${res.headers['content-range'] ?? ''}".`,
      );
    }
    if (m[3] !== '*' && Number(m[3]) !== o.size) throw changed(o, Number(m[3]), res.body);
    start = from;
  } else if (res.status === 200) {
    const length = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length !== o.size) throw changed(o, length, res.body);
    start = 0; // the server ignored Range: rewrite from the start
    if (from > 0) o.onBytes?.(-from);
  } else if (res.status === 416) {
    res.body.resume();
    // Nothing left to send: either complete, or the file shrank on the hub.
    if (from === o.size) return;
    await fs.promises.rm(o.partPath, { force: true });
    o.onBytes?.(-from);
    throw new DownloadError('HUB_HTTP', `${o.label}: the hub has no bytes after ${from}; starting over.`);
  } else {
    throw statusError(res, `${o.label}`);
  }
  let written = start;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      written += chunk.length;
      if (written > o.size) return done(changed(o, written));
      o.onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  // Positioned writes: a chunk still in flight when the connection drops lands at its own offset.
  const out = fs.createWriteStream(o.partPath, { flags: start > 0 ? 'r+' : 'w', start });
  try {
    await pipeline(res.body, guard, out, { signal: o.signal });
  } catch (err) {
    // The caller measures the part file next: let pending writes finish and the file close first.
    if (!out.closed) await once(out, 'close').catch(() => undefined);
    if (res.timedOut() && !o.signal?.aborted)
      throw new DownloadError(
        'HUB_UNREACHABLE',
        `${o.label}: no data from ${res.url.host} for ${(o.net?.idleTimeoutMs ?? 30_000) / 1000} s.`,
        'The download resumes where it stopped.',
      );
    throw err instanceof DownloadError
      ? err
      : (localWriteError(err, o.partPath) ?? networkError(err, res.url, o.signal));
  }
  if (written < o.size && res.body.complete) {
    // The server closed the response cleanly but short (no Content-Length): retry the rest.
    throw new DownloadError('HUB_HTTP', `${o.label}: the response ended at byte ${written} of ${o.size}.`);
  }
}

/**
 * A failure to write the part file (disk full, a read-only or forbidden folder), or undefined for
 * anything else. These are never the network's fault, so they are reported at once, not retried.
 */
function localWriteError(err: unknown, file: string): DownloadError | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new DownloadError(
      'DISK_FULL',
      `The disk is full: ${file} could not be written.`,
      'Free some space (or set glassbox.hub.storageFolder to another disk) and download again; what was downloaded is kept.',
    );
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return new DownloadError(
      'READ_ONLY',
      `${file} cannot be written (${code}).`,
      'Set glassbox.hub.storageFolder to a folder you can write to.',
    );
  return undefined;
}

function changed(
  o: FetchFileOptions,
  actual: number,
  body?: NodeJS.ReadableStream & { destroy(): void },
): DownloadError {
  body?.destroy();
  return new DownloadError(
    'FILES_CHANGED',
    `${o.label} is ${actual} bytes on the hub now; the file list said ${o.size}.`,
    'The repository changed while downloading; open the model list again to re-read it.',
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DownloadError('CANCELLED', 'The download was cancelled.'));
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      if (signal?.aborted) reject(new DownloadError('CANCELLED', 'The download was cancelled.'));
      else resolve();
    }
  });
}
