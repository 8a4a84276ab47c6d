/**
 * Where a completion request's time goes, stage by stage (src/engine/runtime/stageClock.ts), from the
 * host's call to the result back on the host. Each request's stages come from the request itself;
 * its total is measured on the host around `client.call`, so `other` is whatever no stage covers
 * (promise and event-loop hops on either thread, the worker's handler dispatch).
 */
import { RUN_STAGES, STAGES, type Stage, type StageTimes } from '../src/engine/runtime/stageClock';
import { summarize, type Summary } from './stats';

export interface StageRow {
  stage: Stage | 'other';
  ms: Summary;
  /** Mean of this stage ÷ mean of the request's total (the shares add up to 1 with `other`). */
  share: number;
}

export interface Breakdown {
  total: Summary;
  /** Σ of the request's own session.run calls (prefill and decode). */
  runs: Summary;
  /**
   * The median over requests of total ÷ Σ session.run: how much more a request costs than its own
   * model runs. Per request, because a run that a noisy neighbour slows down slows that request's
   * total with it; a ratio of the two medians mixes different requests.
   */
  totalOverRuns: number;
  rows: StageRow[];
}

/** One request as measured: the host's wall time and the stages the result carried. */
export interface MeasuredRequest {
  totalMs: number;
  stages: StageTimes;
}

export function breakdown(requests: readonly MeasuredRequest[]): Breakdown {
  const totals = requests.map((r) => r.totalMs);
  const meanTotal = totals.reduce((a, b) => a + b, 0) / Math.max(1, totals.length);
  const rowOf = (stage: StageRow['stage'], values: number[]): StageRow => {
    const ms = summarize(values);
    return { stage, ms, share: ms.mean / meanTotal };
  };
  const rows = STAGES.filter((s) => requests.some((r) => r.stages[s] !== undefined)).map((s) =>
    rowOf(
      s,
      requests.map((r) => r.stages[s] ?? 0),
    ),
  );
  const covered = (r: MeasuredRequest) => STAGES.reduce((sum, s) => sum + (r.stages[s] ?? 0), 0);
  rows.push(
    rowOf(
      'other',
      requests.map((r) => r.totalMs - covered(r)),
    ),
  );
  const runsOf = (r: MeasuredRequest) => RUN_STAGES.reduce((sum, s) => sum + (r.stages[s] ?? 0), 0);
  const runs = summarize(requests.map(runsOf));
  const total = summarize(totals);
  const ratio = summarize(requests.map((r) => r.totalMs / runsOf(r)));
  return { total, runs, totalOverRuns: ratio.median, rows };
}
