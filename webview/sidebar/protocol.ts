/** Messages between the side panel's "Model" view (webview/sidebar) and src/sidebar/sidebarView.ts. */

/** Commands the view may ask the host to run; anything else is ignored. */
const SIDEBAR_COMMANDS = [
  'glassbox.explainSelection',
  'glassbox.toggleCompletions',
  'glassbox.selectModel',
  'glassbox.showArchitecture',
  'glassbox.showAttention',
  'glassbox.showCosts',
] as const;
export type SidebarCommand = (typeof SIDEBAR_COMMANDS)[number];

export interface SidebarModel {
  model: string;
  modelDir: string;
  state: 'idle' | 'loading' | 'ready' | 'generating' | 'error';
  error?: string;
  completionsEnabled: boolean;
  last?: { kind: string; latencyMs: number; tokens: number; tokensPerSecond: number };
  details?: { layers: number; kvHeads: number; headDim: number; context: number; fim: string; kv: string };
}

export type HostToView = { type: 'update'; model: SidebarModel };
export type ViewToHost = { type: 'ready' } | { type: 'run'; command: SidebarCommand };

export function isViewToHost(x: unknown): x is ViewToHost {
  const m = x as { type?: unknown; command?: unknown } | null;
  if (m?.type === 'ready') return true;
  return m?.type === 'run' && (SIDEBAR_COMMANDS as readonly unknown[]).includes(m.command);
}

export function isHostToView(x: unknown): x is HostToView {
  const m = x as { type?: unknown; model?: unknown } | null;
  return m?.type === 'update' && typeof m.model === 'object' && m.model !== null;
}
