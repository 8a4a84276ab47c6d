/**
 * Repository context for completions: files cut into overlapping windows of lines ("chunks"), an
 * inverted index from identifier to chunk, and a query that ranks chunks by the Jaccard similarity
 * of their identifiers with the code before the cursor (as Copilot's neighbouring tabs and
 * Continue's ranker do). Plain Node and text in, snippets out: the extension feeds it workspace
 * files from a worker, the CLI from a folder, the eval from the test split's packages.
 */
import { identifierSet } from './identifiers';

export interface ContextSnippet {
  /** Workspace-relative path with `/` separators. */
  path: string;
  /** 0-based first line and end line (exclusive) of the snippet in its file. */
  startLine: number;
  endLine: number;
  text: string;
  /** Jaccard similarity with the query, times the file's boost. */
  score: number;
}

export interface SnippetQuery {
  /** The file being edited (same path form as the indexed files). */
  path: string;
  /** Code the snippets should resemble: the lines before the cursor's line. */
  text: string;
  /** Lines of the current file already in the prompt (never returned as snippets). */
  exclude?: { startLine: number; endLine: number };
  /** Most characters of snippet text in all. */
  maxChars: number;
  maxSnippets?: number;
  /** Score multipliers per path (open editors, recently edited, imported files). */
  boosts?: ReadonlyMap<string, number>;
}

interface IndexLimits {
  /** Lines per chunk and the step between chunk starts. */
  windowLines: number;
  strideLines: number;
  /** Files larger than this are indexed by their first maxFileChars characters. */
  maxFileChars: number;
  /** Total characters held; further files are refused until others are removed. */
  maxTotalChars: number;
  maxFiles: number;
}

export const DEFAULT_INDEX_LIMITS: IndexLimits = {
  windowLines: 10,
  strideLines: 5,
  maxFileChars: 256 * 1024,
  maxTotalChars: 24 * 1024 * 1024,
  maxFiles: 8000,
};

/** Below this similarity a chunk is noise, not context. */
const MIN_SCORE = 0.08;
/** Identifiers in more than this share of the chunks say little about any one of them (and cost most). */
const COMMON_SHARE = 0.05;
const MAX_SNIPPET_CHARS = 1200;

/** Language families whose files may serve as each other's context. */
const FAMILY_OF_EXTENSION: Record<string, string> = {
  py: 'python',
  pyi: 'python',
  ts: 'js',
  tsx: 'js',
  mts: 'js',
  cts: 'js',
  js: 'js',
  jsx: 'js',
  mjs: 'js',
  cjs: 'js',
};

export function languageFamily(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return FAMILY_OF_EXTENSION[ext] ?? ext;
}

interface FileEntry {
  path: string;
  text: string;
  /** Offset of each line's start, plus text.length at the end. */
  lineStarts: number[];
  family: string;
  chunks: number[];
  /** Names in its chunks (whose postings list these chunks). */
  names: Set<string>;
}

interface Chunk {
  file: FileEntry | null; // null once its file is removed
  startLine: number;
  endLine: number;
  size: number; // distinct identifiers
}

export class SnippetIndex {
  private readonly files = new Map<string, FileEntry>();
  private chunks: Chunk[] = [];
  private postings = new Map<string, number[]>();
  private sortedNames: string[] | null = null;
  private deadChunks = 0;
  private totalChars = 0;

  constructor(readonly limits: IndexLimits = DEFAULT_INDEX_LIMITS) {}

  get fileCount(): number {
    return this.files.size;
  }

  get charCount(): number {
    return this.totalChars;
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** Adds or replaces a file. False when the index is full (the file is not held). */
  setFile(path: string, text: string): boolean {
    this.deleteFile(path);
    const body =
      text.length > this.limits.maxFileChars
        ? text.slice(0, text.lastIndexOf('\n', this.limits.maxFileChars - 1) + 1)
        : text;
    if (this.files.size >= this.limits.maxFiles || this.totalChars + body.length > this.limits.maxTotalChars)
      return false;
    const entry: FileEntry = {
      path,
      text: body,
      lineStarts: lineStarts(body),
      family: languageFamily(path),
      chunks: [],
      names: new Set(),
    };
    const lines = entry.lineStarts.length - 1;
    const { windowLines, strideLines } = this.limits;
    for (let start = 0; start < lines; start += strideLines) {
      const end = Math.min(lines, start + windowLines);
      const ids = identifierSet(body.slice(entry.lineStarts[start], entry.lineStarts[end]));
      if (ids.size > 0) {
        const id = this.chunks.length;
        this.chunks.push({ file: entry, startLine: start, endLine: end, size: ids.size });
        entry.chunks.push(id);
        for (const name of ids) {
          entry.names.add(name);
          let list = this.postings.get(name);
          if (!list) {
            this.postings.set(name, (list = []));
            this.sortedNames = null;
          }
          list.push(id);
        }
      }
      if (end === lines) break;
    }
    this.files.set(path, entry);
    this.totalChars += body.length;
    return true;
  }

  deleteFile(path: string): void {
    const entry = this.files.get(path);
    if (!entry) return;
    for (const id of entry.chunks) this.chunks[id].file = null;
    // postings hold live chunks only: a file edited many times must not look like a common name
    for (const name of entry.names) {
      const live = this.postings.get(name)!.filter((id) => this.chunks[id].file !== null);
      if (live.length) this.postings.set(name, live);
      else {
        this.postings.delete(name);
        this.sortedNames = null;
      }
    }
    this.deadChunks += entry.chunks.length;
    this.totalChars -= entry.text.length;
    this.files.delete(path);
    if (this.deadChunks > 1000 && this.deadChunks > this.chunks.length / 3) this.compact();
  }

  /** The indexed text of a file (possibly cut at maxFileChars), or undefined. */
  text(path: string): string | undefined {
    return this.files.get(path)?.text;
  }

  /** Paths of the files of `family` with a chunk that contains `name`, at most `max`, in index order. */
  filesWith(name: string, family: string, max: number): string[] {
    const out: string[] = [];
    for (const id of this.postings.get(name) ?? []) {
      const f = this.chunks[id].file;
      if (f && f.family === family && out[out.length - 1] !== f.path && !out.includes(f.path)) out.push(f.path);
      if (out.length >= max) break;
    }
    return out;
  }

  /** The number of chunks that contain `name` (how rare it is). */
  frequency(name: string): number {
    return this.postings.get(name)?.length ?? 0;
  }

  /** The best chunks for a cursor, most similar last (nearest the code they serve). */
  query(q: SnippetQuery): ContextSnippet[] {
    const family = languageFamily(q.path);
    const query = identifierSet(q.text);
    const scores = new Map<number, number>(); // chunk id -> shared identifiers
    const common = Math.max(50, this.chunks.length * COMMON_SHARE);
    for (const name of query) {
      const list = this.postings.get(name);
      if (!list || list.length > common) continue;
      for (const id of list) scores.set(id, (scores.get(id) ?? 0) + 1);
    }
    const ranked: { id: number; score: number }[] = [];
    for (const id of scores.keys()) {
      const c = this.chunks[id];
      if (!c.file || c.file.family !== family) continue;
      if (c.file.path === q.path && q.exclude && c.startLine < q.exclude.endLine && c.endLine > q.exclude.startLine)
        continue;
      const shared = scores.get(id) ?? 0;
      const score = (shared / (query.size + c.size - shared || 1)) * (q.boosts?.get(c.file.path) ?? 1);
      if (score >= MIN_SCORE) ranked.push({ id, score });
    }
    ranked.sort((a, b) => b.score - a.score || this.order(a.id, b.id));
    const picked: ContextSnippet[] = [];
    let chars = 0;
    for (const { id, score } of ranked) {
      if (q.maxSnippets !== undefined && picked.length >= q.maxSnippets) break;
      const c = this.chunks[id];
      const f = c.file!;
      if (picked.some((p) => p.path === f.path && p.startLine < c.endLine && p.endLine > c.startLine)) continue;
      const text = chunkText(f, c);
      if (text.trim() === '') continue;
      if (chars + text.length > q.maxChars) continue; // a smaller one further down may still fit
      chars += text.length;
      picked.push({ path: f.path, startLine: c.startLine, endLine: c.startLine + lineCount(text), text, score });
    }
    return picked.reverse();
  }

  /** Files of `family` with a name that starts with `partial` and is longer (so there is something to complete), at most `max`. */
  filesWithPrefix(partial: string, family: string, max: number): string[] {
    const out: string[] = [];
    if (partial.length < 3) return out;
    this.sortedNames ??= [...this.postings.keys()].sort();
    const names = this.sortedNames;
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (names[mid] < partial) lo = mid + 1;
      else hi = mid;
    }
    for (
      let i = lo, seen = 0;
      i < names.length && names[i].startsWith(partial) && seen < 64 && out.length < max;
      i++, seen++
    ) {
      if (names[i] === partial) continue;
      for (const p of this.filesWith(names[i], family, max)) if (!out.includes(p) && out.length < max) out.push(p);
    }
    return out;
  }

  /** Deterministic tie-break: path, then line. */
  private order(a: number, b: number): number {
    const ca = this.chunks[a];
    const cb = this.chunks[b];
    return ca.file!.path < cb.file!.path ? -1 : ca.file!.path > cb.file!.path ? 1 : ca.startLine - cb.startLine;
  }

  /** Rebuilds the chunk table and postings without removed files' chunks. */
  private compact(): void {
    const files = [...this.files.values()];
    this.files.clear();
    this.chunks = [];
    this.postings = new Map();
    this.sortedNames = null;
    this.deadChunks = 0;
    this.totalChars = 0;
    for (const f of files) this.setFile(f.path, f.text);
  }
}

function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  if (out[out.length - 1] !== text.length) out.push(text.length);
  return out;
}

function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The chunk's lines, trailing blank lines dropped, cut to whole lines within MAX_SNIPPET_CHARS; ends with a newline. */
function chunkText(f: FileEntry, c: Chunk): string {
  let text = f.text.slice(f.lineStarts[c.startLine], f.lineStarts[c.endLine]);
  if (text.length > MAX_SNIPPET_CHARS) text = text.slice(0, text.lastIndexOf('\n', MAX_SNIPPET_CHARS) + 1);
  text = text.replace(/\s+$/, '');
  return text === '' ? '' : text + '\n';
}
