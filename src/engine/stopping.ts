/**
 * Stop strings over streamed text. Text that might be the start of a stop string is held back,
 * so a streamed completion never shows part of a stop string it later cuts off.
 */
export class StopStringFilter {
  private text = '';
  private emitted = 0;
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Adds decoded text; returns what can be shown now. Sets `stopped` when a stop string appears. */
  push(delta: string): string {
    if (this.stopped) return '';
    this.text += delta;
    let cut = -1;
    for (const s of this.stops) {
      const at = s ? this.text.indexOf(s, Math.max(0, this.emitted - s.length + 1)) : -1;
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.text = this.text.slice(0, cut);
      return this.take(this.text.length);
    }
    return this.take(this.text.length - this.heldBack());
  }

  /** The visible text so far, stop string excluded. */
  get visible(): string {
    return this.text;
  }

  private take(upTo: number): string {
    if (upTo <= this.emitted) return '';
    const out = this.text.slice(this.emitted, upTo);
    this.emitted = upTo;
    return out;
  }

  /** Length of the longest tail of the text that is a proper prefix of some stop string. */
  private heldBack(): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.text.length); n > best; n--) {
        if (this.text.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
