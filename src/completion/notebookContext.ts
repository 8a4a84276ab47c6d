/**
 * Context for a completion in a notebook cell: the cells above it, in order, written as one file
 * in jupytext's "percent" format (`# %%` before each cell, `# %% [markdown]` with the markdown
 * commented out), which is how notebooks appear in the code a model was trained on. Plain Node:
 * the VS Code side (notebookCells.ts) lists the cells, this builds the text before the cursor's
 * cell, and the usual context window (engine/context/cursorContext.ts) trims it to the budget
 * from the top, so the cursor's cell always stays whole and last.
 */
import type { TextSource } from '../engine';

/** A cell as this module needs it: markup or code, its language, its text. */
export interface NotebookCellText {
  kind: 'code' | 'markup';
  languageId: string;
  text: string;
}

/** Line comment by language; jupytext writes `// %%` for the C family, `# %%` for the rest. */
const LINE_COMMENT: Record<string, string> = {
  python: '#',
  r: '#',
  julia: '#',
  shellscript: '#',
  ruby: '#',
  perl: '#',
  powershell: '#',
  javascript: '//',
  typescript: '//',
  javascriptreact: '//',
  typescriptreact: '//',
  java: '//',
  scala: '//',
  kotlin: '//',
  csharp: '//',
  fsharp: '//',
  go: '//',
  rust: '//',
  c: '//',
  cpp: '//',
  swift: '//',
  sql: '--',
  haskell: '--',
  lua: '--',
  matlab: '%',
  octave: '%',
};

/** The file extension the cells are written as (jupytext's paired script), by language. */
const SCRIPT_EXTENSION: Record<string, string> = {
  python: '.py',
  r: '.R',
  julia: '.jl',
  javascript: '.js',
  typescript: '.ts',
  csharp: '.cs',
  fsharp: '.fsx',
  scala: '.scala',
  go: '.go',
  rust: '.rs',
  sql: '.sql',
  shellscript: '.sh',
  powershell: '.ps1',
  ruby: '.rb',
  java: '.java',
  kotlin: '.kt',
  matlab: '.m',
};

/** The text before the cursor's cell, for cells whose language has a line comment; else ''. */
export function notebookTextAbove(above: readonly NotebookCellText[], languageId: string, maxChars: number): string {
  const comment = LINE_COMMENT[languageId];
  if (!comment || above.length === 0) return '';
  const marker = `${comment} %%`;
  const parts: string[] = [];
  let chars = 0;
  // Nearest cells first, until the budget is met: the context window trims the first one kept.
  for (let i = above.length - 1; i >= 0 && chars < maxChars; i--) {
    const cell = above[i];
    const body = cellBody(cell, languageId, comment);
    if (body === undefined) continue;
    const part = `${cell.kind === 'markup' ? `${marker} [markdown]` : marker}\n${body}\n\n`;
    parts.push(part);
    chars += part.length;
  }
  return parts.length === 0 ? '' : `${parts.reverse().join('')}${marker}\n`;
}

/**
 * A cell's text in the cursor cell's language, or undefined to leave it out. Markdown is kept as
 * comments: it says what the next code is for, which steers a completion. Code cells of another
 * language (a `sql` or `bash` cell in a Python notebook) are left out: their names are not
 * defined in the cursor's language, and their code would invite a completion in the wrong one.
 */
function cellBody(cell: NotebookCellText, languageId: string, comment: string): string | undefined {
  const text = cell.text.replace(/\r\n/g, '\n').replace(/\n+$/, '');
  if (text.trim() === '') return undefined;
  if (cell.kind === 'markup') {
    return text
      .split('\n')
      .map((l) => (l ? `${comment} ${l}` : comment))
      .join('\n');
  }
  if (cell.languageId !== languageId) return undefined;
  // IPython's magics and shell escapes are not Python; jupytext comments them out the same way.
  if (languageId === 'python') return text.replace(/^([ \t]*)([%!])/gm, '$1# $2');
  return text;
}

/** The notebook's path as the cells are written: `analysis.ipynb` holds Python, so `analysis.py`. */
export function notebookScriptPath(notebookPath: string, languageId: string): string {
  const ext = SCRIPT_EXTENSION[languageId];
  return ext ? notebookPath.replace(/\.ipynb$/i, ext) : notebookPath;
}

/** `doc` with `above` before it (which ends with a newline): offsets and lines shift by its size. */
export function withTextAbove(above: string, doc: TextSource): { doc: TextSource; lines: number } {
  if (above === '') return { doc, lines: 0 };
  const starts = [0];
  for (let i = above.indexOf('\n'); i >= 0 && i < above.length - 1; i = above.indexOf('\n', i + 1)) starts.push(i + 1);
  const lines = starts.length;
  const n = above.length;
  return {
    lines,
    doc: {
      lineCount: lines + doc.lineCount,
      length: n + doc.length,
      lineStartOffset: (l) => (l < lines ? starts[l] : n + doc.lineStartOffset(l - lines)),
      slice: (a, b) =>
        (a < n ? above.slice(a, Math.min(b, n)) : '') + (b > n ? doc.slice(Math.max(a - n, 0), b - n) : ''),
    },
  };
}
