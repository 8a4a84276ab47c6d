/**
 * An LRU of recent completions keyed on (prefix, suffix). Besides exact hits it answers the
 * "typing along" case: the user typed the first characters of a suggestion that was showing, so
 * the rest of that suggestion is still the answer and no model call is needed.
 */
interface Entry {
  prefix: string;
  suffix: string;
  text: string;
  /** The served request the text came from (its result's requestId), for the usage ledger. */
  requestId?: string;
}

export class CompletionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 64) {}

  get(prefix: string, suffix: string): string | undefined {
    return this.lookup(prefix, suffix)?.text;
  }

  /** Like `get`, with the id of the request that produced the text. */
  lookup(prefix: string, suffix: string): { text: string; requestId?: string } | undefined {
    const key = prefix + '\u0000' + suffix;
    const exact = this.entries.get(key);
    if (exact) {
      this.touch(key, exact);
      return { text: exact.text, requestId: exact.requestId };
    }
    for (const [k, e] of [...this.entries].reverse()) {
      if (e.suffix !== suffix || prefix.length <= e.prefix.length || !prefix.startsWith(e.prefix)) continue;
      const typed = prefix.slice(e.prefix.length);
      if (e.text.length > typed.length && e.text.startsWith(typed)) {
        this.touch(k, e);
        return { text: e.text.slice(typed.length), requestId: e.requestId };
      }
    }
    return undefined;
  }

  set(prefix: string, suffix: string, text: string, requestId?: string): void {
    const key = prefix + '\u0000' + suffix;
    this.entries.delete(key);
    this.entries.set(key, { prefix, suffix, text, requestId });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private touch(key: string, e: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, e);
  }
}
