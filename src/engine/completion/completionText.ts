/**
 * Where a completion should end, decided on its text as it streams: single-line completions end
 * at the newline; multi-line ones end before a line that dedents below the cursor's indentation,
 * at two blank lines, or before a bracket that closes one opened before the cursor. Plus trimming
 * of text that only repeats what already follows the cursor.
 */
import type { TextRule } from '../generation/stopping';

export type { TextRule };

interface CompletionShape {
  /** The cursor line's text before the cursor. */
  linePrefix: string;
  /** Multi-line completions are allowed (see isMultilineSpot). */
  multiline: boolean;
  /**
   * The cursor's line after the cursor. A one-line completion stops before a bracket that closes
   * one from before the cursor only when this starts with a closing bracket (the editor closed it
   * when the opener was typed): at `train(co` with nothing after it, the `)` is part of the answer.
   */
  restOfLine?: string;
}

const OPEN = '([{';

/**
 * Whether a completion here may run over several lines: only when nothing stands right of the
 * cursor and the line so far is blank or opens a block (`{`, `(`, `[`, `:`, `=>`), as after Enter
 * or at `def f():`. In the middle of a statement (`const label = formatDu`) the rest of the line
 * is what a person wants; a block there is a guess.
 */
export function isMultilineSpot(linePrefix: string, suffix: string): boolean {
  if (suffix.split('\n')[0].trim() !== '') return false;
  const line = linePrefix.trimEnd();
  return line.trim() === '' || /(?:[{([:]|=>)$/.test(line);
}
const CLOSE = ')]}';

function indentWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    if (ch === ' ') w++;
    else if (ch === '\t') w += 4;
    else break;
  }
  return w;
}

/** The rule that ends a completion of this shape. */
export function completionRule(shape: CompletionShape): TextRule {
  const base = indentWidth(shape.linePrefix);
  const closed = shape.multiline || /^\s*[)\]}]/.test(shape.restOfLine ?? ')');
  return (text) => {
    const bracket = closed ? unmatchedClose(text) : -1;
    const lineEnd = shape.multiline ? blockEnd(text, base) : text.indexOf('\n');
    const cuts = [bracket, lineEnd].filter((i) => i >= 0);
    if (cuts.length) return { cut: Math.min(...cuts) };
    if (!shape.multiline) return { hold: 0 };
    // The last line is undecided until it shows a non-blank character.
    const last = text.lastIndexOf('\n');
    return last >= 0 && text.slice(last + 1).trim() === '' ? { hold: text.length - last } : { hold: 0 };
  };
}

/** Index of a closing bracket with no opener in `text` (it closes one from before the cursor), else -1. */
function unmatchedClose(text: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote || ch === '\n') quote = null;
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (OPEN.includes(ch)) depth++;
    else if (CLOSE.includes(ch) && --depth < 0) return i;
  }
  return -1;
}

/** Index of the newline before the first line that ends the block, else -1. */
function blockEnd(text: string, base: number): number {
  const lines = text.split('\n');
  let offset = lines[0].length; // index of the newline that ends line i - 1
  let runStart = -1; // index of the newline before the current run of blank lines
  let blanks = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (i === lines.length - 1 && line.trim() === '') break; // still being written
    if (line.trim() === '') {
      if (blanks === 0) runStart = offset;
      if (++blanks >= 2) return runStart;
    } else {
      if (indentWidth(line) < base) return blanks > 0 ? runStart : offset;
      blanks = 0;
    }
    offset += 1 + line.length;
  }
  return -1;
}

/**
 * Removes what the completion repeats of the text after the cursor: an overlap of its end with
 * the start of the suffix (`foo(a, b)` before `)`), and any lines that reproduce the next lines.
 */
export function trimAgainstSuffix(completion: string, suffix: string): string {
  let text = completion;
  const nextLines = suffix
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (nextLines.length > 0) {
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].trim() !== '' && lines[i].trim() === nextLines[0]) {
        text = lines.slice(0, i).join('\n');
        break;
      }
    }
  }
  const restOfLine = suffix.split('\n')[0];
  for (let k = Math.min(restOfLine.length, text.length); k > 0; k--) {
    const overlap = restOfLine.slice(0, k);
    if (overlap.trim() !== '' && text.endsWith(overlap)) return text.slice(0, text.length - k);
  }
  return text.replace(/\s+$/, (ws) => (ws.includes('\n') ? '' : ws));
}
