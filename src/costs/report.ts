/**
 * Builds what the Costs panel shows from the ledger, the prices and the settings: actual usage per
 * period priced on every hosted model next to the local cost, and (in scale.ts) the what-if,
 * break-even and latency views. Every figure carries the formula and inputs behind it.
 */
import type {
  CostsReport,
  HostedCost,
  ModelRow,
  PeriodKey,
  PeriodReport,
  PriceLayer,
  ScaleInputs,
} from '../../webview/costs/protocol';
import {
  DAYS_PER_MONTH,
  electricityCost,
  generationMs,
  hardwareMonthly,
  hostedUsage,
  ratesFor,
  requestCost,
} from './costMath';
import { count, num, perMillion as perM, usd } from '../common/format';
import type { UsageEntry } from './ledger';
import type { ModelPrice, PriceFile } from './priceFile';
import { breakEvenView, latencyView, resolveScale, whatIfView } from './scale';
import type { CostSettings, RejectedSetting } from './settings';
import { ESTIMATE_ERROR } from './tokenCounts';

const DAY_MS = 86_400_000;

interface ReportInput {
  entries: readonly UsageEntry[];
  prices: PriceFile;
  layers: PriceLayer[];
  settings: CostSettings;
  rejected: RejectedSetting[];
  /** What the panel asked for; defaults come from the ledger. */
  inputs?: ScaleInputs;
  now: number;
  ledgerFile: string;
  recovered?: string;
}

export function buildReport(input: ReportInput): CostsReport {
  const { entries, prices, settings: s, now } = input;
  const { inputs, problems } = resolveScale(input.inputs, entries);
  const models = prices.models;
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const first = entries.reduce((a, e) => Math.min(a, e.time), now);
  const periods: PeriodReport[] = [
    period('today', 'Today', midnight.getTime(), 1, input, inputs.assumeCaching),
    period('week', 'Last 7 days', now - 7 * DAY_MS, 7, input, inputs.assumeCaching),
    period('all', 'All time', -Infinity, Math.max(1, Math.ceil((now - first) / DAY_MS)), input, inputs.assumeCaching),
  ];
  return {
    generatedAt: now,
    prices: { version: prices.version, note: prices.note, layers: input.layers },
    settings: { summary: settingsSummary(s), rejected: input.rejected.map(rejectedText) },
    estimateNote: ESTIMATE_ERROR,
    ledger: { entries: entries.length, file: input.ledgerFile, recovered: input.recovered },
    models: models.map(modelRow),
    periods,
    whatIf: whatIfView(entries, models, s, inputs),
    breakEven: breakEvenView(entries, models, s, inputs),
    latency: latencyView(entries, models),
    problems,
  };
}

function period(
  key: PeriodKey,
  label: string,
  since: number,
  days: number,
  input: ReportInput,
  assumeCaching: boolean,
): PeriodReport {
  const s = input.settings;
  const es = input.entries.filter((e) => e.time >= since && e.time <= input.now);
  const n = es.length;
  // this machine's electricity: requests a model server answered ran on its hardware, not here
  const here = es.filter((e) => !e.server);
  const genMs = here.reduce((a, e) => a + generationMs(e), 0);
  const electricity = electricityCost(genMs, s);
  const monthlyHw = hardwareMonthly(s);
  const hardware = (monthlyHw * days) / DAYS_PER_MONTH;
  const total = electricity + hardware;
  const wattsNote = s.wattsFromDeviceClass ? ` (${s.deviceClass} default)` : '';
  const kWh = (s.watts * genMs) / 3_600_000 / 1000;
  const hwFormula = `Hardware: ${usd(s.hardwarePrice)} × α ${num(s.hardwareShare)} ÷ ${num(s.hardwareLifetimeMonths)} months = ${usd(monthlyHw)}/month; × ${days} day${days === 1 ? '' : 's'} ÷ ${num(DAYS_PER_MONTH)} days/month = ${usd(hardware)}`;
  const elFormula = `Electricity: ${num(s.watts)} W${wattsNote} × ${num(genMs / 1000, 1)} s of generation (prefill + decode of ${count(here.length)} requests${here.length < n ? ` run here; ${count(n - here.length)} ran on a model server` : ''}) = ${num(kWh * 1000, 3)} Wh; × ${usd(s.electricityPrice)}/kWh = ${usd(electricity)}`;
  return {
    key,
    label,
    days,
    requests: n,
    completions: es.filter((e) => e.kind === 'completion').length,
    explains: es.filter((e) => e.kind === 'explain').length,
    shown: es.filter((e) => e.shown).length,
    accepted: es.filter((e) => e.accepted).length,
    promptTokens: es.reduce((a, e) => a + e.promptTokens, 0),
    generatedTokens: es.reduce((a, e) => a + e.generatedTokens, 0),
    local: {
      electricity: { value: electricity, formula: elFormula },
      hardware: { value: hardware, formula: hwFormula },
      total: {
        value: total,
        formula: `Local = electricity + hardware = ${usd(electricity)} + ${usd(hardware)} = ${usd(total)}\n${elFormula}\n${hwFormula}`,
      },
      perRequest: {
        value: n ? total / n : 0,
        formula: n ? `${usd(total)} ÷ ${count(n)} requests = ${usd(total / n)}` : 'No requests in this period.',
      },
      perDay: {
        value: total / days,
        formula: `${usd(total)} ÷ ${days} day${days === 1 ? '' : 's'} = ${usd(total / days)}`,
      },
      perMonth: {
        value: (total / days) * DAYS_PER_MONTH,
        formula: `${usd(total / days)} per day × ${num(DAYS_PER_MONTH)} days = ${usd((total / days) * DAYS_PER_MONTH)} (at this period's rate)`,
      },
    },
    hosted: input.prices.models.map((m) => hostedCost(m, es, assumeCaching)),
    ...serverCost(es, days, s),
  };
}

/** The own server over the period: every hour of it, divided among the requests it answered. */
function serverCost(es: readonly UsageEntry[], days: number, s: CostSettings): Pick<PeriodReport, 'server'> {
  if (s.serverHourlyPrice <= 0) return {};
  const total = s.serverHourlyPrice * 24 * days;
  const served = es.filter((e) => e.server).length;
  const formula = `${usd(s.serverHourlyPrice)}/hour × 24 h × ${days} day${days === 1 ? '' : 's'} = ${usd(total)} (glassbox.costs.serverHourlyPrice; a server bills its idle hours too)`;
  return {
    server: {
      total: { value: total, formula },
      perRequest: {
        value: served ? total / served : 0,
        formula: served
          ? `${usd(total)} ÷ ${count(served)} requests it answered = ${usd(total / served)}`
          : 'No request in this period went to the model server.',
      },
      requests: served,
    },
  };
}

function hostedCost(m: ModelPrice, es: readonly UsageEntry[], assumeCaching: boolean): HostedCost {
  let cost = 0;
  let inTok = 0;
  let cached = 0;
  let outTok = 0;
  let exact = true;
  let tiered = 0;
  for (const e of es) {
    const u = hostedUsage(m, e, assumeCaching);
    cost += requestCost(m, u);
    inTok += u.input;
    cached += u.cachedInput;
    outTok += u.output;
    exact &&= u.exact;
    if (ratesFor(m, u.input).tier) tiered++;
  }
  const cachedPart = cached ? ` (${count(cached)} of them cached, at ${perM(m.cachedInputPerM ?? m.inputPerM)})` : '';
  const tierPart = tiered
    ? `\n${count(tiered)} request${tiered === 1 ? '' : 's'} over ${count(m.tiers![0].aboveInputTokens)} input tokens billed entirely at the long-context rates.`
    : '';
  const counting = exact
    ? `Token counts: exact (${m.tokenizer}, on the same text the local model saw).`
    : `Token counts: ${ESTIMATE_ERROR}`;
  const formula =
    `${m.name}: ${count(es.length)} requests; input ${count(inTok)} tokens × ${perM(m.inputPerM)}${cachedPart} + output ${count(outTok)} tokens × ${perM(m.outputPerM)} = ${usd(cost)}` +
    `${tierPart}\n${counting}\nPrices: ${m.source.verified ? `checked ${m.source.date}` : `unverified, as of ${m.source.date}`} (${m.source.url}).`;
  return { id: m.id, cost: { value: cost, formula }, inputTokens: inTok, outputTokens: outTok, exact };
}

function modelRow(m: ModelPrice): ModelRow {
  const tiers = (m.tiers ?? [])
    .map(
      (t) =>
        `> ${count(t.aboveInputTokens)} input tokens: ${perM(t.inputPerM)} in / ${perM(t.outputPerM)} out (whole request)`,
    )
    .join('; ');
  return {
    id: m.id,
    name: m.name,
    vendor: m.vendor,
    inputPerM: m.inputPerM,
    outputPerM: m.outputPerM,
    cachedInputPerM: m.cachedInputPerM,
    tiers,
    contextWindow: m.contextWindow,
    counting: m.tokenizer === 'estimate' ? 'estimate' : 'exact',
    tokenizer: m.tokenizer,
    source: m.source,
    latency: m.latency,
  };
}

function settingsSummary(s: CostSettings): string {
  return (
    `${s.deviceClass}: ${num(s.watts)} W extra while generating${s.wattsFromDeviceClass ? ' (device class default)' : ''} · ${usd(s.electricityPrice)}/kWh · ` +
    `hardware ${usd(s.hardwarePrice)} over ${num(s.hardwareLifetimeMonths)} months × α ${num(s.hardwareShare)}`
  );
}

function rejectedText(r: RejectedSetting): string {
  return `glassbox.costs.${r.key} = ${JSON.stringify(r.value)} was rejected: it should be ${r.expected}. The default is used.`;
}
