/**
 * Messages between the Attention view (webview/attention) and its host (src/attention/attentionView.ts).
 * Large numeric data travels as typed arrays. Webview code cannot import the engine, so the few
 * engine shapes it needs are restated here.
 */

export type AttentionSource = 'completion' | 'explain' | 'selection';
export type HeatMode = 'head' | 'mean' | 'max' | 'rollout';
type HeadKind = 'previous-token' | 'first-token sink' | 'local window' | 'induction-like' | 'mixed';

export interface HeadInfo {
  layer: number;
  head: number;
  label: HeadKind;
  /** The score behind the label, 0..1. */
  score: number;
  scores: { previousToken: number; sink: number; local: number; induction: number };
}

/** Where a generated token came from: the model, or the copy cache (restated from the engine's TokenProvenance). */
export interface TokenOrigin {
  /** Index of the token in the capture. */
  position: number;
  kind: 'model' | 'cache';
  /** The cache's weight λ in the mixture at this step. */
  weight: number;
  /** Probability of the token under the mixture that chose it. */
  p: number;
  /** For copies: the copied text's file and 0-based line ('output' when the suggestion repeats itself). */
  source?: { kind: string; path?: string; line?: number };
}

/** What a capture was run on (kept in memory by the view; never saved in its state). */
interface RestoreSource {
  source: AttentionSource;
  title: string;
  model: string;
  ids: number[];
  /** Index in `ids` of the first generated token (ids.length when none). */
  generatedFrom: number;
}

export interface CaptureSummary {
  id: number;
  title: string;
  source: AttentionSource;
  model: string;
  /** How attention was found, in words. */
  method: string;
  numLayers: number;
  numHeads: number;
  seqLen: number;
  generatedFrom: number;
  labels: string[];
  special: boolean[];
  storage: 'full' | 'mean' | 'rows';
  /** Positions with per-head rows; empty means every position. */
  queries: number[];
  thumbs: { size: number; layers: Uint8Array[] };
  heads: HeadInfo[];
  lens: { available: true; positions: number[]; layerNames: string[] } | { available: false; reason: string };
  notices: string[];
  storedMB: number;
  budgetMB: number;
  captureMs: number;
  /** Position selected first (the first generated token, else the last). */
  initial: number;
  restore: RestoreSource;
  /** Per generated token of a completion: model or copy cache, and what was copied. */
  origins: TokenOrigin[];
  /**
   * For a completion, the positions [from, to) of the generated tokens in its ghost text: those
   * before re-type the healed end of what was typed, those after were cut (the line rule, a guard,
   * the confidence gate). Absent for explanations and selections.
   */
  ghost?: { from: number; to: number };
}

export interface LensData {
  k: number;
  layerNames: string[];
  /** [layers + 1][k] */
  topIds: Int32Array;
  topProbs: Float32Array;
  /** The model's logits at this position [vocab]. */
  final: Float32Array;
  labels: Record<number, string>;
}

export interface QueryData {
  captureId: number;
  position: number;
  /** [layer][head][T] */
  heads: Float32Array;
  /** [layer][T] */
  mean: Float32Array;
  max: Float32Array;
  rollout: Float32Array | null;
  /** skipped: not asked for (the view asks when it shows rollout); unavailable: over the memory budget. */
  rolloutState: 'computed' | 'skipped' | 'unavailable';
  lens: LensData | null;
  /** Why there is no lens here, when there is none. */
  lensNote?: string;
}

export interface LinesData {
  captureId: number;
  layer: number;
  head: number;
  start: number;
  end: number;
  threshold: number;
  query: Int32Array;
  key: Int32Array;
  heads: Int32Array;
  weight: Float32Array;
  total: number;
}

type ViewStatus = 'noModel' | 'loading' | 'capturing' | 'waiting';

// ---- "What it depended on": the dependence ranking of the last completion shown

/** Where a span sits: a line before or after the cursor, a repository snippet, an excerpt only the copy cache read. */
export type DependSpanKind = 'prefix' | 'suffix' | 'snippet' | 'copy';

/** One span's row (restated from the engine's SpanDependence, with its words). Δ in nats, negative: the span helped. */
export interface DependRow {
  /** The span's id in its ranking (what a click sends back). */
  id: number;
  kind: DependSpanKind;
  /** "src/helpers.ts:3–6", "line 12 (`return x`)". */
  label: string;
  /** The span's text, clipped (the row's tooltip). */
  text: string;
  /** Reading order: snippets, the document's lines top to bottom, then copy sources (the sort "by position"). */
  order: number;
  method: 'mask' | 'delete' | 'cache';
  /** Δ log p of the whole suggestion without the span. */
  delta: number;
  /** Δ per scored token. */
  tokenDeltas: number[];
  /** The token whose log p changed most, and by how much. */
  maxToken: number;
  maxDelta: number;
  /** Whether greedy decoding's first token stays the same without the span. */
  sameFirstToken: boolean;
  /** Whether a click can open it (a file and its lines). */
  openable: boolean;
}

/** What a ranking is of and what it found so far (it streams: `done` once every span is scored). */
export interface DependRanking {
  runId: number;
  /** Which suggestion, in words. */
  title: string;
  /** The scored tokens' text (from the completion while streaming, from the model once done). */
  tokens: string[];
  /** The one-line verdict (so far, while streaming). */
  verdict: string;
  /** Every scored span moved the suggestion by less than `nearZeroNats`: the model barely used its context. */
  nearZero: boolean;
  nearZeroNats: number;
  rows: DependRow[];
  done: boolean;
  /** How spans were removed and why, the baseline log p (nats) and the rest of the result, once done. */
  result?: {
    method: 'mask' | 'delete';
    methodNote?: string;
    baseline: number;
    tokenLogprobs: number[];
    greedyFirst: boolean;
    copyCache: boolean;
    spans: number;
    partial: boolean;
    totalMs: number;
  };
}

/**
 * The section's state: `unavailable` (no suggestion to rank, or a model server's: the message says
 * why), `ready` (a suggestion, not ranked yet), `running`, `done`, `cancelled` (with what was
 * scored) or `error`. `newer`: a suggestion shown since the one ranked, in words.
 */
export type DependState =
  | { phase: 'unavailable'; message: string }
  | { phase: 'ready'; title: string }
  | { phase: 'running' | 'done' | 'cancelled'; ranking: DependRanking; newer?: string }
  | { phase: 'error'; title: string; message: string };

export type HostToView =
  | { type: 'status'; status: ViewStatus; message: string }
  | { type: 'capture'; capture: CaptureSummary }
  | { type: 'query'; data: QueryData }
  | { type: 'lines'; data: LinesData }
  | { type: 'error'; message: string; unsupported: boolean }
  | { type: 'tint'; enabled: boolean }
  | { type: 'depend'; state: DependState };

const VIEW_COMMANDS = [
  'glassbox.showAttentionForSelection',
  'glassbox.triggerCompletion',
  'glassbox.toggleAttentionTint',
] as const;
export type ViewCommand = (typeof VIEW_COMMANDS)[number];

export type ViewToHost =
  | { type: 'ready' }
  /** pin: a click (the editor tint follows it); otherwise a hover preview. */
  | { type: 'select'; captureId: number; position: number; pin: boolean; rollout: boolean }
  | { type: 'lines'; captureId: number; layer: number; head: number; start: number; end: number; threshold: number }
  /** The heat row on screen for the pinned position, for the editor tint. */
  | { type: 'heat'; captureId: number; position: number; weights: Float32Array; what: string }
  | { type: 'export'; format: 'png'; dataUrl: string }
  | { type: 'export'; format: 'json'; json: string }
  | { type: 'run'; command: ViewCommand }
  /** Show the place a copied token came from (a workspace-relative path, 0-based line). */
  | { type: 'openSource'; path: string; line: number }
  /** Rank what the last suggestion shown depended on; stop that ranking. */
  | { type: 'depend' }
  | { type: 'dependCancel' }
  /** Open a span of ranking `runId` (its file and lines). */
  | { type: 'dependOpen'; runId: number; span: number }
  | { type: 'dependExport'; format: 'csv' | 'json'; text: string };

/**
 * The view's saved settings without anything of the code: VS Code writes webview state to workspace
 * storage. (An older version saved the prompt's token ids as `restore`; they are dropped.)
 */
export function viewSettingsOnly<S extends object>(saved: S | undefined): Omit<S, 'restore'> | Record<string, never> {
  if (!saved) return {};
  const { restore: _dropped, ...rest } = saved as S & { restore?: unknown };
  return rest;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function isViewToHost(x: unknown): x is ViewToHost {
  const m = x as Record<string, unknown> | null;
  if (!m || typeof m !== 'object') return false;
  switch (m.type) {
    case 'ready':
      return true;
    case 'select':
      return isNum(m.captureId) && isNum(m.position) && typeof m.pin === 'boolean' && typeof m.rollout === 'boolean';
    case 'lines':
      return [m.captureId, m.layer, m.head, m.start, m.end, m.threshold].every(isNum);
    case 'heat':
      return isNum(m.captureId) && isNum(m.position) && m.weights instanceof Float32Array && typeof m.what === 'string';
    case 'export':
      return (
        (m.format === 'png' && typeof m.dataUrl === 'string' && m.dataUrl.startsWith('data:image/png;base64,')) ||
        (m.format === 'json' && typeof m.json === 'string')
      );
    case 'run':
      return (VIEW_COMMANDS as readonly unknown[]).includes(m.command);
    case 'openSource':
      return typeof m.path === 'string' && m.path.length > 0 && m.path.length < 4096 && isNum(m.line) && m.line >= 0;
    case 'depend':
    case 'dependCancel':
      return true;
    case 'dependOpen':
      return isNum(m.runId) && isNum(m.span) && m.span >= 0;
    case 'dependExport':
      return (m.format === 'csv' || m.format === 'json') && typeof m.text === 'string';
    default:
      return false;
  }
}

export function isHostToView(x: unknown): x is HostToView {
  const m = x as Record<string, unknown> | null;
  if (!m || typeof m !== 'object') return false;
  switch (m.type) {
    case 'status':
      return typeof m.status === 'string' && typeof m.message === 'string';
    case 'capture':
      return typeof m.capture === 'object' && m.capture !== null;
    case 'query':
    case 'lines':
      return typeof m.data === 'object' && m.data !== null;
    case 'error':
      return typeof m.message === 'string' && typeof m.unsupported === 'boolean';
    case 'tint':
      return typeof m.enabled === 'boolean';
    case 'depend':
      return (
        typeof m.state === 'object' && m.state !== null && typeof (m.state as { phase?: unknown }).phase === 'string'
      );
    default:
      return false;
  }
}
