/** Messages between the Explain panel (webview/explain) and its host (src/explain/explainPanel.ts). */

export interface ExplainDetails {
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
  /** The model's probability for this token, 0..1 (colours the text by confidence). */
  prob: number;
}

export type HostToView =
  | { type: 'start'; code: string; language: string; source: string }
  | { type: 'tokens'; tokens: StreamedToken[] }
  | { type: 'done'; text: string; details: ExplainDetails }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

export type ViewToHost = { type: 'ready' } | { type: 'stop' };

/** What the panel keeps in its webview state, to redraw after a hide or a reload. */
export interface ExplainViewState {
  code: string;
  language: string;
  source: string;
  tokens: StreamedToken[];
  done?: { text: string; details: ExplainDetails };
  status: 'streaming' | 'done' | 'stopped' | 'error';
  error?: string;
}

export function isViewToHost(x: unknown): x is ViewToHost {
  const t = (x as { type?: unknown } | null)?.type;
  return t === 'ready' || t === 'stop';
}

export function isHostToView(x: unknown): x is HostToView {
  const t = (x as { type?: unknown } | null)?.type;
  return t === 'start' || t === 'tokens' || t === 'done' || t === 'stopped' || t === 'error';
}
