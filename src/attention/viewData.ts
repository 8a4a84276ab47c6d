/**
 * Turns an engine capture into what the Attention view draws: the capture summary (sent once),
 * the per-click query data and the line view's edges. Pure (no vscode), so the benchmark times
 * exactly the work a click does.
 */
import { lineEdges, queryView, FINAL_TOP_LABELS, type AttentionCapture, topIndices } from '../engine';
import type {
  AttentionSource,
  CaptureSummary,
  LensData,
  LinesData,
  QueryData,
  TokenOrigin,
} from '../../webview/attention/protocol';

const MB = 1024 * 1024;

function methodText(c: AttentionCapture): string {
  const m = c.method;
  return m.kind === 'softmax'
    ? `Softmax outputs of ${m.nodes.length} layers, added as graph outputs (graph surgery)`
    : `${m.op} ×${m.nodes.length}: recomputed softmax(QKᵀ·scale + causal mask) from the op's Q and K`;
}

export function summarize(
  c: AttentionCapture,
  id: number,
  source: AttentionSource,
  title: string,
  provenance?: readonly (Omit<TokenOrigin, 'position'> & { token: number })[],
): CaptureSummary {
  const initial = c.generatedFrom < c.seqLen ? c.generatedFrom : c.seqLen - 1;
  return {
    id,
    title,
    source,
    model: c.model,
    method: methodText(c),
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    seqLen: c.seqLen,
    generatedFrom: c.generatedFrom,
    labels: c.labels,
    special: c.special,
    storage: c.storage,
    queries: c.queries,
    thumbs: c.thumbs,
    heads: c.headStats.map((s) => ({ layer: s.layer, head: s.head, label: s.label, score: s.score, scores: s.scores })),
    lens:
      'positions' in c.lens
        ? { available: true, positions: c.lens.positions, layerNames: c.lens.layerNames }
        : { available: false, reason: c.lens.unavailable },
    notices: c.notices,
    storedMB: c.storedBytes / MB,
    budgetMB: c.budgetBytes / MB,
    captureMs: c.timings.totalMs,
    initial,
    restore: { source, title, model: c.model, ids: c.ids, generatedFrom: c.generatedFrom },
    // the capture's generated tokens are the request's, in order; provenance covers those shown
    origins: (provenance ?? [])
      .filter((t) => c.generatedFrom + t.token < c.seqLen)
      .map((t) => ({
        position: c.generatedFrom + t.token,
        kind: t.kind,
        weight: t.weight,
        p: t.p,
        ...(t.source ? { source: t.source } : {}),
      })),
    ...(provenance ? { ghost: ghostSpan(c, provenance) } : {}),
  };
}

/**
 * The generated positions whose text is in the ghost text: those with provenance. Before them,
 * tokens that only re-type the healed end of the prefix; after them, what the line rule, the
 * guards or the confidence gate cut (a hidden suggestion shows none: an empty span).
 */
function ghostSpan(c: AttentionCapture, provenance: readonly { token: number }[]): { from: number; to: number } {
  const first = provenance.length ? provenance[0].token : 0;
  const last = provenance.length ? provenance[provenance.length - 1].token + 1 : 0;
  const from = Math.min(c.seqLen, c.generatedFrom + first);
  return { from, to: Math.max(from, Math.min(c.seqLen, c.generatedFrom + last)) };
}

/** The lens rows of one position, or why there are none. */
function lensAt(c: AttentionCapture, position: number): { lens: LensData | null; note?: string } {
  const lens = c.lens;
  if (!('positions' in lens)) return { lens: null, note: lens.unavailable };
  const p = lens.positions.indexOf(position);
  if (p < 0)
    return {
      lens: null,
      note: 'The logit lens was computed for the selected tokens only (a long context with a large vocabulary); pick one of them, or capture a selection ending here.',
    };
  const layers = lens.layerNames.length;
  const span = layers * lens.k;
  const topIds = lens.topIds.slice(p * span, (p + 1) * span);
  const final = lens.final.slice(p * lens.vocab, (p + 1) * lens.vocab);
  const labels: Record<number, string> = {};
  for (const id of topIds) labels[id] = lens.labels[id];
  for (const id of topIndices(final, FINAL_TOP_LABELS)) labels[id] = lens.labels[id];
  return {
    lens: {
      k: lens.k,
      layerNames: lens.layerNames,
      topIds,
      topProbs: lens.topProbs.slice(p * span, (p + 1) * span),
      final,
      labels,
    },
  };
}

/** Everything one click repaints; null when the position's rows were not recorded (over budget). */
export function queryData(
  c: AttentionCapture,
  captureId: number,
  position: number,
  withRollout: boolean,
): QueryData | null {
  const v = queryView(c, position, withRollout);
  if (!v) return null;
  const { lens, note } = lensAt(c, position);
  const rollout = v.rollout ? 'computed' : c.means ? 'skipped' : 'unavailable';
  return {
    captureId,
    position,
    heads: v.heads,
    mean: v.mean,
    max: v.max,
    rollout: v.rollout,
    rolloutState: rollout,
    lens,
    lensNote: note,
  };
}

export function linesData(
  c: AttentionCapture,
  captureId: number,
  layer: number,
  head: number,
  start: number,
  end: number,
  threshold: number,
): LinesData {
  const e = lineEdges(c, layer, head, Math.max(0, start), Math.min(c.seqLen, end), threshold);
  return {
    captureId,
    layer,
    head,
    start: e.start,
    end: e.end,
    threshold,
    query: e.query,
    key: e.key,
    heads: e.head,
    weight: e.weight,
    total: e.total,
  };
}
