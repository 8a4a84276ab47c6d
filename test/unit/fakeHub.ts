/**
 * A real HTTP server on 127.0.0.1 that answers like the Hugging Face hub for model folders on
 * disk: the revision and tree APIs (LFS files with sha256 oids, small files with git blob ids),
 * and `resolve` downloads with Range support, LFS files redirected to a "CDN" path as the hub
 * does. Faults are switched on per file: drop the connection after N bytes, serve wrong bytes,
 * 404, trickle slowly, ignore Range, or list a different size.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

interface HubRepo {
  dir: string;
  commit: string;
  /** Repository path → file on disk. */
  files: Map<string, string>;
}

interface Faults {
  /** Path → bytes to send before destroying the socket; each entry fires once. */
  dropAfter: Map<string, number>;
  /** Paths served with one byte flipped (the listing keeps the true hashes). */
  corrupt: Set<string>;
  /** Paths listed but answered with 404. */
  missing: Set<string>;
  /** Bytes per second for these paths (0 or absent: full speed). */
  slow: Map<string, number>;
  /** Paths for which Range is ignored (answered 200 from byte 0). */
  ignoreRange: Set<string>;
  /** Path → size the listing claims instead of the real one. */
  listedSize: Map<string, number>;
  /** Every listing page names itself as the next page (a broken mirror). */
  selfLink: { on: boolean; clear(): void };
  /** The next page every listing page names, from its own URL (a broken or hostile mirror). */
  nextPage: { to?: (url: URL) => string; clear(): void };
}

interface LoggedRequest {
  url: string;
  range?: string;
}

/** Files at least this large (and every .onnx) are "LFS" files with sha256 oids. */
const LFS_THRESHOLD = 100_000;

export class FakeHub {
  readonly repos = new Map<string, HubRepo>();
  readonly faults: Faults = {
    dropAfter: new Map(),
    corrupt: new Set(),
    missing: new Set(),
    slow: new Map(),
    ignoreRange: new Set(),
    listedSize: new Map(),
    selfLink: {
      on: false,
      clear() {
        this.on = false;
      },
    },
    nextPage: {
      clear() {
        this.to = undefined;
      },
    },
  };
  readonly log: LoggedRequest[] = [];
  /** Entries per tree page (the hub paginates with a Link header). */
  pageSize = 1000;
  private server?: http.Server;
  url = '';

  /** Serves the files under `dir` (relative paths, '/' separated) as repository `repo`. */
  addRepo(repo: string, dir: string, only?: (p: string) => boolean): HubRepo {
    const files = new Map<string, string>();
    for (const rel of walk(dir)) if (!only || only(rel)) files.set(rel, path.join(dir, rel));
    const commit = createHash('sha1').update(repo).digest('hex');
    const r = { dir, commit, files };
    this.repos.set(repo, r);
    return r;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) =>
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
        else res.destroy();
      }),
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests for one repository path (the resolve and the CDN hop). */
  requestsFor(file: string): LoggedRequest[] {
    return this.log.filter((r) => decodeURIComponent(r.url.split('?')[0]).endsWith(`/${file}`));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    this.log.push({ url: url.pathname + url.search, range: req.headers.range });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'api' && parts[1] === 'models') {
      const repo = this.repos.get(`${parts[2]}/${parts[3]}`);
      if (!repo) return json(res, 404, { error: 'Repository not found' });
      if (parts[4] === 'revision') return json(res, 200, { id: `${parts[2]}/${parts[3]}`, sha: repo.commit });
      if (parts[4] === 'tree') return this.tree(url, repo, res);
    }
    if (parts[0] === 'lfs-cdn')
      return this.serveFile(this.repos.get(`${parts[1]}/${parts[2]}`), parts.slice(3).join('/'), req, res);
    if (parts[2] === 'resolve') {
      const name = `${parts[0]}/${parts[1]}`;
      const repo = this.repos.get(name);
      const file = parts.slice(4).join('/');
      if (repo && repo.files.has(file) && isLfs(file, fs.statSync(repo.files.get(file)!).size)) {
        res
          .writeHead(302, {
            location: `/lfs-cdn/${name}/${file.split('/').map(encodeURIComponent).join('/')}?sig=fake`,
          })
          .end();
        return;
      }
      return this.serveFile(repo, file, req, res);
    }
    json(res, 404, { error: 'Not found' });
  }

  private tree(url: URL, repo: HubRepo, res: http.ServerResponse): void {
    const entries: object[] = [];
    const dirs = new Set<string>();
    // Like the hub: without recursive=true only the top level is listed.
    const recursive = url.searchParams.get('recursive') === 'true';
    for (const [p, file] of [...repo.files].sort()) {
      if (!recursive && p.includes('/')) {
        dirs.add(p.split('/')[0]);
        continue;
      }
      for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
      const bytes = fs.readFileSync(file);
      const size = this.faults.listedSize.get(p) ?? bytes.length;
      const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
      const entry: Record<string, unknown> = { type: 'file', oid: gitOid, size, path: p };
      if (isLfs(p, bytes.length))
        entry.lfs = { oid: createHash('sha256').update(bytes).digest('hex'), size, pointerSize: 134 };
      entries.push(entry);
    }
    for (const d of dirs) entries.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: d });
    const start = Number(url.searchParams.get('cursor') ?? 0);
    const page = entries.slice(start, start + this.pageSize);
    const headers: Record<string, string> = {};
    if (this.faults.nextPage.to) headers.link = `<${this.faults.nextPage.to(url)}>; rel="next"`;
    else if (this.faults.selfLink.on) headers.link = `<${url.href}>; rel="next"`;
    else if (start + this.pageSize < entries.length) {
      const next = new URL(url.href);
      next.searchParams.set('cursor', String(start + this.pageSize));
      headers.link = `<${next.href}>; rel="next"`;
    }
    json(res, 200, page, headers);
  }

  private async serveFile(
    repo: HubRepo | undefined,
    file: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const disk = repo?.files.get(file);
    if (!repo || !disk || this.faults.missing.has(file)) return json(res, 404, { error: 'Entry not found' });
    let body = fs.readFileSync(disk);
    if (this.faults.corrupt.has(file)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const size = body.length;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let from = 0;
    let to = size - 1;
    if (m && !this.faults.ignoreRange.has(file)) {
      from = Number(m[1]);
      if (m[2]) to = Math.min(Number(m[2]), size - 1);
      if (from >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      res.writeHead(206, {
        'content-length': to - from + 1,
        'content-range': `bytes ${from}-${to}/${size}`,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    }
    let chunk = body.subarray(from, to + 1);
    const drop = this.faults.dropAfter.get(file);
    if (drop !== undefined && drop < chunk.length) {
      this.faults.dropAfter.delete(file);
      chunk = chunk.subarray(0, drop);
      await writeSlowly(res, chunk, this.faults.slow.get(file));
      res.socket?.destroy(); // the connection drops mid-file
      return;
    }
    await writeSlowly(res, chunk, this.faults.slow.get(file));
    res.end();
  }
}

/** Writes `data` at `bytesPerSecond` (in 8 KB steps), or at once; stops if the client left. */
async function writeSlowly(res: http.ServerResponse, data: Buffer, bytesPerSecond?: number): Promise<void> {
  // Resolves when the bytes reached the socket, or the client went away.
  const write = (b: Buffer) =>
    new Promise<void>((resolve) => {
      const done = () => (res.off('close', done), resolve());
      res.once('close', done);
      res.write(b, done);
    });
  if (!bytesPerSecond) return write(data);
  const step = 8192;
  for (let i = 0; i < data.length && !res.destroyed; i += step) {
    await write(data.subarray(i, i + step));
    await new Promise((r) => setTimeout(r, (step / bytesPerSecond) * 1000));
  }
}

function isLfs(p: string, size: number): boolean {
  return p.endsWith('.onnx') || p.includes('.onnx_data') || p.endsWith('.onnx.data') || size >= LFS_THRESHOLD;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
    .end(text);
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}
