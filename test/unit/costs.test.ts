// The cost arithmetic: hosted prices with long-context tiers and cached input, exact OpenAI counts
// and flagged estimates, local electricity and amortization, break-even, and the panel's report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  breakEvenRequestsPerDay,
  electricityCost,
  hardwareMonthly,
  hostedUsage,
  percentile,
  ratesFor,
  requestCost,
} from '../../src/costs/costMath';
import type { UsageEntry } from '../../src/costs/ledger';
import type { ModelPrice } from '../../src/costs/priceFile';
import { bundledPrices } from '../../src/costs/priceStore';
import { buildReport } from '../../src/costs/report';
import { readCostSettings } from '../../src/costs/settings';
import { CODE_CHARS_PER_TOKEN, countOpenAi, countText, tokensFor } from '../../src/costs/tokenCounts';

const SOURCE = { url: 'https://example.com/pricing', date: '2025-11', verified: false };

/** A model priced like a long-context vendor: $3/$15, cached $0.30, and $6/$22.50 above 200k input tokens. */
const TIERED: ModelPrice = {
  id: 'tiered',
  name: 'Tiered',
  vendor: 'anthropic',
  inputPerM: 3,
  outputPerM: 15,
  cachedInputPerM: 0.3,
  tiers: [{ aboveInputTokens: 200_000, inputPerM: 6, outputPerM: 22.5, cachedInputPerM: 0.6 }],
  contextWindow: 1_000_000,
  tokenizer: 'estimate',
  source: SOURCE,
};

function entry(over: Partial<UsageEntry> = {}): UsageEntry {
  return {
    id: 'e1',
    time: Date.UTC(2025, 10, 20, 12),
    kind: 'completion',
    model: 'test-tiny',
    promptTokens: 1000,
    reusedTokens: 0,
    generatedTokens: 20,
    prefillMs: 200,
    decodeMs: 800,
    latencyMs: 1100,
    prompt: { chars: 4100, o200k: 1000, cl100k: 1100 },
    output: { chars: 82, o200k: 20, cl100k: 22 },
    shown: true,
    accepted: false,
    ...over,
  };
}

const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} ≠ ${b}`);

describe('hosted request cost', () => {
  it('bills input and output per 1M tokens', () => {
    near(
      requestCost(TIERED, { input: 1000, cachedInput: 0, output: 100, exact: true }),
      (1000 * 3 + 100 * 15) / 1e6,
      'cost',
    );
  });

  it('bills the whole request at the long-context rates once the threshold is crossed', () => {
    const at = { input: 200_000, cachedInput: 0, output: 1000, exact: true };
    const over = { ...at, input: 200_001 };
    assert.equal(ratesFor(TIERED, at.input).tier, undefined, 'exactly at the threshold: base rates');
    near(requestCost(TIERED, at), (200_000 * 3 + 1000 * 15) / 1e6, 'at threshold');
    assert.equal(ratesFor(TIERED, over.input).tier?.aboveInputTokens, 200_000);
    // Every token, the first 200k and the output included, at the higher rates.
    near(requestCost(TIERED, over), (200_001 * 6 + 1000 * 22.5) / 1e6, 'over threshold');
  });

  it('bills cached input at the cached price, and at the tier’s cached price above the threshold', () => {
    near(
      requestCost(TIERED, { input: 1000, cachedInput: 600, output: 0, exact: true }),
      (400 * 3 + 600 * 0.3) / 1e6,
      'cached',
    );
    near(
      requestCost(TIERED, { input: 300_000, cachedInput: 100_000, output: 0, exact: true }),
      (200_000 * 6 + 100_000 * 0.6) / 1e6,
      'cached, tier',
    );
    const noCache = { ...TIERED, cachedInputPerM: undefined, tiers: undefined };
    near(
      requestCost(noCache, { input: 1000, cachedInput: 600, output: 0, exact: true }),
      (1000 * 3) / 1e6,
      'no cached price: full price',
    );
  });

  it('counts the reused KV-cache prefix as cached input only when asked', () => {
    const e = entry({ promptTokens: 1000, reusedTokens: 750 });
    const openai = { tokenizer: 'o200k_base' as const };
    assert.equal(hostedUsage(openai, e).cachedInput, 0);
    assert.deepEqual(hostedUsage(openai, e, true), { input: 1000, cachedInput: 750, output: 20, exact: true });
  });
});

describe('token counts per vendor', () => {
  it('counts OpenAI tokens exactly, special-token text included as plain text', () => {
    assert.equal(countOpenAi('hello world', 'o200k_base'), 2);
    assert.equal(countOpenAi('hello world', 'cl100k_base'), 2);
    const fim = countText('<|fim_prefix|>def add(a, b):\n    return<|fim_suffix|>\n<|fim_middle|>');
    assert.ok(fim.o200k! > 10 && fim.cl100k! > 10, 'FIM markers are counted, not rejected');
  });

  it('uses the exact count for OpenAI models and flags the others as estimates', () => {
    const counts = { chars: 4100, o200k: 990, cl100k: 1010 };
    assert.deepEqual(tokensFor({ tokenizer: 'o200k_base' }, counts), { tokens: 990, exact: true });
    assert.deepEqual(tokensFor({ tokenizer: 'cl100k_base' }, counts), { tokens: 1010, exact: true });
    assert.deepEqual(tokensFor({ tokenizer: 'estimate' }, counts), {
      tokens: Math.round(4100 / CODE_CHARS_PER_TOKEN),
      exact: false,
    });
    // An OpenAI model whose exact count was not computed (extension stopped first) falls back to an estimate.
    assert.deepEqual(tokensFor({ tokenizer: 'o200k_base' }, { chars: 41 }), { tokens: 10, exact: false });
  });
});

describe('local cost', () => {
  const s = { watts: 20, electricityPrice: 0.17, hardwarePrice: 3000, hardwareShare: 0.5, hardwareLifetimeMonths: 30 };

  it('prices electricity as watts × generation time × $/kWh', () => {
    near(electricityCost(3_600_000, s), (20 * 1 * 0.17) / 1000, 'one hour at 20 W'); // 20 Wh
    near(electricityCost(1000, s), (20 / 3600 / 1000) * 0.17, 'one second');
  });

  it('amortizes hardware as price × α ÷ lifetime', () => {
    assert.equal(hardwareMonthly(s), 50);
    assert.equal(hardwareMonthly({ ...s, hardwareShare: 0 }), 0);
  });

  it('finds the break-even volume, or none', () => {
    near(breakEvenRequestsPerDay(50, 0.001, 0.01, 21)!, 50 / (21 * 0.009), 'crossing');
    assert.equal(breakEvenRequestsPerDay(0, 0.001, 0.01, 21), 0, 'no fixed cost: local is cheaper at any volume');
    assert.equal(breakEvenRequestsPerDay(50, 0.01, 0.001, 21), undefined, 'hosted cheaper per request: never');
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 0.5), 50);
    assert.equal(percentile(xs, 0.95), 95);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('rejects negative or absurd settings and says what it expected', () => {
    const values: Record<string, unknown> = {
      watts: -5,
      electricityPrice: 1e9,
      hardwareShare: 2,
      hardwareLifetimeMonths: 0,
      deviceClass: 'toaster',
    };
    const { settings, rejected } = readCostSettings((k) => values[k]);
    assert.deepEqual(rejected.map((r) => r.key).sort(), [
      'deviceClass',
      'electricityPrice',
      'hardwareLifetimeMonths',
      'hardwareShare',
      'watts',
    ]);
    assert.equal(settings.watts, 20, 'the laptop default');
    assert.equal(settings.electricityPrice, 0.17);
    assert.match(rejected.find((r) => r.key === 'watts')!.expected, /0 to 5000/);
    const ok = readCostSettings((k) => ({ deviceClass: 'gpuWorkstation', electricityPrice: 0.3 })[k]);
    assert.deepEqual([ok.settings.watts, ok.settings.wattsFromDeviceClass, ok.rejected.length], [250, true, 0]);
  });
});

describe('costs report', () => {
  const settings = readCostSettings(() => undefined).settings;
  const now = Date.UTC(2025, 10, 20, 18);
  const entries = [
    entry({ id: 'a', time: now - 3600_000, accepted: true }),
    entry({ id: 'b', time: now - 2 * 86_400_000 }),
    entry({
      id: 'c',
      time: now - 30 * 86_400_000,
      kind: 'explain',
      prompt: { chars: 8200, o200k: 2000, cl100k: 2100 },
      output: { chars: 820, o200k: 200, cl100k: 210 },
    }),
  ];
  const base = { prices: bundledPrices(), layers: [], settings, rejected: [], now, ledgerFile: '/tmp/ledger.jsonl' };

  it('prices the real requests on every hosted model, next to the local cost', () => {
    const r = buildReport({ ...base, entries });
    const all = r.periods.find((p) => p.key === 'all')!;
    assert.equal(all.requests, 3);
    assert.equal(all.accepted, 1);
    const priced = all.hosted.filter((h) => h.cost.value > 0);
    assert.ok(priced.length >= 15, `${priced.length} hosted models priced`);
    const gpt4o = all.hosted.find((h) => h.id === 'gpt-4o')!;
    assert.equal(gpt4o.inputTokens, 4000);
    assert.equal(gpt4o.exact, true);
    near(gpt4o.cost.value, (4000 * 2.5 + 240 * 10) / 1e6, 'GPT-4o on the exact counts');
    const sonnet = all.hosted.find((h) => h.id === 'claude-sonnet-4-5')!;
    assert.equal(sonnet.exact, false);
    assert.match(sonnet.cost.formula, /estimate/, 'the tooltip says it is an estimate');
    // Laptop default: 20 W × 3 s of generation × $0.17/kWh, no hardware share.
    near(all.local.electricity.value, electricityCost(3000, settings), 'electricity');
    assert.equal(all.local.hardware.value, 0);
    assert.match(all.local.total.formula, /20 W/);
    assert.equal(r.periods.find((p) => p.key === 'week')!.requests, 2);
  });

  it('explains an empty ledger with assumed sizes for the what-if', () => {
    const r = buildReport({ ...base, entries: [] });
    assert.equal(r.ledger.entries, 0);
    assert.match(r.whatIf.basis, /No requests recorded yet/);
    assert.equal(r.latency.local, undefined);
    assert.ok(
      r.whatIf.hosted.every((h) => !h.exact),
      'assumed sizes are not exact',
    );
  });

  it('marks break-even crossings when part of the machine is attributed to Glassbox', () => {
    const shared = { ...settings, hardwareShare: 0.5 };
    const r = buildReport({
      ...base,
      settings: shared,
      entries,
      inputs: { teamSize: 5, requestsPerDevPerDay: 100, assumeCaching: false },
    });
    const gpt5 = r.breakEven.hosted.find((h) => h.id === 'gpt-5')!;
    assert.ok(gpt5.crossing && gpt5.crossing.requestsPerDay > 0);
    // At the crossing, local and hosted cost the same.
    const mean = r.whatIf.hosted.find((h) => h.id === 'gpt-5')!.monthly.value / r.whatIf.requestsPerMonth;
    near(gpt5.crossing.monthly, gpt5.crossing.requestsPerDay * 21 * mean, 'hosted at the crossing');
    const zeroShare = buildReport({ ...base, entries });
    assert.match(zeroShare.breakEven.hosted[0].note, /any volume/);
  });

  it("adds the team's own server when its hourly price is set: every hour, over the requests it answered", () => {
    const withServer = { ...settings, serverHourlyPrice: 1.5 };
    const served = [...entries, entry({ id: 'd', time: now - 7200_000, server: 'openai' })];
    const r = buildReport({
      ...base,
      settings: withServer,
      entries: served,
      inputs: { teamSize: 5, requestsPerDevPerDay: 100, assumeCaching: false },
    });
    const week = r.periods.find((p) => p.key === 'week')!;
    near(week.server!.total.value, 1.5 * 24 * week.days, 'a week of server hours');
    assert.equal(week.server!.requests, 1, 'only the request a server answered');
    near(week.server!.perRequest.value, 1.5 * 24 * week.days, 'all of it on that one request');
    const monthly = 1.5 * 24 * (365.25 / 12);
    near(r.whatIf.server!.value, monthly, 'the what-if: always on');
    assert.ok(
      r.breakEven.server!.ys.every((y) => y === monthly),
      'a flat line at any volume',
    );
    // a hosted model costs more than the server above monthly ÷ (21 workdays × its cost per request): the first such volume is named
    const first = Math.min(
      ...r.whatIf.hosted.map((h) => monthly / (21 * (h.monthly.value / r.whatIf.requestsPerMonth))),
    );
    assert.match(
      r.breakEven.server!.note,
      new RegExp(`above ${Math.round(first).toLocaleString('en-US')} requests/day`),
    );
    // without a price there is no server row anywhere
    const none = buildReport({ ...base, entries: served });
    assert.equal(none.periods[0].server, undefined);
    assert.equal(none.whatIf.server, undefined);
    assert.equal(none.breakEven.server, undefined);
  });

  it('rejects a negative team size with a message', () => {
    const r = buildReport({
      ...base,
      entries,
      inputs: { teamSize: -3, requestsPerDevPerDay: 50, assumeCaching: false },
    });
    assert.equal(r.whatIf.inputs.teamSize, 10);
    assert.match(r.problems[0], /Team size -3 was rejected/);
  });
});
