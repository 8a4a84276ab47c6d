/** The Costs panel's sections. Every figure's title attribute (its tooltip) gives its formula and inputs. */
import { el } from '../shared/toolkit';
import { barChart, breakEvenChart, type Bar, type Line, type Theme } from './charts';
import { count, ms, perM, tokens, usd } from '../../src/common/format';
import type { CostsReport, ModelRow, PeriodKey, ScaleInputs, SourceInfo } from './protocol';

/** Hosted lines drawn at first on the break-even chart (the rest are one legend click away). */
const FIRST_SHOWN = new Set([
  'gpt-4.1-mini',
  'gpt-5',
  'claude-sonnet-4-5',
  'gemini-2.5-flash',
  'codestral',
  'deepseek-v3.2',
]);
const LOG_FLOOR = 1e-4; // USD: the smallest value a log axis shows

/** A number with its formula as tooltip. */
function figure(text: string, formula: string, className = 'figure'): HTMLElement {
  const s = el('span', className, text);
  s.title = formula;
  s.tabIndex = 0;
  return s;
}

function table(id: string, head: string[], rows: HTMLElement[][], rowClass = ''): HTMLTableElement {
  const t = el('table', 'figures costs-table');
  t.id = id;
  const tr = el('tr');
  for (const h of head) tr.append(el('th', '', h));
  t.append(tr);
  for (const cells of rows) {
    const r = el('tr', rowClass);
    for (const c of cells) {
      const td = el('td');
      td.append(c);
      r.append(td);
    }
    t.append(r);
  }
  return t;
}

const text = (s: string, className = '') => el('span', className, s);

function countingBadge(exact: boolean, note: string): HTMLElement {
  const b = el('span', exact ? 'badge exact' : 'badge estimate', exact ? 'exact' : 'estimate');
  b.title = exact
    ? 'Exact token count: the vendor’s tokenizer (gpt-tokenizer) run on the same text the local model saw.'
    : note;
  return b;
}

function source(s: SourceInfo): HTMLElement {
  const span = el('span', s.verified ? 'source' : 'source unverified');
  const a = el('a', '', new URL(s.url).host);
  a.href = s.url;
  span.append(a, text(s.verified ? ` checked ${s.date}` : ` unverified (${s.date})`));
  span.title = s.note ?? '';
  return span;
}

function chartBox(id: string, heightPx: number): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const box = el('div', 'chart');
  box.style.height = `${heightPx}px`; // CSSOM, allowed by the CSP (inline style attributes are not)
  const canvas = el('canvas');
  canvas.id = id;
  box.append(canvas);
  return { box, canvas };
}

export function usageSection(
  r: CostsReport,
  period: PeriodKey,
  theme: Theme,
  onPeriod: (p: PeriodKey) => void,
): HTMLElement {
  const sec = el('section', 'usage');
  sec.id = 'usage';
  sec.append(el('h2', '', 'Actual usage, priced on hosted models'));
  const tabs = el('div', 'tabs');
  for (const p of r.periods) {
    const b = el('vscode-button', 'tab', p.label);
    b.setAttribute('appearance', p.key === period ? 'primary' : 'secondary');
    b.addEventListener('click', () => onPeriod(p.key));
    tabs.append(b);
  }
  sec.append(tabs);
  const p = r.periods.find((x) => x.key === period) ?? r.periods[0];
  const models = new Map(r.models.map((m) => [m.id, m]));
  const summary = el('p', 'summary');
  const acceptRate = p.shown ? ` (${Math.round((100 * p.accepted) / p.shown)}% of shown)` : '';
  summary.append(
    text(
      `${count(p.requests)} requests: ${count(p.completions)} completions, ${count(p.explains)} explanations · ${count(p.shown)} shown, ${count(p.accepted)} accepted${acceptRate} · `,
    ),
    figure(
      `${tokens(p.promptTokens)} prompt + ${tokens(p.generatedTokens)} generated tokens`,
      'Counted by the local model’s own tokenizer.',
    ),
  );
  sec.append(summary);
  const local = el('div', 'local-cost');
  local.id = 'local-cost';
  local.append(
    el('strong', '', 'Local cost: '),
    figure(usd(p.local.total.value), p.local.total.formula, 'figure big'),
    text(' = electricity '),
    figure(usd(p.local.electricity.value), p.local.electricity.formula),
    text(' + hardware '),
    figure(usd(p.local.hardware.value), p.local.hardware.formula),
    text(' · per request '),
    figure(usd(p.local.perRequest.value), p.local.perRequest.formula),
    text(' · per day '),
    figure(usd(p.local.perDay.value), p.local.perDay.formula),
    text(' · per month '),
    figure(usd(p.local.perMonth.value), p.local.perMonth.formula),
  );
  sec.append(local);
  if (p.server) {
    const server = el('div', 'server-cost');
    server.id = 'server-cost';
    server.append(
      el('strong', '', 'Your own server: '),
      figure(usd(p.server.total.value), p.server.total.formula, 'figure big'),
      text(` · per request it answered (${count(p.server.requests)}) `),
      figure(usd(p.server.perRequest.value), p.server.perRequest.formula),
    );
    sec.append(server);
  }
  if (p.requests === 0) {
    sec.append(
      el(
        'p',
        'empty',
        r.ledger.entries === 0
          ? `No requests recorded yet. Every inline completion and explanation the local model serves is recorded here — counts and timings only, never your code — and priced on ${r.models.length} hosted models, next to what it cost to run locally. Type in a code file or run "Glassbox: Explain", then come back.`
          : `No requests in this period; ${count(r.ledger.entries)} in the ledger overall.`,
      ),
    );
    return sec;
  }
  const sorted = [...p.hosted].sort((a, b) => b.cost.value - a.cost.value);
  const bars: Bar[] = sorted.map((h) => ({
    label: models.get(h.id)?.name ?? h.id,
    value: h.cost.value,
    colour: theme.vendor(models.get(h.id)?.vendor ?? ''),
    tooltip: h.cost.formula.split('\n'),
  }));
  bars.push({
    label: 'Glassbox (local)',
    value: p.local.total.value,
    colour: theme.local,
    tooltip: p.local.total.formula.split('\n'),
  });
  if (p.server)
    bars.push({
      label: 'Your own server',
      value: p.server.total.value,
      colour: theme.fg,
      tooltip: p.server.total.formula.split('\n'),
    });
  bars.sort((a, b) => b.value - a.value);
  const { box, canvas } = chartBox('usage-chart', bars.length * 18 + 60);
  sec.append(box);
  requestAnimationFrame(() => barChart(canvas, bars, `USD, ${p.label.toLowerCase()}`, usd));
  const rows = sorted.map((h) => {
    const m = models.get(h.id);
    const ratio = p.local.total.value > 0 ? `${count(h.cost.value / p.local.total.value)}×` : '–';
    return [
      text(m?.name ?? h.id),
      text(m?.vendor ?? ''),
      text(tokens(h.inputTokens)),
      text(tokens(h.outputTokens)),
      countingBadge(h.exact, r.estimateNote),
      figure(usd(h.cost.value), h.cost.formula),
      figure(ratio, `${usd(h.cost.value)} hosted ÷ ${usd(p.local.total.value)} local`),
    ];
  });
  sec.append(
    table(
      'usage-table',
      ['Model', 'Vendor', 'Input tokens', 'Output tokens', 'Counts', `Cost (${p.label.toLowerCase()})`, '× local'],
      rows,
      'hosted',
    ),
  );
  return sec;
}

export function whatIfSection(r: CostsReport, theme: Theme, onScale: (inputs: ScaleInputs) => void): HTMLElement {
  const w = r.whatIf;
  const sec = el('section', 'whatif');
  sec.id = 'whatif';
  sec.append(el('h2', '', 'What-if at scale'));
  const form = el('div', 'row inputs');
  const team = el('vscode-text-field', 'num') as HTMLElement & { value: string };
  team.setAttribute('value', String(w.inputs.teamSize));
  team.textContent = 'Team size';
  const rate = el('vscode-text-field', 'num') as HTMLElement & { value: string };
  rate.setAttribute('value', String(w.inputs.requestsPerDevPerDay));
  rate.textContent = 'Requests per developer per day';
  const caching = el('vscode-checkbox') as HTMLElement & { checked: boolean };
  if (w.inputs.assumeCaching) caching.setAttribute('checked', '');
  caching.textContent = 'Assume prompt caching';
  caching.title =
    'Bill the part of each prompt the local model reused from its KV cache at the cached-input price (a vendor’s prompt cache would hold the same prefix).';
  const send = () =>
    onScale({ teamSize: Number(team.value), requestsPerDevPerDay: Number(rate.value), assumeCaching: caching.checked });
  for (const f of [team, rate]) f.addEventListener('change', send);
  caching.addEventListener('change', send);
  form.append(team, rate, caching);
  for (const p of r.problems) sec.append(el('p', 'warning', p));
  sec.append(
    form,
    el('p', 'muted', `${count(w.requestsPerMonth)} requests/month (${w.workdaysPerMonth} workdays). ${w.basis}`),
  );
  const models = new Map(r.models.map((m) => [m.id, m]));
  const bars: Bar[] = w.hosted.map((h) => ({
    label: models.get(h.id)?.name ?? h.id,
    value: h.monthly.value,
    colour: theme.vendor(models.get(h.id)?.vendor ?? ''),
    tooltip: h.monthly.formula.split('\n'),
  }));
  bars.push({
    label: 'Glassbox (local)',
    value: w.local.value,
    colour: theme.local,
    tooltip: w.local.formula.split('\n'),
  });
  if (w.server)
    bars.push({
      label: 'Your own server',
      value: w.server.value,
      colour: theme.fg,
      tooltip: w.server.formula.split('\n'),
    });
  bars.sort((a, b) => b.value - a.value);
  const local = el('p', 'local-cost');
  local.append(el('strong', '', 'Local per month: '), figure(usd(w.local.value), w.local.formula, 'figure big'));
  if (w.server)
    local.append(text(' · your own server per month: '), figure(usd(w.server.value), w.server.formula, 'figure big'));
  const { box, canvas } = chartBox('whatif-chart', bars.length * 18 + 60);
  sec.append(local, box);
  requestAnimationFrame(() => barChart(canvas, bars, 'USD per month', usd));
  return sec;
}

export function breakEvenSection(r: CostsReport, theme: Theme): HTMLElement {
  const b = r.breakEven;
  const sec = el('section', 'breakeven');
  sec.id = 'breakeven';
  sec.append(el('h2', '', 'Break-even'));
  sec.append(figure('How the lines are computed', b.formula, 'figure muted'));
  if (b.capacityPerMachinePerDay) {
    sec.append(
      el(
        'p',
        'muted',
        `One machine generating back to back serves at most about ${count(b.capacityPerMachinePerDay)} requests a day at your measured speed; beyond that, local needs more machines.`,
      ),
    );
  }
  const models = new Map(r.models.map((m) => [m.id, m]));
  const dashes = [[], [6, 3], [2, 2], [10, 4, 2, 4]];
  const perVendor = new Map<string, number>();
  const floor = (y: number) => Math.max(LOG_FLOOR, y);
  const inRange = (x: number) => x >= b.xs[0] && x <= b.xs[b.xs.length - 1];
  const lines: Line[] = [
    {
      label: 'Glassbox (local)',
      colour: theme.local,
      dash: [],
      width: 3,
      hidden: false,
      points: b.xs.map((x, i) => ({ x, y: floor(b.local[i]) })),
    },
    ...b.hosted.map((h) => {
      const m = models.get(h.id);
      const n = perVendor.get(m?.vendor ?? '') ?? 0;
      perVendor.set(m?.vendor ?? '', n + 1);
      const crossing =
        h.crossing && inRange(h.crossing.requestsPerDay)
          ? { x: h.crossing.requestsPerDay, y: floor(h.crossing.monthly), tooltip: [h.note] }
          : undefined;
      return {
        label: m?.name ?? h.id,
        colour: theme.vendor(m?.vendor ?? ''),
        dash: dashes[n % dashes.length],
        width: 1.5,
        hidden: !FIRST_SHOWN.has(h.id),
        points: b.xs.map((x, i) => ({ x, y: floor(h.ys[i]) })),
        crossing,
      };
    }),
  ];
  if (b.server)
    lines.splice(1, 0, {
      label: 'Your own server',
      colour: theme.fg,
      dash: [8, 4],
      width: 2,
      hidden: false,
      points: b.xs.map((x, i) => ({ x, y: floor(b.server!.ys[i]) })),
    });
  const crossings = lines.filter((l) => l.crossing).length;
  const { box, canvas } = chartBox('breakeven-chart', 560);
  sec.append(box);
  requestAnimationFrame(() => breakEvenChart(canvas, lines, usd));
  sec.append(
    el(
      'p',
      'muted',
      `${crossings ? `${crossings} crossing point${crossings === 1 ? '' : 's'} in range, marked ✕ on each shown line.` : 'No crossing points in range.'} Click a legend entry to show or hide a model. Values below ${usd(LOG_FLOOR)} are drawn at ${usd(LOG_FLOOR)}.`,
    ),
  );
  const notes = el('ul', 'notes');
  if (b.server) notes.append(el('li', 'server', b.server.note));
  for (const h of b.hosted) notes.append(el('li', h.crossing ? 'crossing' : '', h.note));
  const details = el('details');
  details.id = 'breakeven-notes';
  details.append(el('summary', '', 'Break-even per model'), notes);
  sec.append(details);
  return sec;
}

export function latencySection(r: CostsReport, theme: Theme): HTMLElement {
  const l = r.latency;
  const sec = el('section', 'latency');
  sec.id = 'latency';
  sec.append(el('h2', '', 'Latency'));
  if (!l.local)
    sec.append(
      el('p', 'empty', 'No requests recorded yet: Glassbox’s own p50/p95 appear here once it has served some.'),
    );
  const models = new Map(r.models.map((m) => [m.id, m]));
  const bars: Bar[] = [];
  if (l.local) {
    const f = l.local.formula.split('\n');
    bars.push(
      { label: 'Glassbox first token p50', value: l.local.ttftP50, colour: theme.local, tooltip: f },
      { label: 'Glassbox first token p95', value: l.local.ttftP95, colour: theme.local, tooltip: f },
      { label: 'Glassbox total p50', value: l.local.totalP50, colour: theme.local, tooltip: f },
      { label: 'Glassbox total p95', value: l.local.totalP95, colour: theme.local, tooltip: f },
    );
  }
  for (const h of l.hosted)
    bars.push({
      label: `${models.get(h.id)?.name ?? h.id} first token`,
      value: h.ttftMs,
      colour: theme.vendor(models.get(h.id)?.vendor ?? ''),
      tooltip: h.formula.split('\n'),
    });
  const { box, canvas } = chartBox('latency-chart', bars.length * 18 + 60);
  sec.append(box);
  requestAnimationFrame(() => barChart(canvas, bars, 'ms to first token', ms));
  const rows = l.hosted.map((h) => [
    text(models.get(h.id)?.name ?? h.id),
    figure(ms(h.ttftMs), h.formula),
    figure(h.totalMs !== undefined ? ms(h.totalMs) : '–', h.formula),
    source(h.source),
  ]);
  if (l.local)
    rows.unshift([
      el('strong', '', `Glassbox (${count(l.samples)} requests)`),
      figure(`${ms(l.local.ttftP50)} / ${ms(l.local.ttftP95)}`, l.local.formula),
      figure(`${ms(l.local.totalP50)} / ${ms(l.local.totalP95)}`, l.local.formula),
      text('measured here'),
    ]);
  const details = el('details');
  details.id = 'latency-details';
  details.append(
    el('summary', '', 'Latency table'),
    table('latency-table', ['', 'First token (p50 / p95, or typical)', 'Whole request', 'Source'], rows),
  );
  sec.append(details);
  return sec;
}

export function pricesSection(r: CostsReport): HTMLElement {
  const sec = el('section', 'prices');
  sec.id = 'prices';
  sec.append(el('h2', '', `Prices (${r.prices.version})`));
  if (r.prices.note) sec.append(el('p', 'muted', r.prices.note));
  const layers = el('ul', 'layers');
  for (const l of r.prices.layers) layers.append(el('li', `layer-${l.status}`, `${l.name}: ${l.detail}`));
  sec.append(layers);
  const unverified = r.models.filter((m) => !m.source.verified).length;
  if (unverified)
    sec.append(
      el(
        'p',
        'warning',
        `${unverified} of ${r.models.length} prices are unverified: they come from knowledge up to the date shown, not from a check of the vendor’s page. Run "Glassbox: Update Prices" for current ones.`,
      ),
    );
  sec.append(
    el(
      'p',
      'muted',
      `Token counts: exact for OpenAI models (o200k_base / cl100k_base on the same prompt text the local model saw); for the others an ${r.estimateNote}`,
    ),
  );
  const rows = r.models.map((m: ModelRow) => [
    text(m.name),
    text(m.vendor),
    text(perM(m.inputPerM)),
    text(perM(m.cachedInputPerM)),
    text(perM(m.outputPerM)),
    text(m.tiers || '–', 'small'),
    text(tokens(m.contextWindow)),
    countingBadge(m.counting === 'exact', r.estimateNote),
    source(m.source),
  ]);
  sec.append(
    table(
      'prices-table',
      [
        'Model',
        'Vendor',
        'Input $/1M',
        'Cached $/1M',
        'Output $/1M',
        'Long-context tier',
        'Context',
        'Counts',
        'Source',
      ],
      rows,
    ),
  );
  return sec;
}
