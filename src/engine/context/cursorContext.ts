/**
 * What a completion at a cursor is built from, the same for the extension, the CLI and the eval:
 * the text around the cursor that goes into the FIM prompt, and the query for repository
 * snippets. The window is taken by characters from the document (never the whole of a
 * 50,000-line file), and the prefix starts on a line boundary that moves in steps of 16 lines,
 * so that typing keeps the same prompt start and the engine's prefix-KV reuse keeps working.
 * The snippet query uses only the lines above the cursor's line, so typing along a line keeps
 * the same snippets (and the KV cache of everything before the prefix); what changes with every
 * keystroke (the name being typed) only steers the copy sources, which never enter the prompt.
 */
import { DEFAULT_CONTEXT_SHARE } from '../completion/fimPrompt';
import { findCopySources, type CopyQuery } from './copySources';
import { partialIdentifier } from './identifiers';
import type { ContextSnippet, SnippetIndex, SnippetQuery } from './snippetIndex';

export interface TextSource {
  lineCount: number;
  /** Offset of the start of a 0-based line. */
  lineStartOffset(line: number): number;
  /** Text between two offsets. */
  slice(start: number, end: number): string;
  length: number;
}

const LINE_STEP = 16;
/** Characters per token assumed when sizing the window; code averages 3–4, so the engine rarely cuts. */
const CHARS_PER_TOKEN = 3;

interface ContextWindow {
  prefix: string;
  suffix: string;
  /** 0-based lines of the window: the prefix's first line, and the line after the suffix's last. */
  startLine: number;
  endLine: number;
}

export function contextWindow(
  doc: TextSource,
  line: number,
  offset: number,
  budgetTokens: number,
  prefixShare = 0.85,
): ContextWindow {
  const prefixChars = Math.floor(budgetTokens * prefixShare * CHARS_PER_TOKEN);
  const suffixChars = Math.floor(budgetTokens * (1 - prefixShare) * CHARS_PER_TOKEN);
  // The first line that keeps the prefix within budget, rounded up to a multiple of LINE_STEP.
  let lo = 0;
  let hi = line;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offset - doc.lineStartOffset(mid) <= prefixChars) hi = mid;
    else lo = mid + 1;
  }
  const startLine = Math.min(line, Math.ceil(lo / LINE_STEP) * LINE_STEP);
  let start = doc.lineStartOffset(startLine);
  if (offset - start > prefixChars) start = offset - prefixChars; // one very long line
  const end = Math.min(doc.length, offset + suffixChars);
  const suffix = doc.slice(offset, end);
  let endLine = line + 1;
  for (let i = suffix.indexOf('\n'); i >= 0 && endLine < doc.lineCount; i = suffix.indexOf('\n', i + 1)) endLine++;
  return { prefix: doc.slice(start, offset), suffix, startLine: lineOfOffset(doc, start, line), endLine };
}

/** The line of `offset`, at or before `upTo` (binary search over line starts). */
function lineOfOffset(doc: TextSource, offset: number, upTo: number): number {
  let lo = 0;
  let hi = upTo;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (doc.lineStartOffset(mid) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Lines above the cursor that describe what the snippets should resemble. */
const QUERY_LINES = 12;

/** Share of the prompt budget for snippets, and the characters that makes. */
export function snippetChars(budgetTokens: number, contextShare: number): number {
  return Math.floor(budgetTokens * contextShare * CHARS_PER_TOKEN);
}

/** The snippet query for a cursor whose window is `w`, in the file at `path`. */
export function snippetQuery(w: ContextWindow, path: string, maxChars: number): SnippetQuery {
  const lineStart = w.prefix.lastIndexOf('\n') + 1;
  let from = lineStart;
  for (let n = 0; n < QUERY_LINES && from > 0; n++) from = w.prefix.lastIndexOf('\n', from - 2) + 1;
  return {
    path,
    text: w.prefix.slice(from, lineStart),
    exclude: { startLine: w.startLine, endLine: w.endLine },
    maxChars,
  };
}

/** A TextSource over a string (the CLI, the eval, tests). */
export function stringSource(text: string): TextSource {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return {
    lineCount: starts.length,
    length: text.length,
    lineStartOffset: (l) => starts[Math.min(l, starts.length - 1)],
    slice: (a, b) => text.slice(a, b),
  };
}

/** Copy sources the cache gets per completion. */
const MAX_COPY_SOURCES = 16;

/** What one completion asks of the workspace index: prompt snippets and copy sources. */
export interface ContextQueries {
  snippets: SnippetQuery;
  copies: CopyQuery;
}

/** The window around the cursor and the index queries for it (the extension sends the queries to its context worker). */
export function cursorQueries(
  doc: TextSource,
  line: number,
  offset: number,
  path: string,
  budgetTokens: number,
  contextShare = DEFAULT_CONTEXT_SHARE,
): { window: ContextWindow; queries: ContextQueries } {
  const w = contextWindow(doc, line, offset, budgetTokens);
  // the cursor's line is being typed (in the index it may hold an older text, or in the eval the answer)
  const exclude = { startLine: line, endLine: line + 1 };
  return {
    window: w,
    queries: {
      snippets: snippetQuery(w, path, snippetChars(budgetTokens, contextShare)),
      // the name being typed finds its definition among the copy sources, which may change per keystroke
      copies: {
        path,
        before: w.prefix.slice(-400),
        exclude,
        maxSources: MAX_COPY_SOURCES,
        partial: partialIdentifier(w.prefix.slice(w.prefix.lastIndexOf('\n') + 1)),
      },
    },
  };
}

/** Answers the queries from an index (in the context worker, the CLI and the eval). */
export function answerQueries(
  index: SnippetIndex,
  q: ContextQueries,
): { snippets: ContextSnippet[]; copySources: ContextSnippet[] } {
  const snippets = index.query(q.snippets);
  const related = [...new Set([...(q.copies.related ?? []), ...snippets.map((s) => s.path)])];
  return { snippets, copySources: findCopySources(index, { ...q.copies, related }) };
}
