/**
 * When generation stops, as transformers.js's stopping criteria decide it: an end-of-sequence
 * token, a stop string or text rule (the visible text is cut there), the repetition guard (a token
 * trigram a third time: the tokens since are dropped), the token limit, the context's end, the
 * wall-clock budget. Cancellation is the caller's signal, checked between steps.
 */
import type { TextRule } from './stopping';
import type { GeneratedToken, StopReason } from './generate';
import { RepetitionGuard } from './guards';
import { TextStopper } from './stopping';
import type { TextTokenizer } from '../runtime/tokenizer';

export interface StoppingOptions {
  stopTokenIds: Iterable<number>;
  stopStrings?: readonly string[];
  textRules?: readonly TextRule[];
  /** Tokens asked for, and the most the context leaves room for. */
  maxNewTokens: number;
  room: number;
  repetitionGuard?: boolean;
  timeBudgetMs?: number;
  /** performance.now() at the request's start (the budget counts from there). */
  start: number;
}

export class StoppingCriteria {
  reason: StopReason;
  /** Most tokens this request generates. */
  readonly maxNew: number;
  private readonly stopIds: Set<number>;
  private readonly text: TextStopper;
  private readonly guard: RepetitionGuard | null;

  constructor(private readonly o: StoppingOptions) {
    this.maxNew = Math.min(o.maxNewTokens, o.room);
    this.reason = this.maxNew < o.maxNewTokens ? 'context_full' : 'max_tokens';
    this.stopIds = new Set(o.stopTokenIds);
    this.text = new TextStopper(o.stopStrings ?? [], o.textRules ?? []);
    this.guard = o.repetitionGuard ? new RepetitionGuard() : null;
  }

  /** An end-of-sequence token: the output ends before it. */
  eos(id: number): boolean {
    if (!this.stopIds.has(id)) return false;
    this.reason = 'eos';
    return true;
  }

  /** The part of a token's text that is visible (a stop string cuts it). */
  visible(text: string): string {
    const shown = this.text.push(text);
    if (this.text.stopped) this.reason = 'stop_string';
    return shown;
  }

  /** The repetition guard, after `id` was added to `steps`: true (and `steps` cut back) on a third repeat. */
  repeats(id: number, steps: GeneratedToken[]): boolean {
    if (!this.guard?.push(id)) return false;
    steps.length = this.guard.keep;
    this.reason = 'repetition';
    return true;
  }

  /** After a token was streamed: a stop string, the token limit, or the time budget ends the output. */
  done(generated: number): boolean {
    if (this.text.stopped || generated === this.maxNew) return true;
    if (this.o.timeBudgetMs !== undefined && performance.now() - this.o.start > this.o.timeBudgetMs) {
      this.reason = 'time_budget';
      return true;
    }
    return false;
  }

  /**
   * The output's visible text: the tail held back (an unfinished UTF-8 sequence) still gets its
   * stop-string check; after a repetition cut, the text of the tokens kept.
   */
  finalText(rest: string, tokenizer: TextTokenizer, steps: readonly GeneratedToken[], healText: string): string {
    if (this.reason === 'repetition') {
      const again = new TextStopper(this.o.stopStrings ?? [], this.o.textRules ?? []);
      again.push(
        tokenizer
          .decode(
            steps.map((s) => s.id),
            { skipSpecial: true },
          )
          .slice(healText.length),
      );
      return again.visible;
    }
    if (!this.text.stopped) this.visible(rest);
    return this.text.visible;
  }
}
