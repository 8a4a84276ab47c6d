/** The ledger as CSV (one row per request) or JSON (the same fields, with their names spelled out). */
import type { UsageEntry } from './ledger';

const COLUMNS: [string, (e: UsageEntry) => string | number | boolean | undefined][] = [
  ['id', (e) => e.id],
  ['time', (e) => new Date(e.time).toISOString()],
  ['kind', (e) => e.kind],
  ['model', (e) => e.model],
  ['prompt_tokens', (e) => e.promptTokens],
  ['reused_tokens', (e) => e.reusedTokens],
  ['generated_tokens', (e) => e.generatedTokens],
  ['prefill_ms', (e) => e.prefillMs],
  ['decode_ms', (e) => e.decodeMs],
  ['latency_ms', (e) => e.latencyMs],
  ['prompt_chars', (e) => e.prompt.chars],
  ['prompt_o200k_tokens', (e) => e.prompt.o200k],
  ['prompt_cl100k_tokens', (e) => e.prompt.cl100k],
  ['output_chars', (e) => e.output.chars],
  ['output_o200k_tokens', (e) => e.output.o200k],
  ['output_cl100k_tokens', (e) => e.output.cl100k],
  ['shown', (e) => e.shown],
  ['accepted', (e) => e.accepted],
  ['server', (e) => e.server ?? ''],
];

export function ledgerToCsv(entries: readonly UsageEntry[]): string {
  const rows = [COLUMNS.map(([name]) => name).join(',')];
  for (const e of entries) rows.push(COLUMNS.map(([, get]) => csvField(get(e))).join(','));
  return rows.join('\r\n') + '\r\n';
}

export function ledgerToJson(entries: readonly UsageEntry[], exportedAt = new Date()): string {
  return (
    JSON.stringify(
      {
        glassboxUsage: 1,
        exportedAt: exportedAt.toISOString(),
        entries: entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
      },
      null,
      2,
    ) + '\n'
  );
}

/** RFC 4180: quote fields with commas, quotes or line breaks; empty for unknown counts. */
function csvField(v: string | number | boolean | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
