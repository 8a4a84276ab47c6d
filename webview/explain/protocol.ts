/** Messages between the Explain panel (webview/explain) and its host (src/explain/explainPanel.ts). */

interface ExplainDetails {
  model: string;
  promptText: string;
  promptTokens: number;
  generatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  stopReason: string;
}

export interface StreamedToken {
  text: string;
  /** The model's probability for this token, 0..1 (colours the text by confidence); absent when a server sent none. */
  prob?: number;
}

/** The selected code's surprisal (restated from the engine's SurprisalResult). */
export interface CodeSurprisal {
  tokens: { text: string; bits: number }[];
  /** Words (token ranges) and their bits. */
  words: { start: number; end: number; text: string; bits: number }[];
  /** Indexes into `words`, most surprising first. */
  top: number[];
  meanBits: number;
}

export type HostToView =
  | { type: 'start'; code: string; language: string; source: string }
  | { type: 'tokens'; tokens: StreamedToken[] }
  | { type: 'done'; text: string; details: ExplainDetails }
  | { type: 'surprisal'; surprisal: CodeSurprisal }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

export type ViewToHost = { type: 'ready' } | { type: 'stop' } | { type: 'selectModel' };

/** What the panel draws from (in memory only: it holds the user's code). */
export interface ExplainViewState {
  code: string;
  language: string;
  source: string;
  tokens: StreamedToken[];
  done?: { text: string; details: ExplainDetails };
  surprisal?: CodeSurprisal;
  status: 'streaming' | 'done' | 'stopped' | 'error';
  error?: string;
}

/**
 * What the panel keeps in its webview state, which VS Code writes to workspace storage: no code, no
 * prompt, no explanation. While the window is open the host replays the explanation when the panel
 * is shown again; after a reload the panel says it was not kept.
 */
export interface ExplainSavedState {
  source: string;
  language: string;
}

/** The part of the view's state that may be saved. */
export function savedState(s: ExplainViewState): ExplainSavedState {
  return { source: s.source, language: s.language };
}

export function isViewToHost(x: unknown): x is ViewToHost {
  const t = (x as { type?: unknown } | null)?.type;
  return t === 'ready' || t === 'stop' || t === 'selectModel';
}

export function isHostToView(x: unknown): x is HostToView {
  const t = (x as { type?: unknown } | null)?.type;
  return t === 'start' || t === 'tokens' || t === 'done' || t === 'surprisal' || t === 'stopped' || t === 'error';
}
