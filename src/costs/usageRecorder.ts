/**
 * Records every served request in the ledger without touching the completion path: `record` only
 * queues; every few seconds a flush counts OpenAI tokens in a worker thread, drops the texts and
 * appends one batch of lines. The last batch is written synchronously when the extension stops.
 * Plain Node (no vscode), so the tests drive it directly.
 */
import {
  appendToLedger,
  appendToLedgerSync,
  readLedger,
  resetLedger,
  type Acceptance,
  type LedgerRead,
  type UsageEntry,
} from './ledger';
import type { TokenCounter } from './tokenCounter';

/** The part of EngineHost's ServedRequest the ledger needs. */
export interface Served {
  id: string;
  kind: 'completion' | 'explain';
  model: string;
  /** 'embedded', or the model server's backend kind. */
  backend?: string;
  result: {
    text: string;
    promptText?: string;
    timings: {
      promptTokens: number;
      reusedTokens?: number;
      generatedTokens: number;
      prefillMs: number;
      decodeMs: number;
    };
  };
  latencyMs: number;
}

interface RecorderOptions {
  file: string;
  /** Exact OpenAI counts; without one (or when it fails) only lengths are stored and counts are estimated. */
  counter?: TokenCounter;
  /** How long a record may wait before it is written, ms. */
  flushMs?: number;
  /** A damaged ledger was replaced (found on the first write of a session). */
  onRecovered?: (info: NonNullable<LedgerRead['recovered']>) => void;
  /** Something went wrong that the user should hear about once. */
  onProblem?: (message: string) => void;
  /** After each batch reached the file. */
  onFlushed?: () => void;
  now?: () => number;
}

interface Pending {
  entry: UsageEntry;
  promptText: string;
  outputText: string;
  /** Counting was tried (the texts are gone after it). */
  counted: boolean;
}

interface Batch {
  entries: Pending[];
  accepts: Acceptance[];
  /** Claimed by whichever writer (the async flush or dispose) gets to it first. */
  written: boolean;
}

export class UsageRecorder {
  private pending: Pending[] = [];
  private accepts: Acceptance[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private inFlight: Batch | null = null;
  private checked = false;
  private readonly told = new Set<string>();
  private disposed = false;

  constructor(private readonly opts: RecorderOptions) {}

  get file(): string {
    return this.opts.file;
  }

  /** Queues one served request (O(1): called on the completion path). */
  record(r: Served): void {
    if (this.disposed) return;
    const t = r.result.timings;
    const promptText = r.result.promptText ?? '';
    this.pending.push({
      entry: {
        id: r.id,
        time: this.opts.now?.() ?? Date.now(),
        kind: r.kind,
        model: r.model,
        promptTokens: t.promptTokens,
        reusedTokens: t.reusedTokens ?? 0,
        generatedTokens: t.generatedTokens,
        prefillMs: t.prefillMs,
        decodeMs: t.decodeMs,
        latencyMs: r.latencyMs,
        prompt: { chars: promptText.length },
        output: { chars: r.result.text.length },
        shown: r.kind === 'completion' && r.result.text !== '',
        accepted: false,
        ...(r.backend && r.backend !== 'embedded' ? { server: r.backend } : {}),
      },
      promptText,
      outputText: r.result.text,
      counted: false,
    });
    this.schedule();
  }

  /** The user accepted the completion served as request `id`. */
  accept(id: unknown): void {
    if (this.disposed || typeof id !== 'string' || id === '') return;
    this.accepts.push({ id, time: this.opts.now?.() ?? Date.now() });
    this.schedule();
  }

  /** Writes everything queued so far. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(() => this.writeBatch());
    return this.chain;
  }

  /** The whole ledger, after writing what is queued (a damaged file is replaced and reported in `recovered`). */
  async read(): Promise<LedgerRead> {
    await this.flush();
    const r = await readLedger(this.opts.file);
    this.checked = true;
    return r;
  }

  async reset(): Promise<void> {
    this.pending = [];
    this.accepts = [];
    await this.flush();
    await resetLedger(this.opts.file);
  }

  /** Stops the timer and writes what is left synchronously (exact counts are skipped: no time for them). */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    const batches: Batch[] = [
      ...(this.inFlight && !this.inFlight.written ? [this.inFlight] : []),
      { entries: this.pending, accepts: this.accepts, written: false },
    ];
    this.pending = [];
    this.accepts = [];
    for (const b of batches) {
      b.written = true;
      try {
        appendToLedgerSync(
          this.opts.file,
          b.entries.map((p) => p.entry),
          b.accepts,
        );
      } catch {
        // VS Code is shutting down: nowhere left to report it.
      }
    }
  }

  private schedule(): void {
    if (this.timer || this.disposed) return;
    this.timer = setTimeout(() => void this.flush(), this.opts.flushMs ?? 5000);
    this.timer.unref();
  }

  private async writeBatch(): Promise<void> {
    if (this.pending.length === 0 && this.accepts.length === 0) return;
    const batch: Batch = { entries: this.pending, accepts: this.accepts, written: false };
    this.pending = [];
    this.accepts = [];
    this.inFlight = batch;
    try {
      await this.count(batch.entries);
      if (!this.checked) {
        this.checked = true;
        const r = await readLedger(this.opts.file);
        if (r.recovered) this.opts.onRecovered?.(r.recovered);
      }
      if (batch.written) return; // dispose wrote it meanwhile
      batch.written = true;
      await appendToLedger(
        this.opts.file,
        batch.entries.map((p) => p.entry),
        batch.accepts,
      );
      this.opts.onFlushed?.();
    } catch (err) {
      this.tell(
        `Glassbox could not write the usage ledger (${this.opts.file}): ${err instanceof Error ? err.message : String(err)}`,
      );
      if (!this.disposed) {
        // Keep the records for the next try; their texts are no longer needed once counted.
        batch.written = false;
        this.pending.unshift(...batch.entries);
        this.accepts.unshift(...batch.accepts);
        this.schedule(); // and try again: nothing else may come to trigger a flush
      }
    } finally {
      if (this.inFlight === batch) this.inFlight = null;
    }
  }

  /** Fills in exact OpenAI counts and lets go of the texts. */
  private async count(entries: Pending[]): Promise<void> {
    const todo = entries.filter((p) => !p.counted);
    if (todo.length && this.opts.counter) {
      try {
        const counts = await this.opts.counter.count(todo.flatMap((p) => [p.promptText, p.outputText]));
        todo.forEach((p, i) => {
          p.entry.prompt = counts[2 * i];
          p.entry.output = counts[2 * i + 1];
        });
      } catch (err) {
        this.tell(
          `Glassbox could not count OpenAI tokens exactly (${err instanceof Error ? err.message : String(err)}); these requests are priced from estimates.`,
        );
      }
    }
    for (const p of todo) {
      p.promptText = '';
      p.outputText = '';
      p.counted = true;
    }
  }

  private tell(message: string): void {
    if (this.told.has(message)) return;
    this.told.add(message);
    this.opts.onProblem?.(message);
  }
}
