/**
 * `glassbox depend`: a completion at a cursor (the extension's pipeline, as `glassbox complete`),
 * then what its suggestion depended on: each span of the prompt taken out of the model's view in
 * turn, ranked by how far the suggestion's log-probability falls without it.
 */
import {
  describeSpan,
  formatNats,
  nearZero,
  NEAR_ZERO_NATS,
  spanPlace,
  suggestionTokens,
  verdict,
  type DependenceResult,
  type SpanDependence,
} from '../engine';
// the in-process engine: the CLI runs the model (and the ranking) itself
import type { Engine } from '../engine/engine';
import { completeInWorkspace } from './workspace';

export interface DependOptions {
  workspace: string | null | undefined;
  maxNewTokens: number;
  timeBudgetMs?: number;
  json: boolean;
  /** Spans whose per-token changes are printed. */
  top?: number;
}

/** Runs the completion and its ranking; returns what to print. */
export async function depend(
  engine: Engine,
  file: string,
  text: string,
  line: number,
  column: number,
  o: DependOptions,
): Promise<string> {
  // no confidence gate: a hidden suggestion depended on its context as much as a shown one
  const r = await completeInWorkspace(engine, file, text, line, column, {
    workspace: o.workspace,
    maxNewTokens: o.maxNewTokens,
    minConfidence: 0,
  });
  const d = await engine.dependence({
    completion: r.request,
    generated: suggestionTokens(r),
    promptText: r.promptText,
    timeBudgetMs: o.timeBudgetMs,
  });
  if (o.json)
    return JSON.stringify({
      suggestion: r.text,
      verdict: verdict(d),
      near_zero: nearZero(d),
      ...d,
      context: r.context,
    });
  return report(r.text, d, o.top ?? 3);
}

const METHODS: Record<DependenceResult['method'], string> = {
  mask: 'attention mask (each span masked in turn; every other token keeps its position)',
  delete: 'deletion (each span left out in turn; the tokens after it move up)',
};

/** The ranking as a terminal reads it. */
function report(suggestion: string, d: DependenceResult, top: number): string {
  const out: string[] = [];
  const n = d.tokens.length;
  out.push(`Suggestion: ${JSON.stringify(suggestion)} (${n} token${n === 1 ? '' : 's'} scored)`);
  out.push(`Verdict: ${verdict(d)}`);
  if (n === 0 || d.spans.length === 0) return out.join('\n');
  out.push(`Method: ${METHODS[d.method]}${d.methodNote ? `. ${d.methodNote}` : ''}`);
  out.push(
    `Baseline: log p = ${d.baseline.toFixed(2)} nats with every span in view${d.copyCache ? ' (model mixed with the copy cache, which loses each span too)' : ''}; greedy decoding ${d.greedyFirst ? 'picks' : 'does not pick'} its first token.`,
  );
  if (nearZero(d))
    out.push(
      `Warning: every span scores within ±${NEAR_ZERO_NATS} nats: the model barely used this context, so the ranking says little.`,
    );
  out.push('');
  out.push('   Δ nats  largest token Δ  first token  span');
  for (const s of d.ranking) {
    const tok = `${formatNats(s.maxDelta)} ${JSON.stringify(d.tokens[s.maxToken]?.text ?? '')}`;
    out.push(
      `${pad(formatNats(s.delta), 9)}  ${pad(tok, 15)}  ${pad(s.sameFirstToken ? 'same' : 'changes', 11)}  ${spanLabel(s)}`,
    );
  }
  const shown = d.ranking.filter((s) => s.delta <= -NEAR_ZERO_NATS).slice(0, top);
  if (shown.length > 0) {
    out.push('');
    out.push('Per-token changes (nats) without each top span:');
    for (const s of shown) {
      out.push(`  ${spanLabel(s)}`);
      out.push('    ' + s.tokenDeltas.map((x, k) => `${JSON.stringify(d.tokens[k].text)} ${formatNats(x)}`).join('  '));
    }
  }
  out.push('');
  out.push(
    `${d.ranking.length} of ${d.spans.length} spans in ${Math.round(d.timings.totalMs)} ms (${d.timings.runs} model runs, ${d.timings.tokensRun} tokens)${d.partial ? '; stopped by the time budget' : ''}.`,
  );
  return out.join('\n');
}

function spanLabel(s: SpanDependence): string {
  const kind = s.span.kind === 'copy' ? 'copy source' : s.span.kind;
  const via = s.method === 'mask' ? '' : ` [${s.method}]`;
  return s.span.kind === 'snippet' || s.span.kind === 'copy'
    ? `${kind} ${spanPlace(s.span)}${via}`
    : `${kind} ${describeSpan(s.span)}${via}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}
