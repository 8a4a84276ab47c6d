/**
 * A debounce that follows the user's typing speed: about 1.5× their recent median gap between
 * keystrokes, kept within 100–400 ms. Fast typists wait less; a pause longer than their rhythm
 * means they want a suggestion.
 */
export const MIN_DEBOUNCE_MS = 100;
export const MAX_DEBOUNCE_MS = 400;
const WINDOW = 9; // keystroke gaps remembered
const IDLE_GAP_MS = 2000; // gaps longer than this are pauses, not typing rhythm

export class AdaptiveDebounce {
  private last = -Infinity;
  private readonly gaps: number[] = [];

  /** Records a keystroke at `now` (ms). */
  keystroke(now: number): void {
    const gap = now - this.last;
    this.last = now;
    if (gap > 0 && gap < IDLE_GAP_MS) {
      this.gaps.push(gap);
      if (this.gaps.length > WINDOW) this.gaps.shift();
    }
  }

  /** The delay to wait before asking the model, ms. */
  delay(): number {
    if (this.gaps.length === 0) return MIN_DEBOUNCE_MS * 1.5;
    const sorted = [...this.gaps].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return Math.min(MAX_DEBOUNCE_MS, Math.max(MIN_DEBOUNCE_MS, 1.5 * median));
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
