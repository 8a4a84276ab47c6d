/** Reading a source file for the CLI: text only, UTF-8 only, with a size limit. */
import * as fs from 'node:fs';
import { GlassboxError } from '../engine';

const MAX_BYTES = 16 * 1024 * 1024;

export function readTextFile(file: string): string {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_BYTES) throw new GlassboxError('INPUT_NOT_TEXT', `${file} is ${(size / 1e6).toFixed(1)} MB; the limit is ${MAX_BYTES / 1e6} MB.`, 'Pass a smaller file or a part of it.');
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof GlassboxError) throw err;
    throw new GlassboxError('INPUT_NOT_TEXT', `Cannot read ${file}: ${(err as Error).message}.`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new GlassboxError('INPUT_NOT_TEXT', `${file} looks binary (a NUL byte at offset ${nul}).`, 'Glassbox completes and explains text files.');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new GlassboxError('INPUT_NOT_TEXT', `${file} is not valid UTF-8 text.`, 'Convert it to UTF-8 first (e.g. iconv -t UTF-8).');
  }
}

/** Character offset of a 1-based line and column (columns count UTF-16 code units, as VS Code does). */
export function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  if (!Number.isInteger(line) || line < 1 || line > lines.length) {
    throw new GlassboxError('PROMPT_EMPTY', `Line ${line} is outside the file (it has ${lines.length} lines).`);
  }
  const lineText = lines[line - 1].replace(/\r$/, '');
  if (!Number.isInteger(column) || column < 1 || column > lineText.length + 1) {
    throw new GlassboxError('PROMPT_EMPTY', `Column ${column} is outside line ${line} (it has ${lineText.length} characters).`);
  }
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
  return offset + column - 1;
}
