/**
 * The views that extrapolate from the ledger: what-if at team scale, break-even against requests
 * per day, and latency next to hosted models' typical time to first token. Request sizes are the
 * user's own (means over the ledger); while it is empty, a stated assumption stands in.
 */
import type { BreakEven, LatencyReport, ScaleInputs, WhatIf } from '../../webview/costs/protocol';
import {
  breakEvenRequestsPerDay,
  DAYS_PER_MONTH,
  electricityCost,
  generationMs,
  hardwareMonthly,
  hostedUsage,
  serverMonthly,
  logSpace,
  percentile,
  requestCost,
} from './costMath';
import { count, num, usd } from '../common/format';
import type { UsageEntry } from './ledger';
import type { ModelPrice } from './priceFile';
import type { CostSettings } from './settings';
import { estimateTokens, tokensFor } from './tokenCounts';

/** Working days in a month: the what-if and break-even views count requests on these. */
const WORKDAYS_PER_MONTH = 21;
const MAX_TEAM = 100_000;
const MAX_REQUESTS_PER_DEV_PER_DAY = 100_000;

/** Stands in for the user's requests while the ledger is empty: a completion at the default 1,024-token budget. */
const ASSUMED: UsageEntry = {
  id: 'assumed',
  time: 0,
  kind: 'completion',
  model: 'assumed',
  promptTokens: 1024,
  reusedTokens: 0,
  generatedTokens: 24,
  prefillMs: 250,
  decodeMs: 500,
  latencyMs: 800,
  prompt: { chars: 4200 },
  output: { chars: 90 },
  shown: true,
  accepted: false,
};
const ASSUMED_BASIS =
  'No requests recorded yet: sizes are assumed (a 1,024-token completion prompt, about 4,200 characters; 24 tokens generated in 0.75 s) until your ledger has some.';

/** Checks the panel's inputs; missing ones default to a team of 10 at your own daily rate. */
export function resolveScale(
  requested: ScaleInputs | undefined,
  entries: readonly UsageEntry[],
): { inputs: ScaleInputs; problems: string[] } {
  const days = new Set(entries.map((e) => new Date(e.time).toDateString())).size;
  const ownRate = days ? Math.max(1, Math.round(entries.length / days)) : 200;
  const inputs: ScaleInputs = { teamSize: 10, requestsPerDevPerDay: ownRate, assumeCaching: false };
  const problems: string[] = [];
  if (!requested) return { inputs, problems };
  inputs.assumeCaching = requested.assumeCaching;
  if (Number.isInteger(requested.teamSize) && requested.teamSize >= 1 && requested.teamSize <= MAX_TEAM)
    inputs.teamSize = requested.teamSize;
  else
    problems.push(
      `Team size ${requested.teamSize} was rejected: it should be a whole number from 1 to ${count(MAX_TEAM)}. Using ${inputs.teamSize}.`,
    );
  const r = requested.requestsPerDevPerDay;
  if (Number.isFinite(r) && r > 0 && r <= MAX_REQUESTS_PER_DEV_PER_DAY) inputs.requestsPerDevPerDay = r;
  else
    problems.push(
      `Requests per developer per day ${r} was rejected: it should be above 0 and at most ${count(MAX_REQUESTS_PER_DEV_PER_DAY)}. Using ${inputs.requestsPerDevPerDay}.`,
    );
  return { inputs, problems };
}

interface Means {
  basis: string;
  /** Local electricity per request, USD. */
  electricity: number;
  generationMs: number;
  /** Mean hosted cost per request for each model, USD, and whether every count was exact. */
  hosted: Map<string, { cost: number; exact: boolean; outputTokens: number }>;
}

function means(
  entries: readonly UsageEntry[],
  models: readonly ModelPrice[],
  s: CostSettings,
  assumeCaching: boolean,
): Means {
  const es = entries.length ? entries : [ASSUMED];
  const n = es.length;
  const genMs = es.reduce((a, e) => a + generationMs(e), 0) / n;
  const hosted = new Map<string, { cost: number; exact: boolean; outputTokens: number }>();
  for (const m of models) {
    let cost = 0;
    let out = 0;
    let exact = true;
    for (const e of es) {
      const u = hostedUsage(m, e, assumeCaching);
      cost += requestCost(m, u);
      out += u.output;
      exact &&= u.exact;
    }
    hosted.set(m.id, { cost: cost / n, exact: exact && entries.length > 0, outputTokens: out / n });
  }
  const basis = entries.length
    ? `Request sizes: the mean of the ${count(n)} requests in your ledger (${count(es.reduce((a, e) => a + e.prompt.chars, 0) / n)} prompt characters, ${num(genMs / 1000, 2)} s of generation each).`
    : ASSUMED_BASIS;
  return { basis, electricity: electricityCost(genMs, s), generationMs: genMs, hosted };
}

export function whatIfView(
  entries: readonly UsageEntry[],
  models: readonly ModelPrice[],
  s: CostSettings,
  inputs: ScaleInputs,
): WhatIf {
  const m = means(entries, models, s, inputs.assumeCaching);
  const perMonth = inputs.teamSize * inputs.requestsPerDevPerDay * WORKDAYS_PER_MONTH;
  const volume = `${count(inputs.teamSize)} developers × ${num(inputs.requestsPerDevPerDay, 1)} requests/day × ${WORKDAYS_PER_MONTH} workdays = ${count(perMonth)} requests/month`;
  const hw = hardwareMonthly(s);
  const local = inputs.teamSize * hw + perMonth * m.electricity;
  const server = serverMonthly(s);
  return {
    inputs,
    workdaysPerMonth: WORKDAYS_PER_MONTH,
    requestsPerMonth: perMonth,
    basis: m.basis,
    ...(server > 0
      ? {
          server: {
            value: server,
            formula: `Your own server, shared by the team and always on: ${usd(s.serverHourlyPrice)}/hour × 24 h × ${num(DAYS_PER_MONTH)} days = ${usd(server)}/month, at any volume it can serve (glassbox.costs.serverHourlyPrice)`,
          },
        }
      : {}),
    local: {
      value: local,
      formula: `Local, one machine per developer: ${count(inputs.teamSize)} × ${usd(hw)} hardware/month (${usd(s.hardwarePrice)} × α ${num(s.hardwareShare)} ÷ ${num(s.hardwareLifetimeMonths)} months) + ${count(perMonth)} requests × ${usd(m.electricity)} electricity each (${num(s.watts)} W × ${num(m.generationMs / 1000, 2)} s × ${usd(s.electricityPrice)}/kWh) = ${usd(local)}/month\n${volume}`,
    },
    hosted: models.map((model) => {
      const h = m.hosted.get(model.id)!;
      return {
        id: model.id,
        monthly: {
          value: h.cost * perMonth,
          formula: `${model.name}: ${count(perMonth)} requests × ${usd(h.cost)} per request (mean) = ${usd(h.cost * perMonth)}/month\n${volume}\n${m.basis}`,
        },
        exact: h.exact,
      };
    }),
  };
}

export function breakEvenView(
  entries: readonly UsageEntry[],
  models: readonly ModelPrice[],
  s: CostSettings,
  inputs: ScaleInputs,
): BreakEven {
  const m = means(entries, models, s, inputs.assumeCaching);
  const fixed = inputs.teamSize * hardwareMonthly(s);
  const xs = logSpace(1, 1e6, 61);
  const days = WORKDAYS_PER_MONTH;
  return {
    xs,
    local: xs.map((x) => fixed + x * days * m.electricity),
    hosted: models.map((model) => {
      const c = m.hosted.get(model.id)!.cost;
      const x = breakEvenRequestsPerDay(fixed, m.electricity, c, days);
      const ys = xs.map((v) => v * days * c);
      if (x === undefined)
        return {
          id: model.id,
          ys,
          note: `${model.name} costs less per request (${usd(c)}) than your local electricity (${usd(m.electricity)}): no break-even.`,
        };
      if (x === 0)
        return {
          id: model.id,
          ys,
          note: `No fixed local cost (α = ${num(s.hardwareShare)}): local is cheaper than ${model.name} at any volume.`,
        };
      const monthly = fixed + x * days * m.electricity;
      return {
        id: model.id,
        ys,
        crossing: { requestsPerDay: x, monthly },
        note: `Break-even with ${model.name} at ${count(x)} requests/day: ${usd(fixed)} fixed ÷ (${days} days × (${usd(c)} − ${usd(m.electricity)}) per request) → ${usd(monthly)}/month.`,
      };
    }),
    ...serverLine(xs, models, m.hosted, s, days),
    formula:
      `Local(x) = ${count(inputs.teamSize)} machines × ${usd(hardwareMonthly(s))} hardware/month + x × ${days} workdays × ${usd(m.electricity)} electricity per request.\n` +
      `Hosted(x) = x × ${days} workdays × mean cost per request on that model.\nThey cross where x = fixed ÷ (${days} × (hosted − local per request)).\n${m.basis}`,
    capacityPerMachinePerDay: m.generationMs > 0 ? 86_400_000 / m.generationMs : undefined,
  };
}

/** The own server's flat line, and the volume above which it costs less than each hosted model. */
function serverLine(
  xs: readonly number[],
  models: readonly ModelPrice[],
  hosted: ReadonlyMap<string, { cost: number }>,
  s: CostSettings,
  days: number,
): Pick<BreakEven, 'server'> {
  const monthly = serverMonthly(s);
  if (monthly <= 0) return {};
  const crossings = models
    .map((model) => ({ name: model.name, x: monthly / (days * hosted.get(model.id)!.cost) }))
    .filter((c) => Number.isFinite(c.x))
    .sort((a, b) => a.x - b.x);
  const first = crossings
    .slice(0, 3)
    .map((c) => `${c.name} above ${count(c.x)} requests/day`)
    .join(', ');
  return {
    server: {
      ys: xs.map(() => monthly),
      note: `Your own server: ${usd(monthly)}/month at any volume (${usd(s.serverHourlyPrice)}/hour, always on). It costs less than ${first || 'no hosted model'}${crossings.length > 3 ? `, and ${crossings.length - 3} more models at higher volumes` : ''}.`,
    },
  };
}

export function latencyView(entries: readonly UsageEntry[], models: readonly ModelPrice[]): LatencyReport {
  const completions = entries.filter((e) => e.kind === 'completion');
  const es = completions.length ? completions : entries;
  const ttft = es.map((e) => Math.max(0, e.latencyMs - e.decodeMs));
  const total = es.map((e) => e.latencyMs);
  const which = completions.length ? 'completions' : 'requests';
  const meanChars = es.length ? es.reduce((a, e) => a + e.output.chars, 0) / es.length : ASSUMED.output.chars;
  return {
    samples: es.length,
    local: es.length
      ? {
          ttftP50: percentile(ttft, 0.5),
          ttftP95: percentile(ttft, 0.95),
          totalP50: percentile(total, 0.5),
          totalP95: percentile(total, 0.95),
          formula: `Glassbox, ${count(es.length)} ${which}: first token = request-to-result time − decode time (prefill, queueing and the worker round trip); total = request to result. p50/p95 by nearest rank.`,
        }
      : undefined,
    hosted: models
      .filter((m) => m.latency)
      .map((m) => {
        const l = m.latency!;
        const outTokens = es.length
          ? es.reduce((a, e) => a + tokensFor(m, e.output).tokens, 0) / es.length
          : estimateTokens(meanChars);
        const totalMs = l.outputTokensPerSec ? l.ttftMs + (outTokens / l.outputTokensPerSec) * 1000 : undefined;
        return {
          id: m.id,
          ttftMs: l.ttftMs,
          totalMs,
          formula:
            `${m.name}: typical time to first token ${count(l.ttftMs)} ms` +
            (totalMs !== undefined
              ? `; total ≈ ${count(l.ttftMs)} ms + ${num(outTokens, 1)} output tokens ÷ ${num(l.outputTokensPerSec!)} tokens/s = ${count(totalMs)} ms`
              : '') +
            `\nSource: ${l.source.url} (${l.source.verified ? `checked ${l.source.date}` : `unverified, as of ${l.source.date}`}). Third-party measurements over the internet, network included; yours depend on where you are.`,
          source: l.source,
        };
      }),
  };
}
