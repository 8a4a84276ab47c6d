/** Messages between the Costs panel (webview/costs) and its host (src/costs/costsPanel.ts). */

/** A number shown in the panel, with the formula and inputs that produced it (its tooltip). */
interface Figure {
  value: number;
  formula: string;
}

export interface SourceInfo {
  url: string;
  date: string;
  verified: boolean;
  note?: string;
}

export interface ModelRow {
  id: string;
  name: string;
  vendor: string;
  inputPerM: number;
  outputPerM: number;
  cachedInputPerM?: number;
  /** e.g. "> 200k input tokens: $6.00 / $22.50"; empty when none. */
  tiers: string;
  contextWindow: number;
  /** How its token counts are obtained: exact (an OpenAI encoding) or an estimate. */
  counting: 'exact' | 'estimate';
  tokenizer: string;
  source: SourceInfo;
  latency?: { ttftMs: number; outputTokensPerSec?: number; source: SourceInfo };
}

export type PeriodKey = 'today' | 'week' | 'all';

export interface HostedCost {
  id: string;
  cost: Figure;
  inputTokens: number;
  outputTokens: number;
  exact: boolean;
}

export interface PeriodReport {
  key: PeriodKey;
  label: string;
  /** Days the period covers (hardware is amortized over them). */
  days: number;
  requests: number;
  completions: number;
  explains: number;
  shown: number;
  accepted: number;
  promptTokens: number;
  generatedTokens: number;
  local: { electricity: Figure; hardware: Figure; total: Figure; perRequest: Figure; perDay: Figure; perMonth: Figure };
  hosted: HostedCost[];
  /** The team's own model server over the period, when its hourly price is set. */
  server?: { total: Figure; perRequest: Figure; requests: number };
}

export interface ScaleInputs {
  teamSize: number;
  requestsPerDevPerDay: number;
  /** Bill the prompt prefix the local model reused from its KV cache at cached-input prices. */
  assumeCaching: boolean;
}

export interface WhatIf {
  inputs: ScaleInputs;
  workdaysPerMonth: number;
  requestsPerMonth: number;
  /** Where the request sizes come from (the ledger, or an assumption while it is empty). */
  basis: string;
  local: Figure;
  hosted: { id: string; monthly: Figure; exact: boolean }[];
  /** One always-on server for the team, when its hourly price is set. */
  server?: Figure;
}

export interface BreakEven {
  /** Requests per day for the whole team. */
  xs: number[];
  /** Monthly USD at each x. */
  local: number[];
  hosted: { id: string; ys: number[]; crossing?: { requestsPerDay: number; monthly: number }; note: string }[];
  /** The team's own server: the same monthly price at every volume, when its hourly price is set. */
  server?: { ys: number[]; note: string };
  formula: string;
  /** Requests one machine can generate per day at the measured speed. */
  capacityPerMachinePerDay?: number;
}

export interface LatencyReport {
  samples: number;
  local?: { ttftP50: number; ttftP95: number; totalP50: number; totalP95: number; formula: string };
  hosted: { id: string; ttftMs: number; totalMs?: number; formula: string; source: SourceInfo }[];
}

export interface PriceLayer {
  name: string;
  status: 'ok' | 'error' | 'off';
  detail: string;
}

export interface CostsReport {
  generatedAt: number;
  prices: { version: string; note?: string; layers: PriceLayer[] };
  settings: { summary: string; rejected: string[] };
  estimateNote: string;
  ledger: { entries: number; file: string; recovered?: string };
  models: ModelRow[];
  periods: PeriodReport[];
  whatIf: WhatIf;
  breakEven: BreakEven;
  latency: LatencyReport;
  /** Inputs the host refused (e.g. a negative team size), with why. */
  problems: string[];
}

export type Command = 'updatePrices' | 'exportUsage' | 'resetUsage' | 'openSettings';

export type HostToView = { type: 'report'; report: CostsReport } | { type: 'error'; message: string };

export type ViewToHost = { type: 'ready' } | { type: 'scale'; inputs: ScaleInputs } | { type: 'run'; command: Command };

/** What the panel keeps in its webview state, to redraw after a hide or a reload. */
export interface CostsViewState {
  period: PeriodKey;
  inputs?: ScaleInputs;
  report?: CostsReport;
}

const COMMANDS: readonly string[] = ['updatePrices', 'exportUsage', 'resetUsage', 'openSettings'];

function isScaleInputs(x: unknown): x is ScaleInputs {
  const s = x as Partial<ScaleInputs> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.teamSize === 'number' &&
    typeof s.requestsPerDevPerDay === 'number' &&
    typeof s.assumeCaching === 'boolean'
  );
}

export function isViewToHost(x: unknown): x is ViewToHost {
  const m = x as { type?: unknown; inputs?: unknown; command?: unknown } | null;
  if (typeof m !== 'object' || m === null) return false;
  if (m.type === 'ready') return true;
  if (m.type === 'scale') return isScaleInputs(m.inputs);
  if (m.type === 'run') return typeof m.command === 'string' && COMMANDS.includes(m.command);
  return false;
}

export function isHostToView(x: unknown): x is HostToView {
  const m = x as { type?: unknown; report?: unknown; message?: unknown } | null;
  if (typeof m !== 'object' || m === null) return false;
  if (m.type === 'report') return typeof m.report === 'object' && m.report !== null;
  return m.type === 'error' && typeof m.message === 'string';
}
