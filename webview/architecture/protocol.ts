/**
 * Messages between the architecture explorer (webview/architecture) and its host
 * (src/architecture/architecturePanel.ts). The summary and graph views are the engine's plain data types.
 */
import type { ArchitectureSummary, GraphView } from '../../src/common/architectureTypes';
import { isRecord } from '../../src/common/isRecord';

export type { ArchitectureSummary, GraphView };

/** The decode speed Glassbox last measured on this machine. */
export interface MeasuredSpeed {
  model: string;
  /** Decode steps per second of the last request. */
  tokensPerSecond: number;
  tokens: number;
  decodeMs: number;
  /** Tokens in context when it ended (prompt + generated). */
  context: number;
}

export type HostToView =
  | { type: 'loading'; model: string }
  | { type: 'summary'; summary: ArchitectureSummary }
  | { type: 'error'; message: string }
  | { type: 'graph'; requestId: number; view: GraphView }
  | { type: 'graphError'; requestId: number; message: string }
  | { type: 'measured'; speed: MeasuredSpeed | null }
  | { type: 'exported'; file: string | null; error?: string }
  /** The model server completions run on (glassbox.backend), what it says of its model; null: the embedded engine. */
  | { type: 'server'; server: ServerModel | null };

export interface ServerModel {
  kind: string;
  host: string;
  name: string;
  /** Label → value, as the server reported them (Ollama's /api/show, llama.cpp's /props). */
  facts: [string, string][];
  /** Why the server could not be asked. */
  error?: string;
}

export type ExportFormat = 'svg' | 'png';

export type ViewToHost =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'graph'; requestId: number; scope: string; expanded: string[]; showShapeOps: boolean }
  /** `data`: the SVG text, or a `data:image/png;base64,` URL. */
  | { type: 'export'; format: ExportFormat; data: string; name: string };

/** What the webview keeps in its state, to redraw after a hide or a reload. */
export interface ArchitectureViewState {
  summary?: ArchitectureSummary;
  error?: string;
  /** Context length for the KV-cache and FLOP figures, tokens. */
  context: number;
  /** Memory bandwidth for the decode-speed bound, GB/s. */
  bandwidthGBs: number;
  /** The selected part (`block.3`, `embedding`, …). */
  selected: string | null;
  drill: { scope: string; expanded: string[]; showShapeOps: boolean } | null;
  measured: MeasuredSpeed | null;
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

export function isViewToHost(x: unknown): x is ViewToHost {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'ready':
    case 'refresh':
      return true;
    case 'graph':
      return (
        typeof x.requestId === 'number' &&
        typeof x.scope === 'string' &&
        isStrings(x.expanded) &&
        typeof x.showShapeOps === 'boolean'
      );
    case 'export':
      return (x.format === 'svg' || x.format === 'png') && typeof x.data === 'string' && typeof x.name === 'string';
    default:
      return false;
  }
}

export function isHostToView(x: unknown): x is HostToView {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'loading':
      return typeof x.model === 'string';
    case 'summary':
      return isRecord(x.summary) && x.summary.format === 'glassbox-architecture/1';
    case 'error':
      return typeof x.message === 'string';
    case 'graph':
      return typeof x.requestId === 'number' && isRecord(x.view) && Array.isArray(x.view.nodes);
    case 'graphError':
      return typeof x.requestId === 'number' && typeof x.message === 'string';
    case 'measured':
      return x.speed === null || (isRecord(x.speed) && typeof x.speed.tokensPerSecond === 'number');
    case 'exported':
      return x.file === null || typeof x.file === 'string';
    case 'server':
      return (
        x.server === null || (isRecord(x.server) && typeof x.server.name === 'string' && Array.isArray(x.server.facts))
      );
    default:
      return false;
  }
}
