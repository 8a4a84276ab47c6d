/**
 * The folder that holds downloaded models (VS Code's global storage `models/`):
 *
 *   <root>/<slug>/                      an installed model: all files verified, plus glassbox-model.json
 *   <root>/.downloads/<slug>/files/     a download in progress: <path>.part, then <path> once verified
 *   <root>/.downloads/<slug>/manifest.json   what the download fetches (sizes, hashes, verified flags)
 *   <root>/.downloads/<slug>.lock       held while a download runs ({ pid, host, startedAt })
 *
 * A model appears in <root>/<slug> only by one rename of its complete staging folder, so a partial
 * or unverified download is never listed as installed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadError, formatBytes } from './errors';

export const INSTALL_MARKER = 'glassbox-model.json';
const DOWNLOADS = '.downloads';

/** Written into an installed model's folder (the last thing before the rename). */
export interface InstallMarker {
  format: 'glassbox-model/1';
  repo: string;
  revision: string;
  commit: string;
  variant: string;
  title: string;
  /** The decoder, relative to the folder. */
  onnxFile: string;
  files: { path: string; size: number; sha256?: string; gitOid?: string }[];
  installedAt: string;
}

export interface DownloadManifest {
  format: 'glassbox-download/1';
  repo: string;
  commit: string;
  variant: string;
  title: string;
  onnxFile: string;
  subfolder?: string;
  /** Repository paths; on disk they sit under files/ without `subfolder`. */
  files: { path: string; size: number; sha256?: string; gitOid?: string; verified: boolean }[];
  updatedAt: string;
}

export interface InstalledModel {
  slug: string;
  dir: string;
  marker: InstallMarker;
  bytes: number;
}

export interface PartialDownload {
  slug: string;
  manifest: DownloadManifest;
  doneBytes: number;
  totalBytes: number;
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** Folder name for a repository + variant: "owner--name--q4". */
export function modelSlug(repo: string, variant: string): string {
  return `${repo}--${variant}`.replace(/\//g, '--').replace(/[^A-Za-z0-9._-]/g, '_');
}

export class ModelStore {
  constructor(readonly root: string) {}

  dirFor(slug: string): string {
    return path.join(this.root, slug);
  }

  stagingFor(slug: string): string {
    return path.join(this.root, DOWNLOADS, slug);
  }

  /** Creates the folders and proves a file can be written; READ_ONLY names the folder if not. */
  async ensureWritable(): Promise<void> {
    const probe = path.join(this.root, DOWNLOADS, `.probe-${process.pid}`);
    try {
      await fs.promises.mkdir(path.dirname(probe), { recursive: true });
      await fs.promises.writeFile(probe, '');
      await fs.promises.rm(probe, { force: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // ENOENT: a part of the path cannot be made (a link to a folder that is gone, a drive not mounted)
      if (['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOENT'].includes(e.code ?? '')) {
        throw new DownloadError(
          'READ_ONLY',
          `Cannot write to the model storage folder ${this.root} (${e.code}).`,
          'Make it writable, or set glassbox.hub.storageFolder to a writable folder.',
        );
      }
      throw err;
    }
  }

  /** Bytes free for an unprivileged user on the storage folder's file system. */
  async freeBytes(): Promise<number> {
    let dir = this.root;
    while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const s = await fs.promises.statfs(dir);
    return s.bavail * s.bsize;
  }

  /**
   * Takes the download lock for `slug`, or throws LOCKED when a live process holds it. A lock
   * left by a process that died (killed mid-download) is taken over.
   */
  acquireLock(slug: string): () => void {
    const file = path.join(this.root, DOWNLOADS, `${slug}.lock`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(info), { flag: 'wx' });
        return () => fs.rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = readLock(file);
      if (held && isAlive(held)) {
        throw new DownloadError(
          'LOCKED',
          `${slug} is already being downloaded (process ${held.pid}, since ${held.startedAt}).`,
          'Wait for that download to finish or cancel it.',
        );
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
    throw new DownloadError('LOCKED', `Could not take the download lock ${file}.`);
  }

  /** Installed models: folders whose marker is present and whose files all have their sizes. */
  listInstalled(): InstalledModel[] {
    if (!fs.existsSync(this.root)) return [];
    const out: InstalledModel[] = [];
    for (const slug of fs.readdirSync(this.root).sort()) {
      if (slug.startsWith('.')) continue;
      const dir = path.join(this.root, slug);
      const marker = readMarker(path.join(dir, INSTALL_MARKER));
      if (!marker) continue;
      const complete = marker.files.every((f) => fileSize(path.join(dir, f.path)) === f.size);
      if (complete) out.push({ slug, dir, marker, bytes: marker.files.reduce((s, f) => s + f.size, 0) });
    }
    return out;
  }

  /** Downloads that started and did not finish (they resume when started again). */
  listPartial(): PartialDownload[] {
    const base = path.join(this.root, DOWNLOADS);
    if (!fs.existsSync(base)) return [];
    const out: PartialDownload[] = [];
    for (const slug of fs.readdirSync(base).sort()) {
      const manifest = this.readManifest(slug);
      if (!manifest) continue;
      const files = path.join(base, slug, 'files');
      const sub = manifest.subfolder ? `${manifest.subfolder}/` : '';
      const local = (p: string) => path.join(files, sub && p.startsWith(sub) ? p.slice(sub.length) : p);
      const doneBytes = manifest.files.reduce(
        (s, f) => s + Math.min(f.size, fileSize(local(f.path)) ?? fileSize(local(f.path) + '.part') ?? 0),
        0,
      );
      out.push({ slug, manifest, doneBytes, totalBytes: manifest.files.reduce((s, f) => s + f.size, 0) });
    }
    return out;
  }

  readManifest(slug: string): DownloadManifest | undefined {
    const m = readJsonFile(path.join(this.stagingFor(slug), 'manifest.json')) as DownloadManifest | undefined;
    return m?.format === 'glassbox-download/1' && Array.isArray(m.files) ? m : undefined;
  }

  async writeManifest(slug: string, manifest: DownloadManifest): Promise<void> {
    const file = path.join(this.stagingFor(slug), 'manifest.json');
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(
      file + '.tmp',
      JSON.stringify({ ...manifest, updatedAt: new Date().toISOString() }, null, 1),
    );
    await fs.promises.rename(file + '.tmp', file);
  }

  /** Deletes an installed model, or a partial download when `partial`. Refuses while locked. */
  async remove(slug: string, partial = false): Promise<void> {
    const release = this.acquireLock(slug);
    try {
      await fs.promises.rm(partial ? this.stagingFor(slug) : this.dirFor(slug), { recursive: true, force: true });
    } finally {
      release();
    }
  }

  /** Total size in words, for messages. */
  static describe(m: InstalledModel): string {
    return `${m.marker.title} (${m.marker.variant}, ${formatBytes(m.bytes)})`;
  }
}

function readLock(file: string): LockInfo | undefined {
  const v = readJsonFile(file) as LockInfo | undefined;
  return v && typeof v.pid === 'number' ? v : undefined;
}

function isAlive(lock: LockInfo): boolean {
  if (lock.host !== os.hostname()) return true; // another machine (shared folder): cannot tell, assume alive
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readMarker(file: string): InstallMarker | undefined {
  const m = readJsonFile(file) as InstallMarker | undefined;
  return m?.format === 'glassbox-model/1' && Array.isArray(m.files) && typeof m.onnxFile === 'string' ? m : undefined;
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function fileSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}
