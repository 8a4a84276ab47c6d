/**
 * The Costs panel: the user's real requests priced on hosted models next to the local cost, a
 * what-if at team scale, break-even and latency. The host computes every figure (with its
 * formula); this side lays them out, draws the charts and sends back the what-if inputs.
 */
import { loadState, onMessage, post, saveState } from '../shared/host';
import { el, registerToolkit } from '../shared/toolkit';
import { pruneCharts, readTheme } from './charts';
import {
  isHostToView,
  type Command,
  type CostsReport,
  type CostsViewState,
  type HostToView,
  type ScaleInputs,
  type ViewToHost,
} from './protocol';
import { breakEvenSection, latencySection, pricesSection, usageSection, whatIfSection } from './views';

registerToolkit();
const send = (m: ViewToHost) => post(m);
const app = document.getElementById('app')!;
const state: CostsViewState = loadState<CostsViewState>() ?? { period: 'week' };
let error: string | undefined;

function button(label: string, command: Command, title: string): HTMLElement {
  const b = el('vscode-button', '', label);
  b.setAttribute('appearance', 'secondary');
  b.title = title;
  b.addEventListener('click', () => send({ type: 'run', command }));
  return b;
}

function notices(r: CostsReport): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (r.ledger.recovered) out.push(el('p', 'warning', r.ledger.recovered));
  for (const s of r.settings.rejected) out.push(el('p', 'warning', s));
  for (const l of r.prices.layers) if (l.status === 'error') out.push(el('p', 'warning', `${l.name}: ${l.detail}`));
  return out;
}

function render(): void {
  // A redraw (a new report every few seconds while you type) keeps the scroll position and open sections.
  const scroll = window.scrollY;
  const open = new Set([...app.querySelectorAll('details[open]')].map((d) => d.id));
  build();
  for (const id of open) document.getElementById(id)?.setAttribute('open', '');
  window.scrollTo(0, scroll);
}

function build(): void {
  app.replaceChildren();
  pruneCharts();
  const header = el('header', 'row');
  header.append(
    el('h2', '', 'Costs: local vs hosted'),
    button(
      'Update prices',
      'updatePrices',
      'Download LiteLLM’s current price file (only now; the bundled prices stay if it fails).',
    ),
    button('Export usage', 'exportUsage', 'Save the usage ledger as CSV or JSON.'),
    button('Reset usage', 'resetUsage', 'Delete the recorded requests (asks first).'),
    button('Settings', 'openSettings', 'Watts, electricity price, hardware price, lifetime and share α.'),
  );
  app.append(header);
  if (error) app.append(el('p', 'error', error));
  const r = state.report;
  if (!r) {
    app.append(el('vscode-progress-ring', 'spinner'));
    return;
  }
  const settings = el(
    'p',
    'muted settings',
    `Local: ${r.settings.summary}. Ledger: ${r.ledger.entries} requests, kept on this machine only (${r.ledger.file}).`,
  );
  app.append(settings, ...notices(r));
  const theme = readTheme();
  app.append(
    usageSection(r, state.period, theme, (period) => {
      state.period = period;
      saveState(state);
      render();
    }),
    whatIfSection(r, theme, (inputs: ScaleInputs) => {
      state.inputs = inputs;
      saveState(state);
      send({ type: 'scale', inputs });
    }),
    breakEvenSection(r, theme),
    latencySection(r, theme),
    pricesSection(r),
  );
}

function apply(msg: HostToView): void {
  if (msg.type === 'report') {
    error = undefined;
    state.report = msg.report;
    state.inputs = msg.report.whatIf.inputs;
  } else {
    error = `Could not build the report: ${msg.message}`;
  }
  saveState(state);
  render();
}

onMessage(isHostToView, apply);
// Charts take their colours from the theme: redraw when VS Code switches it (it changes body's class).
new MutationObserver(() => state.report && render()).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});
render();
send({ type: 'ready' });
if (state.inputs) send({ type: 'scale', inputs: state.inputs });
