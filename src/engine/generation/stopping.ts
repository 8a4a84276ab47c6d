/**
 * Deciding on streamed text where generation ends: stop strings, and text rules such as the end of
 * a completion's block. Text that might still turn into a stop is held back, so a stream never
 * shows text that the final result cuts off.
 */
/** Given the visible text so far: an index to cut at, or how many trailing chars to hold back. */
export type TextRule = (text: string) => { cut: number } | { hold: number };

export class TextStopper {
  private text = '';
  private emitted = 0;
  stopped = false;

  constructor(
    private readonly stops: readonly string[],
    private readonly rules: readonly TextRule[] = [],
  ) {}

  /** Adds decoded text; returns what can be shown now. Sets `stopped` when the text must end. */
  push(delta: string): string {
    if (this.stopped) return '';
    this.text += delta;
    let cut = -1;
    let hold = this.stopPrefixLength();
    for (const s of this.stops) {
      const at = s ? this.text.indexOf(s, Math.max(0, this.emitted - s.length + 1)) : -1;
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    for (const rule of this.rules) {
      const r = rule(this.text);
      if ('cut' in r) cut = cut < 0 ? r.cut : Math.min(cut, r.cut);
      else hold = Math.max(hold, r.hold);
    }
    if (cut >= 0) {
      this.stopped = true;
      this.text = this.text.slice(0, cut);
      return this.take(this.text.length);
    }
    return this.take(this.text.length - hold);
  }

  /** The visible text so far, stop excluded. */
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
  private stopPrefixLength(): number {
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
