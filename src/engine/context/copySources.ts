/**
 * Copy sources for the copy cache: a few lines around earlier occurrences of the text just before
 * the cursor, in the current file outside the prompt's window and in the workspace's files. These
 * are the places a copy-paste baseline would copy from. They feed the cache model only, never the
 * prompt, so they may change on every keystroke without costing the KV cache anything.
 */
import { identifierSet } from './identifiers';
import { languageFamily, type ContextSnippet, type SnippetIndex } from './snippetIndex';

export interface CopyQuery {
  /** The file being edited (as indexed). */
  path: string;
  /** Text before the cursor (its last line or two is enough). */
  before: string;
  /**
   * The cursor's lines in the current file (its line as the editor holds it, half typed): no hit
   * there, and no excerpt reaches into them, or the cache would copy the cursor's own text (what
   * follows `train(co` there is the end of the line).
   */
  exclude: { startLine: number; endLine: number };
  maxSources: number;
  /** Files worth searching besides those that share a rare name with the text (the prompt's snippet files, open editors). */
  related?: string[];
  /** The name being typed at the cursor: files with a longer name that starts with it are searched too. */
  partial?: string;
}

/** Text before the cursor compared with each occurrence, characters. */
const MAX_MATCH_CHARS = 64;
/** The search starts from the shortest text before the cursor with this many non-blank characters. */
const MIN_NEEDLE_CHARS = 3;
/** Occurrences looked at per file (a short, common needle). */
const MAX_HITS_PER_FILE = 2000;
const LINES_BEFORE = 1;
const LINES_AFTER = 3;
/** Longest line kept in an excerpt, characters. */
const MAX_LINE_CHARS = 1000;
/** Files searched besides the current one and the related ones. */
const MAX_FILES = 16;

/**
 * Excerpts around the places whose text matches the most characters before the cursor, best first
 * (the copy baseline's longest match, and the next best ones).
 */
export function findCopySources(index: SnippetIndex, q: CopyQuery): ContextSnippet[] {
  const before = q.before.slice(-MAX_MATCH_CHARS);
  const needle = shortestNeedle(before);
  if (!needle) return [];
  const family = languageFamily(q.path);
  const hits: { path: string; line: number; match: number }[] = [];
  // files with a longer name that starts with the one being typed, and with that very name (it
  // may be whole: `export const IS_TIMEZONE` is defined in the sibling build's file)
  const named =
    q.partial && q.partial.length >= 3
      ? [...index.filesWithPrefix(q.partial, family, MAX_FILES), ...index.filesWith(q.partial, family, MAX_FILES)]
      : [];
  for (const path of new Set([q.path, ...named, ...rareNameFiles(index, before, family), ...(q.related ?? [])])) {
    const text = index.text(path);
    if (text === undefined) continue;
    const lines = new LineCounter(text);
    for (
      let at = text.indexOf(needle), n = 0;
      at >= 0 && n < MAX_HITS_PER_FILE;
      at = text.indexOf(needle, at + 1), n++
    ) {
      const end = at + needle.length;
      if (end >= text.length) continue;
      let match = needle.length;
      while (
        match < before.length &&
        end - match - 1 >= 0 &&
        text[end - match - 1] === before[before.length - match - 1]
      )
        match++;
      const line = lines.lineOf(end);
      if (path === q.path && line >= q.exclude.startLine && line < q.exclude.endLine) continue;
      hits.push({ path, line, match });
    }
  }
  hits.sort((a, b) => b.match - a.match);
  const out: ContextSnippet[] = [];
  const taken = new Set<string>();
  for (const h of hits) {
    if (out.length >= q.maxSources) break;
    const key = `${h.path}:${h.line}`;
    if (taken.has(key)) continue;
    taken.add(key);
    out.push(excerpt(index.text(h.path)!, h.path, h.line, h.match, h.path === q.path ? q.exclude : undefined));
  }
  return out;
}

/** The shortest end of `before` with MIN_NEEDLE_CHARS non-blank characters (and at least 4 in all). */
function shortestNeedle(before: string): string {
  let nonBlank = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    if (before[i].trim() !== '') nonBlank++;
    if (nonBlank >= MIN_NEEDLE_CHARS && before.length - i >= 4) return before.slice(i);
  }
  return '';
}

/** Line numbers of offsets visited in increasing order, counted incrementally. */
class LineCounter {
  private offset = 0;
  private line = 0;

  constructor(private readonly text: string) {}

  lineOf(offset: number): number {
    if (offset < this.offset) [this.offset, this.line] = [0, 0];
    for (let i = this.text.indexOf('\n', this.offset); i >= 0 && i < offset; i = this.text.indexOf('\n', i + 1))
      this.line++;
    this.offset = offset;
    return this.line;
  }
}

/** Files with the rarest whole identifier in `before`. */
function rareNameFiles(index: SnippetIndex, before: string, family: string): string[] {
  let start = 0;
  // identifiers cut by the text's ends are not whole names
  while (start < before.length && /[A-Za-z0-9_$]/.test(before[start])) start++;
  let end = before.length;
  while (end > start && /[A-Za-z0-9_$]/.test(before[end - 1])) end--;
  let best = '';
  let bestCount = Infinity;
  for (const name of identifierSet(before.slice(start, end))) {
    const n = index.frequency(name);
    if (n > 0 && n < bestCount) [best, bestCount] = [name, n];
  }
  return best ? index.filesWith(best, family, MAX_FILES) : [];
}

/**
 * Lines [line - LINES_BEFORE, line + LINES_AFTER] of the file, cut short of the lines in `avoid`
 * (the cursor's, in the current file; the hit itself is never in them).
 */
export function excerpt(
  text: string,
  path: string,
  line: number,
  score: number,
  avoid?: { startLine: number; endLine: number },
): ContextSnippet {
  const lines = text.split('\n', line + LINES_AFTER + 1);
  let startLine = Math.max(0, line - LINES_BEFORE);
  let endLine = Math.min(lines.length, line + LINES_AFTER + 1);
  if (avoid && line < avoid.startLine) endLine = Math.min(endLine, avoid.startLine);
  if (avoid && line >= avoid.endLine) startLine = Math.max(startLine, avoid.endLine);
  // a line past MAX_LINE_CHARS (minified code, a data blob) is cut: no line worth copying is that long,
  // and a 150,000-character one was tokenized on every keystroke
  const body =
    lines
      .slice(startLine, endLine)
      .map((l) => (l.length > MAX_LINE_CHARS ? l.slice(0, MAX_LINE_CHARS) : l))
      .join('\n') + '\n';
  return { path, startLine, endLine, text: body, score };
}
