/**
 * The usage ledger: one JSON line per request the local model served, in the extension's global
 * storage, never sent anywhere. It keeps counts, not code: the prompt's and output's length and
 * their exact OpenAI token counts, computed when the request was recorded. Lines are only ever
 * appended; an acceptance is a line of its own. A file that cannot be read back is moved aside
 * (kept as a backup) and a new one started with every line that could be read.
 */
import { promises as fsp } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRegularFile } from '../engine';
import { withLedgerLock, withLedgerLockSync } from './ledgerLock';
import type { TextCounts } from './tokenCounts';

export const LEDGER_FILE = 'usage-ledger.jsonl';
const HEADER = { glassboxUsageLedger: 1 };
const APPEND_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NONBLOCK ?? 0);
/** Largest ledger read, bytes (a line is about 150 bytes: over a million requests). */
const MAX_LEDGER_BYTES = 256 * 2 ** 20;

export interface UsageEntry {
  id: string;
  /** ms since the epoch. */
  time: number;
  kind: 'completion' | 'explain';
  model: string;
  /** The local model's own counts. */
  promptTokens: number;
  /** Prompt tokens whose KV cache was reused from the previous request. */
  reusedTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  /** Request to result, ms (includes queueing and the worker round trip). */
  latencyMs: number;
  prompt: TextCounts;
  output: TextCounts;
  /** A completion with text, offered to the editor as ghost text (VS Code's stable API does not report display itself). */
  shown: boolean;
  accepted: boolean;
  /** The model server that answered (glassbox.backend), absent for the embedded engine; its counts are the server's. */
  server?: string;
}

export interface Acceptance {
  id: string;
  time: number;
}

/** On disk, short keys keep a line near 150 bytes. */
interface EntryLine {
  id: string;
  t: number;
  k: 'c' | 'e';
  m: string;
  pt: number;
  rt: number;
  gt: number;
  pf: number;
  dc: number;
  lat: number;
  /** [chars, o200k, cl100k] of the prompt and the output; exact counts absent when not computed. */
  p: [number, number?, number?];
  o: [number, number?, number?];
  sh: 0 | 1;
  /** The server backend, when not the embedded engine. */
  b?: string;
}

export interface LedgerRead {
  entries: UsageEntry[];
  /** Set when the file could not be read back whole and was replaced. */
  recovered?: { backup: string; badLines: number; kept: number };
}

/**
 * One entry's line. Every number is made one the reader accepts (finite, not negative; else 0): a
 * server's `prompt_tokens: -1` or `1e309` once wrote a line the reader rejected, and the next read
 * moved the whole ledger aside as damaged.
 */
function encodeEntry(e: UsageEntry): string {
  const n = (x: number) => (isNum(x) ? x : 0);
  const counts = (c: TextCounts): [number, number?, number?] =>
    c.o200k === undefined || c.cl100k === undefined ? [n(c.chars)] : [n(c.chars), n(c.o200k), n(c.cl100k)];
  const line: EntryLine = {
    // strings the reader requires, whatever a caller passed (an undefined id or model wrote a line
    // the reader rejected, and the next read moved the ledger aside)
    id: typeof e.id === 'string' && e.id ? e.id : `unknown-${Math.round(n(e.time))}`,
    t: Math.round(n(e.time)),
    k: e.kind === 'completion' ? 'c' : 'e',
    m: typeof e.model === 'string' ? e.model : 'unknown',
    pt: n(e.promptTokens),
    rt: n(e.reusedTokens),
    gt: n(e.generatedTokens),
    pf: round1(n(e.prefillMs)),
    dc: round1(n(e.decodeMs)),
    lat: round1(n(e.latencyMs)),
    p: counts(e.prompt),
    o: counts(e.output),
    sh: e.shown ? 1 : 0,
    ...(e.server ? { b: e.server } : {}),
  };
  return JSON.stringify(line);
}

/** One parsed line: an entry, an acceptance, the header, or undefined when unreadable. */
function decodeLine(text: string): { entry: UsageEntry } | { accept: Acceptance } | { header: true } | undefined {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof x !== 'object' || x === null) return undefined;
  const r = x as Record<string, unknown>;
  if (r.glassboxUsageLedger === 1) return { header: true };
  if (typeof r.acc === 'string' && isNum(r.t)) return { accept: { id: r.acc, time: r.t } };
  const nums = ['t', 'pt', 'rt', 'gt', 'pf', 'dc', 'lat'] as const;
  if (
    typeof r.id !== 'string' ||
    (r.k !== 'c' && r.k !== 'e') ||
    typeof r.m !== 'string' ||
    !nums.every((k) => isNum(r[k]))
  )
    return undefined;
  const prompt = decodeCounts(r.p);
  const output = decodeCounts(r.o);
  if (!prompt || !output) return undefined;
  const l = r as unknown as EntryLine;
  return {
    entry: {
      id: l.id,
      time: l.t,
      kind: l.k === 'c' ? 'completion' : 'explain',
      model: l.m,
      promptTokens: l.pt,
      reusedTokens: l.rt,
      generatedTokens: l.gt,
      prefillMs: l.pf,
      decodeMs: l.dc,
      latencyMs: l.lat,
      prompt,
      output,
      shown: l.sh === 1,
      accepted: false,
      ...(typeof l.b === 'string' && l.b ? { server: l.b } : {}),
    },
  };
}

/** The file's entries and acceptances, and whether it reads back whole; null when it does not exist. */
async function parseLedger(
  file: string,
): Promise<{ entries: UsageEntry[]; accepts: Acceptance[]; bad: number; header: boolean; clean: boolean } | null> {
  let text: string;
  try {
    text = await readRegularFile(file, MAX_LEDGER_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const byId = new Map<string, UsageEntry>();
  const accepts: Acceptance[] = [];
  let bad = 0;
  let header = false;
  let first = true;
  // an editor may have added a byte-order mark or a blank first line: neither is damage
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((line) => {
      if (line.trim() === '') return;
      const d = decodeLine(line);
      const wasFirst = first;
      first = false;
      if (!d) bad++;
      else if ('header' in d) header ||= wasFirst;
      else if ('accept' in d) accepts.push(d.accept);
      else byId.set(d.entry.id, d.entry);
    });
  for (const a of accepts) {
    const e = byId.get(a.id);
    if (e) e.accepted = true;
  }
  const entries = [...byId.values()].sort((x, y) => x.time - y.time);
  return { entries, accepts, bad, header, clean: bad === 0 && (header || text.trim() === '') };
}

/**
 * Reads the ledger (a missing file is an empty ledger); replaces a damaged file, keeping a backup.
 * The replacement holds the ledger's lock and reads the file again first: another window's append
 * since the first read is kept, and a file another window has just recovered is left alone.
 */
export async function readLedger(file: string): Promise<LedgerRead> {
  const first = await parseLedger(file);
  if (!first) return { entries: [] };
  if (first.clean) return { entries: first.entries };
  return withLedgerLock(file, async () => {
    const now = await parseLedger(file);
    if (!now) return { entries: [] };
    if (now.clean) return { entries: now.entries };
    // Damaged: keep the file as it was, start a new one with what could be read.
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const backup = path.join(path.dirname(file), `${path.basename(file, '.jsonl')}.corrupt-${stamp}.jsonl`);
    await fsp.rename(file, backup);
    await writeFresh(file, now.entries, now.accepts); // the acceptances as they were: their own times, every id
    return {
      entries: now.entries,
      recovered: { backup, badLines: now.bad + (now.header ? 0 : 1), kept: now.entries.length },
    };
  });
}

/** Appends entries and acceptances in one write (creating the file with its header if needed). */
export async function appendToLedger(file: string, entries: UsageEntry[], accepts: Acceptance[] = []): Promise<void> {
  const text = linesOf(entries, accepts);
  if (!text) return;
  await withLedgerLock(file, async () => {
    const fresh = !(await exists(file));
    // a torn last line (a crash mid-write) would swallow the first new entry: start on a new line
    const lead = fresh ? JSON.stringify(HEADER) + '\n' : (await endsWithoutNewline(file)) ? '\n' : '';
    // opened without waiting and written only when it is a regular file (a FIFO hung the append)
    const handle = await fsp.open(file, APPEND_FLAGS, 0o644);
    try {
      if (!(await handle.stat()).isFile()) throw new Error(`${file} is not a regular file`);
      await handle.appendFile(lead + text, 'utf8');
    } finally {
      await handle.close();
    }
  });
}

/** Whether a non-empty file's last byte is not a newline. */
async function endsWithoutNewline(file: string): Promise<boolean> {
  const handle = await fsp.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    const { size } = stat;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}

function endsWithoutNewlineSync(file: string): boolean {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    const size = stat.size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}

/** The same, synchronously: for the last flush when the extension deactivates. */
export function appendToLedgerSync(file: string, entries: UsageEntry[], accepts: Acceptance[] = []): void {
  const text = linesOf(entries, accepts);
  if (!text) return;
  withLedgerLockSync(file, () => {
    const fresh = !fs.existsSync(file);
    const lead = fresh ? JSON.stringify(HEADER) + '\n' : endsWithoutNewlineSync(file) ? '\n' : '';
    const fd = fs.openSync(file, APPEND_FLAGS, 0o644);
    try {
      if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
      fs.appendFileSync(fd, lead + text, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** Empties the ledger (a new file with only its header). */
export async function resetLedger(file: string): Promise<void> {
  await withLedgerLock(file, () => writeFresh(file, []));
}

async function writeFresh(file: string, entries: UsageEntry[], accepts: Acceptance[] = []): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(HEADER) + '\n' + linesOf(entries, accepts), 'utf8');
  await fsp.rename(tmp, file); // atomic: a reader sees the old file or the new one
}

function linesOf(entries: UsageEntry[], accepts: Acceptance[]): string {
  return [...entries.map(encodeEntry), ...accepts.map((a) => JSON.stringify({ acc: a.id, t: Math.round(a.time) }))]
    .map((l) => l + '\n')
    .join('');
}

function decodeCounts(x: unknown): TextCounts | undefined {
  if (!Array.isArray(x) || !isNum(x[0])) return undefined;
  if (x.length === 1) return { chars: x[0] };
  if (x.length === 3 && isNum(x[1]) && isNum(x[2])) return { chars: x[0], o200k: x[1], cl100k: x[2] };
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
