/**
 * Speculative decoding with the copy cache's drafts: when a token was copied, the tokens that
 * followed its source run in the same step, and every one the mixture then chooses costs no run of
 * its own. The runner keeps the draft's tokens (in the KV cache, not yet chosen) and the rows
 * already computed after them; the output is the same with or without it.
 */
import type { CopyCache } from './copyCache';
import type { DecoderModel, StepLogits } from '../runtime/decoder';
import type { StageClock } from '../runtime/stageClock';
import type { TokenSource } from './tokenChoice';

/**
 * Most draft tokens verified in one run. A run of 5 tokens on a 1,000-token cache cost about 1.5×
 * a 1-token step on a 2-core EPYC (bench/README.md); copies in code often go on for longer, but a
 * rejected draft's tail is work thrown away.
 */
const DRAFT_TOKENS = 4;

export class DraftRunner {
  /** Draft tokens run ahead, and how many of them the output kept. */
  total = 0;
  kept = 0;
  private drafted: number[] = [];
  private pending: StepLogits[] = [];

  constructor(
    private readonly model: DecoderModel,
    /** The copy cache that drafts; undefined: one token a run. */
    private readonly copy: CopyCache | undefined,
    private readonly clock: StageClock,
    /** Steps may be summary-only (tokenChooser.ts). */
    private readonly lean: boolean,
  ) {}

  /** The row after `next`: from the draft where it is the draft's token, else from a run (with a new draft where `next` was copied). */
  async after(next: number, source: TokenSource | undefined, room: number): Promise<StepLogits> {
    const cache = this.model.cache;
    if (this.drafted[0] === next) {
      // the draft's token: its keys and values are in the cache, and the row after it is computed
      this.drafted.shift();
      this.kept++;
      return this.pending.shift()!;
    }
    if (this.drafted.length > 0) {
      // the mixture chose otherwise: the rest of the draft goes
      cache.truncate(cache.length - this.drafted.length);
      [this.drafted, this.pending] = [[], []];
    }
    const draft =
      this.copy && source?.from !== undefined ? this.copy.draft(source.from, Math.min(DRAFT_TOKENS, room)) : [];
    if (draft.length === 0)
      return this.model.step([next], cache, { clock: this.clock, run: 'run_decode', summaryOnly: this.lean });
    const [step, ...pending] = await this.model.steps([next, ...draft], cache, {
      clock: this.clock,
      run: 'run_decode',
    });
    [this.drafted, this.pending] = [draft, pending];
    this.total += draft.length;
    return step;
  }
}
