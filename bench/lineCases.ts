/**
 * Line-completion cases for `npm run eval`, drawn from the test split as a user meets them:
 *
 *   mid     a cut at a uniform point inside a line's text (at least one character typed, one left);
 *           the target is the rest of the line
 *   start   the start of a line after Enter: the prefix ends with the line's indentation (the
 *           editor's auto-indent), the target is the whole line's text
 *
 * Each case keeps its file's package: in the repository setting, the package's other files in the
 * test split are the workspace, as an open folder would give the extension.
 */
import { editSimilarity } from '../src/engine/completion/editSimilarity';
import { seededRandom } from '../src/engine/generation/sampling';

export { editSimilarity };

export interface TestFile {
  package: string;
  path: string;
  lang: string;
  text: string;
}

export type CutKind = 'mid' | 'start';

export interface LineCase {
  file: number;
  kind: CutKind;
  /** 0-based line of the cursor. */
  line: number;
  /** Everything before the cursor, the rest of the file after the cursor's line. */
  prefix: string;
  suffix: string;
  target: string;
}

/** `count` (file, line) draws per cut kind, uniform over lines with at least 4 non-blank characters. */
export function sampleLineCases(files: TestFile[], count: number, seed: number, kind: CutKind): LineCase[] {
  const random = seededRandom(seed);
  const lines: [number, number, number, number][] = []; // file, line number, line start offset, line end offset
  files.forEach((f, i) => {
    let start = 0;
    f.text.split('\n').forEach((line, n) => {
      if (line.trim().length >= 4) lines.push([i, n, start, start + line.length]);
      start += line.length + 1;
    });
  });
  const picked = new Set<number>();
  const out: LineCase[] = [];
  while (out.length < Math.min(count, lines.length)) {
    const k = Math.floor(random() * lines.length);
    if (picked.has(k)) continue;
    picked.add(k);
    const [fi, n, s, e] = lines[k];
    const text = files[fi].text;
    const line = text.slice(s, e).replace(/\r$/, '');
    const indent = line.length - line.trimStart().length;
    const body = line.trimEnd().length;
    const cut = kind === 'start' ? indent : indent + 1 + Math.floor(random() * (body - indent - 1)); // ≥ 1 char typed, ≥ 1 left
    out.push({
      file: fi,
      kind,
      line: n,
      prefix: text.slice(0, s + cut),
      suffix: text.slice(e),
      target: line.slice(cut).trimEnd(),
    });
  }
  return out;
}

/** The first line of a completion, trailing whitespace dropped. */
export function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return (nl < 0 ? s : s.slice(0, nl)).replace(/\r$/, '').trimEnd();
}

/** Shortest and longest text before the cursor the copy baseline looks for, in characters. */
const COPY_MIN = 4;
const COPY_MAX = 40;

/**
 * The copy baseline, no model at all: the longest earlier occurrence (COPY_MIN..COPY_MAX
 * characters) of the text before the cursor, in the file's prefix, then its suffix, then (in the
 * repository setting) the workspace's other files; what followed it, to the end of that line.
 */
export function copyBaseline(prefix: string, suffix: string, others: readonly string[] = []): string {
  const sources = [prefix, suffix, ...others];
  for (let len = Math.min(COPY_MAX, prefix.length - 1); len >= COPY_MIN; len--) {
    const needle = prefix.slice(prefix.length - len);
    for (const [k, text] of sources.entries()) {
      // in the prefix the most recent earlier occurrence, elsewhere the first
      const next = (at: number) =>
        k === 0 ? (at <= 0 ? -1 : text.lastIndexOf(needle, at - 1)) : text.indexOf(needle, at + 1);
      for (
        let at = k === 0 ? text.lastIndexOf(needle, prefix.length - len - 1) : text.indexOf(needle);
        at >= 0;
        at = next(at)
      ) {
        const copied = firstLine(text.slice(at + len, at + len + 400));
        if (copied.trim() !== '') return copied;
      }
    }
  }
  return '';
}
