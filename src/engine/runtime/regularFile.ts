/**
 * Reading a file named by a model folder, a setting or the ledger: only a regular file, opened
 * without waiting (a FIFO with no writer never blocks) and no larger than a cap (a link to
 * /dev/zero once read until the process held 10 GB).
 */
import * as fs from 'node:fs';

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** Why a file was not read: said in words for the caller's message. */
export class NotARegularFile extends Error {}

/** The file's UTF-8 text (a leading byte-order mark dropped). Throws NotARegularFile or the system's error. */
export function readRegularFileSync(file: string, maxBytes: number): string {
  const fd = fs.openSync(file, OPEN_FLAGS);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new NotARegularFile(`${file} is not a regular file`);
    if (stat.size > maxBytes)
      throw new NotARegularFile(
        `${file} is ${(stat.size / 2 ** 20).toFixed(1)} MB, over the ${maxBytes / 2 ** 20} MB limit`,
      );
    return fs.readFileSync(fd, 'utf8').replace(/^\uFEFF/, '');
  } finally {
    fs.closeSync(fd);
  }
}

/** The same, without blocking the thread. */
export async function readRegularFile(file: string, maxBytes: number): Promise<string> {
  const handle = await fs.promises.open(file, OPEN_FLAGS);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotARegularFile(`${file} is not a regular file`);
    if (stat.size > maxBytes)
      throw new NotARegularFile(
        `${file} is ${(stat.size / 2 ** 20).toFixed(1)} MB, over the ${maxBytes / 2 ** 20} MB limit`,
      );
    return (await handle.readFile('utf8')).replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}
