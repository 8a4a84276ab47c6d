/**
 * The Hugging Face hub's HTTP API, the part Glassbox needs: which commit a revision points at,
 * the repository's file listing with sizes and hashes, and each file's download URL. A mirror
 * that serves the same paths works by changing the base URL.
 *
 *   GET {base}/api/models/{repo}/revision/{rev}            → { sha, ... }
 *   GET {base}/api/models/{repo}/tree/{rev}?recursive=true → [{ type, path, size, oid, lfs?: { oid, size } }]
 *   GET {base}/{repo}/resolve/{rev}/{path}                  → the file (may redirect; honours Range)
 */
import { DownloadError } from './errors';
import type { NetOptions } from '../net/http';
import { checkHubUrl, hubGet, readJsonBody, statusError } from './http';
import { unsafeRepoPath } from './safePath';

const DEFAULT_HUB = 'https://huggingface.co';

/** One file of a repository. LFS files carry their sha256; small git files their git blob id. */
export interface HubFile {
  path: string;
  size: number;
  /** sha256 of the content (hex), from `lfs.oid`. */
  sha256?: string;
  /** Git blob id (sha1 over "blob <size>\0" + content, hex) when the file is not in LFS. */
  gitOid?: string;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function checkRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new DownloadError('INVALID', `"${repo}" is not a hub repository id (expected owner/name).`);
  }
}

/** `text` with any `user:password@` after a scheme's `//` replaced by `…@`, for messages. */
export function withoutCredentials(text: string): string {
  return text.replace(/(\/\/)[^/@\s]*@/g, '$1…@');
}

/** Pages of a file list read at most (the hub's pages hold 1,000 entries). */
const MAX_PAGES = 100;

export class HubClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string = DEFAULT_HUB,
    readonly net: NetOptions = {},
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl.trim() || DEFAULT_HUB);
    } catch {
      throw new DownloadError('INVALID', `glassbox.hub.baseUrl "${withoutCredentials(baseUrl)}" is not a URL.`);
    }
    // a user name or password in the URL would go out as Basic auth and into every message
    if (url.username || url.password)
      throw new DownloadError(
        'INVALID',
        `glassbox.hub.baseUrl "${withoutCredentials(baseUrl)}" holds a user name or password.`,
        'Remove them from the address: Glassbox never sends credentials written into a URL.',
      );
    checkHubUrl(url);
    this.baseUrl = url.href.replace(/\/+$/, '');
  }

  /** The commit a branch or tag points at, so every file comes from the same commit. */
  async resolveRevision(repo: string, revision = 'main', signal?: AbortSignal): Promise<string> {
    checkRepoId(repo);
    const res = await hubGet(new URL(`${this.baseUrl}/api/models/${repo}/revision/${encodeURIComponent(revision)}`), {
      signal,
      net: this.net,
    });
    if (res.status !== 200) throw statusError(res, `model ${repo} at ${revision}`);
    const body = (await readJsonBody(res)) as { sha?: unknown };
    if (typeof body?.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha)) {
      throw new DownloadError('HUB_HTTP', `${this.baseUrl} gave no commit id for ${repo}@${revision}.`);
    }
    return body.sha;
  }

  /** Every file in the repository at `revision`, with sizes and hashes (follows `Link: rel="next"`). */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<HubFile[]> {
    checkRepoId(repo);
    const files: HubFile[] = [];
    const listed = new Set<string>();
    const pages = new Set<string>();
    let next: URL | undefined = new URL(
      `${this.baseUrl}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`,
    );
    // a page that names itself (or an earlier one) as the next ends the listing
    for (let page = 0; next && !pages.has(next.href); page++) {
      if (page >= MAX_PAGES)
        throw new DownloadError(
          'HUB_HTTP',
          `${repo}'s file list goes on past ${MAX_PAGES} pages; Glassbox stopped reading it.`,
        );
      // the next page comes from the hub itself: another host, or credentials in the link, are not followed
      if (next.origin !== new URL(this.baseUrl).origin || next.username || next.password)
        throw new DownloadError(
          'INVALID',
          `${repo}'s file list points its next page at another address (${next.protocol}//${next.host}).`,
          'The hub (or mirror) sent a broken listing: try again later, or choose another model.',
        );
      pages.add(next.href);
      const res = await hubGet(next, { signal, net: this.net });
      if (res.status !== 200) throw statusError(res, `file list of ${repo}@${revision}`);
      const link = res.headers.link;
      const body = await readJsonBody(res);
      if (!Array.isArray(body)) throw new DownloadError('HUB_HTTP', `${res.url.href} did not answer a file list.`);
      for (const entry of body) {
        const file = parseEntry(entry, repo);
        if (!file || listed.has(file.path)) continue;
        listed.add(file.path);
        const why = unsafeRepoPath(file.path);
        if (why)
          throw new DownloadError(
            'INVALID',
            `${repo} lists the file "${file.path}", which cannot be downloaded safely: ${why}.`,
            'Choose another model, or download its files by hand and point glassbox.modelPath at the folder.',
          );
        files.push(file);
      }
      next = nextLink(typeof link === 'string' ? link : undefined, res.url);
    }
    // `a` and `a/b` cannot both be files on disk (every folder of every path, looked up: linear)
    const folders = new Set<string>();
    for (const f of files)
      for (let i = f.path.indexOf('/'); i > 0; i = f.path.indexOf('/', i + 1)) folders.add(f.path.slice(0, i));
    for (const f of files)
      if (folders.has(f.path))
        throw new DownloadError(
          'INVALID',
          `${repo} lists "${f.path}" both as a file and as a folder of other files.`,
          'Choose another model, or download its files by hand and point glassbox.modelPath at the folder.',
        );
    return files;
  }

  /** Where to download one file from. */
  fileUrl(repo: string, revision: string, file: string): URL {
    checkRepoId(repo);
    const why = unsafeRepoPath(file);
    if (why) throw new DownloadError('INVALID', `Unsafe file path "${file}" in ${repo}: ${why}.`);
    const encoded = file.split('/').map(encodeURIComponent).join('/');
    return new URL(`${this.baseUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${encoded}`);
  }
}

function parseEntry(raw: unknown, repo: string): HubFile | undefined {
  const e = raw as {
    type?: unknown;
    path?: unknown;
    size?: unknown;
    oid?: unknown;
    lfs?: { oid?: unknown; size?: unknown };
  };
  if (e?.type !== 'file' || typeof e.path !== 'string') return undefined;
  const lfs = e.lfs && typeof e.lfs.oid === 'string' ? e.lfs : undefined;
  const size: unknown = lfs && typeof lfs.size === 'number' ? lfs.size : e.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new DownloadError(
      'INVALID',
      `${repo} lists the file "${e.path}" with a size of ${JSON.stringify(size)} bytes, which no file has.`,
      'The hub (or mirror) sent a broken listing: try again later, or choose another model.',
    );
  const hex = (v: unknown, len: number) =>
    typeof v === 'string' && new RegExp(`^[0-9a-f]{${len}}$`).test(v) ? v : undefined;
  return {
    path: e.path,
    // An LFS entry's own size is the object's size; `size` at the top level is the same on the hub.
    size,
    sha256: lfs ? hex(lfs.oid, 64) : undefined,
    gitOid: lfs ? undefined : hex(e.oid, 40),
  };
}

function nextLink(header: string | undefined, base: URL): URL | undefined {
  const m = header && /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  return m ? new URL(m[1], base) : undefined;
}
