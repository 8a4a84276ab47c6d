/**
 * Completion latency from request to text, through the worker as the extension uses it:
 * cold (a new file each time) and warm (the same file with one more character typed).
 */
import { EngineClient } from '../src/engine/worker/client';
import { breakdown, type Breakdown, type MeasuredRequest } from './breakdown';
import { cursorContexts } from './contexts';
import { summarize, time, type Summary } from './stats';
import { threadHop, type ThreadHopResult } from './threadHop';

export interface LatencyResult {
  cold: Summary;
  warm: Summary;
  warmOverCold: number;
  promptTokens: number;
  newTokens: number;
  reusedTokensWarm: number;
  /** Where each request's time went, stage by stage. */
  coldStages: Breakdown;
  warmStages: Breakdown;
  /** Bare messages between two threads around a busy spell as long as the warm request (threadHop.ts). */
  hop: ThreadHopResult;
}

export async function completionLatency(
  client: EngineClient,
  code: string,
  runs: number,
  contextTokens: number,
  newTokens: number,
): Promise<LatencyResult> {
  const contexts = cursorContexts(code, runs, contextTokens * 6, 400);
  const request = (prefix: string, suffix: string) =>
    client.call('complete', {
      prefix,
      suffix,
      maxNewTokens: newTokens,
      budgetTokens: contextTokens,
      stopTokenIds: [],
      shaping: false,
      reuseCache: true,
      steps: false, // as the editor asks (src/completion/provider.ts)
      // decoded token by token, so that every request generates its 16 tokens: where the copy
      // cache matches, the editor's request copies the line in one run (copyLine.ts; the
      // "Copy first" row of the optimisations table measures that, and the judge of candidate
      // lines with it: src/engine/completion/lineJudge.ts)
      copyLine: false,
      judge: false,
    });
  // Unmeasured requests warm the thread up: on these VMs a thread's first ~50 session runs took
  // about 5 ms per decode step, the rest under 1 ms (bench/README.md), whatever the session.
  for (let i = 0; i < 4; i++)
    await request(contexts[i % contexts.length].prefix + '#', contexts[i % contexts.length].suffix);
  const cold: MeasuredRequest[] = [];
  const warm: MeasuredRequest[] = [];
  let promptTokens = 0;
  let reused = 0;
  for (const c of contexts) {
    const [r, ms] = await time(() => request(c.prefix, c.suffix));
    cold.push({ totalMs: ms, stages: r.timings.stages });
    promptTokens = r.timings.promptTokens;
    // A keystroke inserts at the cursor: the prefix grows by one character, the text right of the
    // cursor (the suffix) stays as it was.
    const typed = c.suffix[0] && c.suffix[0] !== '\n' ? c.suffix[0] : 'x';
    const [w, wms] = await time(() => request(c.prefix + typed, c.suffix));
    warm.push({ totalMs: wms, stages: w.timings.stages });
    reused = w.timings.reusedTokens;
  }
  const coldS = summarize(cold.map((c) => c.totalMs));
  const warmS = summarize(warm.map((w) => w.totalMs));
  const hop = await threadHop(warmS.median, runs);
  return {
    cold: coldS,
    warm: warmS,
    warmOverCold: warmS.median / coldS.median,
    promptTokens,
    newTokens,
    reusedTokensWarm: reused,
    coldStages: breakdown(cold),
    warmStages: breakdown(warm),
    hop,
  };
}
