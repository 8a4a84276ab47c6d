/**
 * A lock file beside the ledger (`<ledger>.lock`, created with O_EXCL): two VS Code windows share
 * one ledger, and a recovery (move the file aside, write a new one) racing another window's append
 * lost that append. Appends and recoveries hold it; it is held for one write, so waits are short.
 */
import { promises as fsp } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A lock older than this was left by a window that died holding it, ms. */
const STALE_MS = 10_000;
/** Longest wait for another window's lock, ms. */
const WAIT_MS = 5_000;

function lockTimeout(lock: string): Error {
  return new Error(`another VS Code window has held ${lock} for over ${WAIT_MS / 1000} s`);
}

function stale(lock: string): boolean {
  try {
    return Date.now() - fs.statSync(lock).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

/** Runs `fn` holding the ledger's lock. */
export async function withLedgerLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await (await fsp.open(lock, 'wx')).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (stale(lock)) await fsp.rm(lock, { force: true });
      else if (Date.now() > deadline) throw lockTimeout(lock);
      else await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

/** The same, synchronously (the last flush when the extension deactivates). */
export function withLedgerLockSync<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (stale(lock)) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw lockTimeout(lock);
      else Atomics.wait(pause, 0, 0, 5);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
