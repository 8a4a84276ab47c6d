/** Reading a source file for the CLI: text only, UTF-8 only, with a size limit. */
import * as fs from 'node:fs';
import { GlassboxError } from '../engine';

const MAX_BYTES = 16 * 1024 * 1024;
const LIMIT = '16 MB';

/** A UTF-8 text file (`-`: standard input), at most 16 MB. */
export function readTextFile(file: string): string {
  let bytes: Buffer;
  try {
    if (file === '-') bytes = readStdin();
    else {
      const stat = fs.statSync(file);
      // a FIFO or device reports size 0 whatever it holds: those are read with the cap as they come
      if (!stat.isFile()) bytes = readCapped(file);
      else {
        if (stat.size > MAX_BYTES)
          throw new GlassboxError(
            'INPUT_NOT_TEXT',
            `${file} is ${(stat.size / 1e6).toFixed(1)} MB; the limit is ${LIMIT}.`,
            'Pass a smaller file or a part of it.',
          );
        bytes = fs.readFileSync(file);
      }
    }
  } catch (err) {
    if (err instanceof GlassboxError) throw err;
    throw new GlassboxError('INPUT_NOT_TEXT', `Cannot read ${file}: ${(err as Error).message}.`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new GlassboxError(
      'INPUT_NOT_TEXT',
      `${file} looks binary (a NUL byte at offset ${nul}).`,
      'Glassbox completes and explains text files.',
    );
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new GlassboxError(
      'INPUT_NOT_TEXT',
      `${file} is not valid UTF-8 text.`,
      'Convert it to UTF-8 first (e.g. iconv -t UTF-8).',
    );
  }
}

function readStdin(): Buffer {
  return readFd(0, 'standard input');
}

/** How long a FIFO may go without a writer before it counts as empty, ms (`--file <(cmd)` opens its writer at once). */
const WRITER_WAIT_MS = 3_000;

function readCapped(file: string): Buffer {
  // opened without waiting for a writer (a blocking open of a FIFO nobody writes to never returns);
  // until the first bytes come, an end of file only means no writer yet, for up to WRITER_WAIT_MS
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    return readFd(fd, file, Date.now() + WRITER_WAIT_MS);
  } finally {
    fs.closeSync(fd);
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Reads until the end, failing once past MAX_BYTES; before `writerBy`, an empty read with nothing read yet waits. */
function readFd(fd: number, label: string, writerBy = 0): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(PAUSE, 0, 0, 5); // a non-blocking pipe with nothing yet
        continue;
      }
      if ((err as NodeJS.ErrnoException).code === 'EOF') break;
      throw err;
    }
    if (n === 0 && total === 0 && Date.now() < writerBy) {
      Atomics.wait(PAUSE, 0, 0, 10);
      continue;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_BYTES)
      throw new GlassboxError('INPUT_NOT_TEXT', `${label} holds more than ${LIMIT}.`, 'Pass a smaller text.');
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

/** Character offset of a 1-based line and column (columns count UTF-16 code units, as VS Code does). */
export function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  if (!Number.isInteger(line) || line < 1 || line > lines.length) {
    throw new GlassboxError('PROMPT_EMPTY', `Line ${line} is outside the file (it has ${lines.length} lines).`);
  }
  const lineText = lines[line - 1].replace(/\r$/, '');
  if (!Number.isInteger(column) || column < 1 || column > lineText.length + 1) {
    throw new GlassboxError(
      'PROMPT_EMPTY',
      `Column ${column} is outside line ${line} (it has ${lineText.length} characters).`,
    );
  }
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
  return offset + column - 1;
}
