/**
 * The download manager: plans a model download from the hub's file listing (sizes, hashes, disk
 * space), then fetches every file with resume, verifies each one, and installs the model with one
 * atomic rename once all of them are verified. One download per model at a time (a lock file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DownloadError, formatBytes } from './errors';
import { fetchFile } from './fetchFile';
import type { HubClient, HubFile } from './hubClient';
import { insideFolder } from './safePath';
import {
  fileSize,
  INSTALL_MARKER,
  modelSlug,
  ModelStore,
  type DownloadManifest,
  type InstalledModel,
  type InstallMarker,
} from './store';
import { verifyFile } from './verify';

/** What to download: a repository at a revision, some of its files, under a variant name. */
export interface DownloadRequest {
  repo: string;
  revision?: string;
  /** Name of this file selection, e.g. "q4"; part of the install folder's name. */
  variant: string;
  title: string;
  /** The decoder .onnx, relative to the model folder (the repository root, or `subfolder`). */
  onnxFile: string;
  /** The model folder inside the repository; its files land at the install folder's root. */
  subfolder?: string;
  /** Every file to fetch (the decoder and its external data included), as the hub lists them. */
  files: HubFile[];
  /** Commit the listing was read at (from HubClient.resolveRevision). */
  commit: string;
}

export interface DownloadPlan {
  request: DownloadRequest;
  slug: string;
  totalBytes: number;
  /** Bytes already on disk from an earlier, interrupted download of the same files. */
  resumeBytes: number;
  freeBytes: number;
  /** Free space the download still needs (the rest of the files plus a margin). */
  neededBytes: number;
}

export interface DownloadProgress {
  file: string;
  fileIndex: number;
  fileCount: number;
  doneBytes: number;
  totalBytes: number;
  /** Over the last few seconds. */
  bytesPerSecond: number;
  phase: 'download' | 'verify' | 'install';
}

interface DownloaderOptions {
  store: ModelStore;
  hub: HubClient;
  /** Free bytes on the storage volume (tests inject a small number). Default: statfs. */
  freeBytes?: (dir: string) => Promise<number>;
  retries?: number;
  retryDelayMs?: number;
  /** Called when a dropped connection is retried (for the log). */
  onRetry?: (file: string, attempt: number, err: Error) => void;
}

/** Headroom kept free beyond the files themselves. */
const SPACE_MARGIN = 64 * 1024 * 1024;
const RATE_WINDOW_MS = 3000;
const PROGRESS_EVERY_MS = 200;

export class Downloader {
  constructor(private readonly o: DownloaderOptions) {}

  /** Checks the storage folder and disk space; throws READ_ONLY or DISK_FULL with the numbers. */
  async plan(request: DownloadRequest): Promise<DownloadPlan> {
    const { store } = this.o;
    await store.ensureWritable();
    const slug = modelSlug(request.repo, request.variant);
    const totalBytes = request.files.reduce((s, f) => s + f.size, 0);
    const resumeBytes = this.resumableBytes(slug, request);
    const freeBytes = await (this.o.freeBytes ?? (() => store.freeBytes()))(store.root);
    const neededBytes = totalBytes - resumeBytes + SPACE_MARGIN;
    const plan = { request, slug, totalBytes, resumeBytes, freeBytes, neededBytes };
    if (freeBytes < neededBytes) {
      throw new DownloadError(
        'DISK_FULL',
        `Not enough disk space for ${request.title}: it needs ${formatBytes(neededBytes)} more in ${store.root}, ${formatBytes(freeBytes)} is free.`,
        'Free some space, or set glassbox.hub.storageFolder to a larger disk.',
      );
    }
    return plan;
  }

  /** Downloads, verifies and installs; resolves with the installed model. Cancel with `signal`. */
  async download(
    plan: DownloadPlan,
    opts: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
  ): Promise<InstalledModel> {
    const { store, hub } = this.o;
    const { request: req, slug } = plan;
    await store.ensureWritable(); // before the lock, whose folder it makes: READ_ONLY, not a raw mkdir error
    const release = store.acquireLock(slug);
    try {
      const fresh = await this.plan(req); // space and writability again, now that we hold the lock
      const staging = path.join(store.stagingFor(slug), 'files');
      // part files live apart from the files: a listing may hold both `w.bin` and `w.bin.part`
      const parts = path.join(store.stagingFor(slug), 'parts');
      const manifest = await this.prepareStaging(slug, req, staging, parts);
      const rate = new Rate();
      let done = 0;
      let last = 0;
      const report = (p: Omit<DownloadProgress, 'doneBytes' | 'totalBytes' | 'bytesPerSecond'>, force = false) => {
        const now = Date.now();
        if (!force && now - last < PROGRESS_EVERY_MS) return;
        last = now;
        opts.onProgress?.({ ...p, doneBytes: done, totalBytes: fresh.totalBytes, bytesPerSecond: rate.perSecond(now) });
      };
      for (const [i, file] of req.files.entries()) {
        const entry = manifest.files[i];
        const final = insideFolder(staging, localPath(req, file.path)); // the listing is untrusted
        const base = { file: file.path, fileIndex: i, fileCount: req.files.length };
        if (entry.verified && fileSize(final) === file.size) {
          done += file.size;
          continue;
        }
        const part = insideFolder(parts, `${localPath(req, file.path)}.part`);
        await fs.promises.mkdir(path.dirname(part), { recursive: true });
        await fs.promises.mkdir(path.dirname(final), { recursive: true });
        await fetchFile({
          url: hub.fileUrl(req.repo, req.commit, file.path),
          partPath: part,
          size: file.size,
          label: file.path,
          signal: opts.signal,
          net: hub.net,
          retries: this.o.retries,
          retryDelayMs: this.o.retryDelayMs,
          onBytes: (n, fromDisk) => {
            done += n;
            if (n > 0 && !fromDisk) rate.add(Date.now(), n);
            report({ ...base, phase: 'download' });
          },
          onRetry: (attempt, err) => this.o.onRetry?.(file.path, attempt, err),
        });
        report({ ...base, phase: 'verify' }, true);
        await verifyFile(part, file, opts.signal);
        await fs.promises.rename(part, final);
        entry.verified = true;
        await store.writeManifest(slug, manifest);
      }
      report({ file: '', fileIndex: req.files.length, fileCount: req.files.length, phase: 'install' }, true);
      return await this.install(slug, req, staging);
    } finally {
      release();
    }
  }

  /** Bytes of the same files (same sizes and hashes) already downloaded by an earlier attempt. */
  private resumableBytes(slug: string, req: DownloadRequest): number {
    const old = this.o.store.readManifest(slug);
    if (!old) return 0;
    const staging = path.join(this.o.store.stagingFor(slug), 'files');
    const parts = path.join(this.o.store.stagingFor(slug), 'parts');
    let n = 0;
    for (const f of req.files) {
      const prev = old.files.find((p) => p.path === f.path);
      if (!prev || !sameFile(prev, f)) continue;
      const rel = localPath(req, f.path);
      n += Math.min(f.size, fileSize(path.join(staging, rel)) ?? fileSize(path.join(parts, `${rel}.part`)) ?? 0);
    }
    return n;
  }

  /** Keeps what an earlier attempt fetched of the same files; drops everything else. */
  private async prepareStaging(
    slug: string,
    req: DownloadRequest,
    staging: string,
    parts: string,
  ): Promise<DownloadManifest> {
    const { store } = this.o;
    const old = store.readManifest(slug);
    const keep = new Set<string>();
    const files = req.files.map((f) => {
      const prev = old?.files.find((p) => p.path === f.path);
      const same = prev !== undefined && sameFile(prev, f);
      if (same) keep.add(localPath(req, f.path));
      return { path: f.path, size: f.size, sha256: f.sha256, gitOid: f.gitOid, verified: same && prev.verified };
    });
    if (fs.existsSync(staging))
      for (const rel of walk(staging))
        if (!keep.has(rel)) await fs.promises.rm(path.join(staging, rel), { force: true });
    if (fs.existsSync(parts))
      for (const rel of walk(parts))
        if (!rel.endsWith('.part') || !keep.has(rel.slice(0, -5)))
          await fs.promises.rm(path.join(parts, rel), { force: true });
    const manifest: DownloadManifest = {
      format: 'glassbox-download/1',
      repo: req.repo,
      commit: req.commit,
      variant: req.variant,
      title: req.title,
      onnxFile: req.onnxFile,
      subfolder: req.subfolder,
      files,
      updatedAt: '',
    };
    await store.writeManifest(slug, manifest);
    return manifest;
  }

  /** Writes the marker, then renames the verified folder into place (replacing an older install). */
  private async install(slug: string, req: DownloadRequest, staging: string): Promise<InstalledModel> {
    const { store } = this.o;
    // Every file was verified against the hub: LFS files by sha256, small git files by blob id.
    const files: InstallMarker['files'] = req.files.map((f) => ({
      path: localPath(req, f.path),
      size: f.size,
      sha256: f.sha256,
      gitOid: f.gitOid,
    }));
    const marker: InstallMarker = {
      format: 'glassbox-model/1',
      repo: req.repo,
      revision: req.revision ?? 'main',
      commit: req.commit,
      variant: req.variant,
      title: req.title,
      onnxFile: req.onnxFile,
      files,
      installedAt: new Date().toISOString(),
    };
    await fs.promises.writeFile(path.join(staging, INSTALL_MARKER), JSON.stringify(marker, null, 1));
    const target = store.dirFor(slug);
    const old = path.join(store.stagingFor(slug), `replaced-${Date.now()}`);
    if (fs.existsSync(target)) await fs.promises.rename(target, old);
    await fs.promises.rename(staging, target);
    await fs.promises.rm(store.stagingFor(slug), { recursive: true, force: true });
    return { slug, dir: target, marker, bytes: files.reduce((s, f) => s + f.size, 0) };
  }
}

/** The request an interrupted download was started with, from its manifest (to resume it). */
export function requestFromManifest(m: DownloadManifest): DownloadRequest {
  return {
    repo: m.repo,
    commit: m.commit,
    variant: m.variant,
    title: m.title,
    onnxFile: m.onnxFile,
    subfolder: m.subfolder,
    files: m.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, gitOid: f.gitOid })),
  };
}

/** Where a repository file goes inside the model folder. */
function localPath(req: DownloadRequest, repoPath: string): string {
  return req.subfolder && repoPath.startsWith(`${req.subfolder}/`)
    ? repoPath.slice(req.subfolder.length + 1)
    : repoPath;
}

function sameFile(a: { size: number; sha256?: string; gitOid?: string }, b: HubFile): boolean {
  return a.size === b.size && a.sha256 === b.sha256 && a.gitOid === b.gitOid;
}

/** Relative paths of the files under `dir`. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out;
}

/** Bytes per second over a sliding window. */
class Rate {
  private samples: [number, number][] = [];

  add(t: number, n: number): void {
    this.samples.push([t, n]);
  }

  perSecond(now: number): number {
    while (this.samples.length && this.samples[0][0] < now - RATE_WINDOW_MS) this.samples.shift();
    if (this.samples.length === 0) return 0;
    const span = Math.max(250, now - this.samples[0][0]);
    return (this.samples.reduce((s, [, n]) => s + n, 0) * 1000) / span;
  }
}
