/**
 * What "Explain" explains when nothing is selected and the language gives no symbols: the
 * indentation block around the cursor, from its header line (`def …:`, `function … {`) to the
 * last line indented deeper than the header (plus a closing bracket at the header's indent). A
 * block inside a function (a loop, an `if`) gives the function: that is what people ask about.
 */
interface LineRange {
  start: number; // 0-based, inclusive
  end: number; // 0-based, inclusive
}

const MAX_LINES = 200;

function indent(line: string): number {
  return line.length - line.trimStart().length;
}

const blank = (line: string) => line.trim() === '';

/** The block around `line`, or null when the file has no code near the cursor. */
export function enclosingBlock(lines: readonly string[], line: number): LineRange | null {
  // Start from the cursor line, or the next non-blank one (e.g. an empty line at the top).
  let at = Math.min(Math.max(0, line), lines.length - 1);
  while (at < lines.length && blank(lines[at])) at++;
  if (at >= lines.length) {
    at = Math.min(line, lines.length - 1);
    while (at >= 0 && blank(lines[at])) at--;
    if (at < 0) return null;
  }
  // Walk up to the nearest header: a line less indented than the cursor's, or the cursor line
  // itself when it opens a block.
  let header = at;
  const opens = (l: string) => /[:{(]\s*(\/\/.*|#.*)?$/.test(l.trimEnd());
  if (!opens(lines[at]) || indent(lines[at + 1] ?? '') <= indent(lines[at])) {
    for (let i = at - 1; i >= 0; i--) {
      if (!blank(lines[i]) && indent(lines[i]) < indent(lines[at]) && opens(lines[i])) {
        header = i;
        break;
      }
    }
  }
  // Explain is asked "inside a function": a loop or an `if` inside one explains the function
  for (let i = header; i >= 0 && !DEFINITION.test(lines[header]); i--) {
    if (DEFINITION.test(lines[i]) && indent(lines[i]) < indent(lines[header])) header = i;
  }
  return { start: header, end: blockEnd(lines, header) };
}

/** A line that starts a function, method or class in the common languages. */
const DEFINITION =
  /^\s*(?:export\s+)?(?:default\s+)?(?:public\s+|private\s+|protected\s+|static\s+)*(?:async\s+)?(?:def|class|function\*?|fn|func|interface)\b|=>\s*\{\s*$/;

/** The last line of the block that `header` opens. */
function blockEnd(lines: readonly string[], header: number): number {
  const base = indent(lines[header]);
  let end = header;
  for (let i = header + 1; i < lines.length && i - header < MAX_LINES; i++) {
    if (blank(lines[i])) continue;
    if (indent(lines[i]) > base) end = i;
    else {
      if (/^[)\]}]/.test(lines[i].trim())) end = i; // the closing bracket of the block
      break;
    }
  }
  return end;
}
