/**
 * Reads a workspace folder's code files for the snippet index: breadth first, honouring
 * `.gitignore` files (every level, with git's own pattern rules via the `ignore` package) and the
 * user's exclude globs (`files.exclude`), skipping version-control and dependency folders, binary
 * files and huge ones, never following a symbolic link out of the folder (or into a loop), and
 * stopping at a cap on entries visited and on time. Unreadable files and files that vanish while
 * being read are counted and skipped; nothing is ever thrown for one file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';

/** Extensions worth indexing: code the model may be asked to complete. */
export const CODE_EXTENSIONS = new Set(
  'py pyi ts tsx mts cts js jsx mjs cjs go rs java kt scala c h cc cpp hpp cs rb php swift lua sh vue svelte'.split(
    ' ',
  ),
);

/** Folders never entered (besides what .gitignore and the excludes say). */
const SKIP_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '__pycache__',
  '.venv',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
]);

export interface ScanOptions {
  /** Absolute path of the workspace folder. */
  root: string;
  /** Prepended to every relative path (a multi-root workspace's folder name + '/'), default ''. */
  prefix?: string;
  /** Glob patterns relative to the folder (`files.exclude` keys whose value is true). */
  exclude?: readonly string[];
  /** Directory entries looked at before the scan stops (a workspace of 100,000 files). */
  maxEntries?: number;
  /** Files larger than this are skipped, bytes. */
  maxFileBytes?: number;
  /** The scan stops after this long, ms. */
  timeBudgetMs?: number;
  signal?: AbortSignal;
}

export interface ScanReport {
  files: number;
  entries: number;
  skipped: {
    ignored: number;
    binary: number;
    tooLarge: number;
    unreadable: number;
    outside: number;
    notCode: number;
    refused: number;
  };
  /** Why the scan ended early, if it did. */
  stopped?: 'entries' | 'time' | 'full' | 'aborted';
  ms: number;
}

const DEFAULTS = { maxEntries: 100_000, maxFileBytes: 512 * 1024, timeBudgetMs: 20_000 };
/** Bytes looked at for a NUL when deciding a file is binary. */
const SNIFF_BYTES = 8000;

/**
 * Walks the folder and calls `onFile(relativePath, text)` for each code file; `onFile` returns false
 * when the index is full, which ends the scan.
 */
export async function scanWorkspace(
  opts: ScanOptions,
  onFile: (relPath: string, text: string) => boolean,
): Promise<ScanReport> {
  const start = performance.now();
  const o = { ...DEFAULTS, ...opts };
  const root = await fs.promises.realpath(o.root);
  // files.exclude has no negation: a key like "!vendor" would make picomatch exclude everything else
  // and a setting may hold anything: non-strings and globs too long to compile are left out
  const globs = (o.exclude ?? []).filter(
    (g): g is string =>
      typeof g === 'string' && g.trim() !== '' && !g.trimStart().startsWith('!') && g.length <= MAX_PATTERN_CHARS,
  );
  const excluded = excludeMatcher(globs);
  const report: ScanReport = {
    files: 0,
    entries: 0,
    skipped: { ignored: 0, binary: 0, tooLarge: 0, unreadable: 0, outside: 0, notCode: 0, refused: 0 },
    ms: 0,
  };
  // each queued folder carries the .gitignore rules of its ancestors (folder relative path, rules)
  const queue: { rel: string; rules: { base: string; ig: Ignore }[] }[] = [{ rel: '', rules: [] }];
  const stop = (why: ScanReport['stopped']) => {
    report.stopped = why;
    report.ms = performance.now() - start;
    return report;
  };
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const abs = path.join(root, dir.rel);
    const rules = [...dir.rules];
    const gitignore = await readGitignore(path.join(abs, '.gitignore'), root);
    if (gitignore === 'unusable') {
      // rules that exist but cannot be read (huge, binary, not UTF-8, not a file): the folder is
      // left out, as its rules might have excluded anything in it (fail closed)
      report.skipped.ignored++;
      continue;
    }
    if (gitignore !== undefined) rules.push({ base: dir.rel, ig: gitignoreRules(gitignore) });
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(abs, { withFileTypes: true });
    } catch {
      report.skipped.unreadable++;
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (o.signal?.aborted) return stop('aborted');
      if (++report.entries > o.maxEntries) return stop('entries');
      if (performance.now() - start > o.timeBudgetMs) return stop('time');
      const rel = dir.rel ? `${dir.rel}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if ((isDir && SKIP_DIRS.has(e.name)) || excluded(rel) || isIgnored(rules, rel, isDir)) {
        report.skipped.ignored++;
        continue;
      }
      if (isDir) {
        queue.push({ rel, rules });
        continue;
      }
      if (e.isSymbolicLink()) {
        // a link is read only when it points at a file inside the folder; linked folders are never entered
        const target = await fs.promises.realpath(path.join(abs, e.name)).catch(() => undefined);
        const stat = target ? await fs.promises.stat(target).catch(() => undefined) : undefined;
        if (!target || !stat?.isFile() || !isInside(root, target)) {
          report.skipped.outside++;
          continue;
        }
      } else if (!e.isFile()) continue; // FIFOs, sockets, devices
      const ext = path.extname(e.name).slice(1).toLowerCase();
      if (!CODE_EXTENSIONS.has(ext)) {
        report.skipped.notCode++;
        continue;
      }
      const result = await readCode(path.join(abs, e.name), o.maxFileBytes, [root]);
      if ('skipped' in result) {
        report.skipped[result.skipped]++;
        continue;
      }
      if (!onFile(`${o.prefix ?? ''}${rel}`, result.text)) {
        report.skipped.refused++;
        return stop('full');
      }
      report.files++;
      // a slice of the event loop for everything else after each file
      if (report.files % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  report.ms = performance.now() - start;
  return report;
}

/** As git decides: the deepest .gitignore with a rule for the path wins (a `!pattern` there re-includes it). */
function isIgnored(rules: readonly { base: string; ig: Ignore }[], rel: string, isDir: boolean): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i];
    const sub = r.base ? rel.slice(r.base.length + 1) : rel;
    if (!sub) continue;
    let t: { ignored: boolean; unignored: boolean };
    try {
      t = r.ig.test(isDir ? `${sub}/` : sub);
    } catch {
      return true; // a rule that cannot be evaluated might have matched: left out (fail closed)
    }
    if (t.ignored) return true;
    if (t.unignored) return false;
  }
  return false;
}

/** Whether the file's real path lies inside one of the folders (their real paths). */
async function isWithin(file: string, folders: readonly string[]): Promise<boolean> {
  const real = await fs.promises.realpath(file);
  for (const f of folders) if (isInside(await fs.promises.realpath(f).catch(() => f), real)) return true;
  return false;
}

/** Whether `target` is strictly inside `root` (a name like `..config` is inside). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel);
}

/** Bytes of a .gitignore read at most. */
const MAX_GITIGNORE_BYTES = 1024 * 1024;

/**
 * A folder's .gitignore: its text, undefined when there is none (or it is a link out of the
 * workspace, whose rules do not apply), or 'unusable' when it exists and cannot be read as text.
 */
async function readGitignore(file: string, root: string): Promise<string | undefined | 'unusable'> {
  const exists = await fs.promises.lstat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const r = await readCode(file, MAX_GITIGNORE_BYTES, [root]);
  return 'text' in r ? r.text : r.skipped === 'outside' ? undefined : 'unusable';
}

/** Longest .gitignore pattern kept: a 40,000-character one is a regular expression too large to compile. */
const MAX_PATTERN_CHARS = 4096;

/** A matcher for the exclude globs; a glob picomatch cannot compile is left out, not the scan. */
function excludeMatcher(globs: readonly string[]): (rel: string) => boolean {
  const ok = globs.filter((g) => {
    try {
      picomatch(g, { dot: true });
      return true;
    } catch {
      return false;
    }
  });
  return ok.length ? picomatch(ok, { dot: true }) : () => false;
}

/** A .gitignore's rules, without patterns too long to compile. */
function gitignoreRules(text: string): Ignore {
  return ignore().add(text.split('\n').filter((line) => line.length <= MAX_PATTERN_CHARS));
}

type ReadResult = { text: string } | { skipped: 'binary' | 'tooLarge' | 'unreadable' | 'outside' };

/** Opening never waits: a FIFO opened without it pins a libuv thread until a writer comes (forever). */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * The file's text, or why it was skipped. Only a regular file is read (a FIFO, socket or device
 * named like code is refused without waiting), at most maxBytes + 1 bytes whatever the file claims,
 * and, with `within`, only when its real path (symbolic links followed) lies inside one of those
 * folders: a link to a secret outside the workspace must never reach a prompt.
 */
export async function readCode(file: string, maxBytes: number, within?: readonly string[]): Promise<ReadResult> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    if (within && !(await isWithin(file, within))) return { skipped: 'outside' };
    handle = await fs.promises.open(file, OPEN_FLAGS);
    const stat = await handle.stat();
    if (!stat.isFile()) return { skipped: 'unreadable' };
    if (stat.size > maxBytes) return { skipped: 'tooLarge' };
    const buf = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > maxBytes) return { skipped: 'tooLarge' }; // it grew while being read
    const bytes = buf.subarray(0, bytesRead);
    if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return { skipped: 'binary' };
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/\r\n?/g, '\n') };
    } catch {
      return { skipped: 'binary' };
    }
  } catch {
    return { skipped: 'unreadable' };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
