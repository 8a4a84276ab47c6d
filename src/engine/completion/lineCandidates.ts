/**
 * Candidate lines for a one-line suggestion besides the model's own: what followed the best
 * earlier occurrences of the text before the cursor, in the prompt's window (before the cursor
 * and after it), the copy sources (excerpts around the best matches in the file and the workspace)
 * and the repository snippets. This is what copy-paste would give, k ways; the model then judges
 * them (lineJudge.ts).
 */
import type { ContextSnippet } from '../context/snippetIndex';

export interface LineCandidate {
  /** What follows the cursor, to the end of its line (trailing blanks dropped). */
  text: string;
  /** 'model' for the pipeline's own line (decoded, or the copy cache's line); 'copy' for a match's line. */
  origin: 'model' | 'copy';
  /** Characters before the cursor that matched at the best place this line was found (0 for the model's line). */
  match: number;
  /** Places this line was found (distinct matches). */
  votes: number;
  /** Where the best match is: a source's path and 0-based line, or the window ('prefix'/'suffix'). */
  where?: { path?: string; line?: number; in: 'prefix' | 'suffix' | 'snippet' };
}

/** Text before the cursor compared at each occurrence, characters (the copy baseline's longest is 40). */
const MAX_MATCH = 64;
/** The shortest text before the cursor looked for: at least this many characters, 3 of them non-blank. */
const MIN_NEEDLE = 4;
/** Matches longer than this rank alike (the copy baseline's longest); the nearer one wins. */
const RANKED_MATCH = 40;
/** Occurrences looked at per text (a short, common needle). */
const MAX_HITS_PER_TEXT = 400;
/** Longest candidate line, characters. */
const MAX_LINE_CHARS = 240;

interface Text {
  text: string;
  /** Occurrences must end at or before this offset (the cursor, in the prefix). */
  end: number;
  where: NonNullable<LineCandidate['where']>;
  /** The text's first line in its file, to name the hit's line. */
  startLine?: number;
}

/**
 * Up to `k` lines that copying would suggest, best match first (longer match, then more places),
 * each distinct and non-blank.
 */
export function copyCandidates(
  prefix: string,
  suffix: string,
  sources: readonly ContextSnippet[],
  k: number,
): LineCandidate[] {
  const before = prefix.slice(-MAX_MATCH);
  // a needle with 3 non-blank characters; where that finds fewer than k lines, also any 4
  // characters (after Enter, the indentation: an excerpt may start right after a blank line)
  const strict = collect(prefix, suffix, sources, before, shortestNeedle(before, 3), k);
  if (strict.length >= k) return strict;
  const loose = collect(prefix, suffix, sources, before, shortestNeedle(before, 0), k);
  return [...strict, ...loose.filter((c) => !strict.some((s) => s.text === c.text))].slice(0, k);
}

/** Up to `k` distinct lines that follow the occurrences of `needle`, ranked. */
function collect(
  prefix: string,
  suffix: string,
  sources: readonly ContextSnippet[],
  before: string,
  needle: string,
  k: number,
): LineCandidate[] {
  if (!needle) return [];
  const texts: Text[] = [
    // the cursor's own place (the end of the prefix) is not an earlier occurrence
    { text: prefix, end: prefix.length - 1, where: { in: 'prefix' } },
    { text: suffix, end: suffix.length, where: { in: 'suffix' } },
    ...sources.map((s) => ({
      text: s.text,
      end: s.text.length,
      where: { in: 'snippet' as const, path: s.path },
      startLine: s.startLine,
    })),
  ];
  // every hit with its line, match and rank of discovery: in the prefix the nearest first (the
  // copy baseline's order), then the suffix, then the sources in their order (best match first)
  const hits: { line: string; match: number; where: NonNullable<LineCandidate['where']> }[] = [];
  for (const t of texts) {
    const found: typeof hits = [];
    for (
      let at = t.text.indexOf(needle), n = 0;
      at >= 0 && n < MAX_HITS_PER_TEXT;
      at = t.text.indexOf(needle, at + 1), n++
    ) {
      const end = at + needle.length;
      if (end > t.end) break;
      let match = needle.length;
      while (
        match < before.length &&
        end - match - 1 >= 0 &&
        t.text[end - match - 1] === before[before.length - match - 1]
      )
        match++;
      const nl = t.text.indexOf('\n', end);
      const line = t.text.slice(end, nl < 0 ? t.text.length : nl).trimEnd();
      if (!line.trim() || line.length > MAX_LINE_CHARS) continue;
      const where = {
        ...t.where,
        ...(t.startLine !== undefined ? { line: t.startLine + countLines(t.text, end) } : {}),
      };
      found.push({ line, match, where });
    }
    hits.push(...(t.where.in === 'prefix' ? found.reverse() : found));
  }
  // a longer match first, up to RANKED_MATCH characters; past that, the nearer one
  const ranked = hits
    .map((h, rank) => ({ h, rank }))
    .sort((a, b) => Math.min(b.h.match, RANKED_MATCH) - Math.min(a.h.match, RANKED_MATCH) || a.rank - b.rank);
  const byLine = new Map<string, LineCandidate>();
  for (const { h } of ranked) {
    const seen = byLine.get(h.line);
    if (seen) [seen.votes, seen.match] = [seen.votes + 1, Math.max(seen.match, h.match)];
    else byLine.set(h.line, { text: h.line, origin: 'copy', match: h.match, votes: 1, where: h.where });
  }
  return [...byLine.values()].slice(0, k);
}

/** The shortest end of `before` with MIN_NEEDLE characters, `nonBlankMin` of them non-blank. */
function shortestNeedle(before: string, nonBlankMin: number): string {
  let nonBlank = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    if (before[i].trim() !== '') nonBlank++;
    if (nonBlank >= nonBlankMin && before.length - i >= MIN_NEEDLE) return before.slice(i);
  }
  return '';
}

/** Line breaks in text[0, end). */
function countLines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
