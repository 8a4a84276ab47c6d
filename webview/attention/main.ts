/**
 * The Attention view: which tokens the selected token attended to (one head, the mean or max
 * across heads, or attention rollout), every head as a thumbnail with its automatic label, the
 * line view of one layer, and the logit lens with the final distribution's sliders. UI state is
 * kept with setState; the host re-sends the capture whenever the view loads.
 */
import { loadState, onMessage, post, saveState } from '../shared/host';
import { el, registerToolkit } from '../shared/toolkit';
import type { Bar, Sampling } from './distribution';
import { processedDistribution } from './distribution';
import { DependSection, type DependUi } from './dependView';
import { exportJson, exportPng, type Screen } from './exportView';
import { HeadGrid } from './headGrid';
import { distributionBars, lensTable, samplingControls } from './lensView';
import { drawLines, lineWindow } from './lineView';
import {
  isHostToView,
  viewSettingsOnly,
  type CaptureSummary,
  type HeatMode,
  type HostToView,
  type LinesData,
  type QueryData,
  type ViewCommand,
  type ViewToHost,
} from './protocol';
import { ghostNote, originText, TokenStrip } from './strip';

registerToolkit();
const send = (m: ViewToHost) => post(m);
const CAVEAT = 'Attention weights show where information flowed, not why the model decided.';

interface UiState {
  mode: HeatMode;
  layer: number;
  head: number;
  pinned: number | null;
  threshold: number;
  sampling: Sampling;
  depend: DependUi;
}

const DEFAULTS: UiState = {
  mode: 'mean',
  layer: 0,
  head: 0,
  pinned: null,
  threshold: 0.1,
  sampling: { temperature: 1, topK: 0, topP: 1 },
  depend: { sort: 'delta', shown: ['line', 'snippet', 'copy'] },
};
// The saved state holds view settings only: never the prompt's tokens (that is the user's code, and
// VS Code writes webview state to workspace storage). An older version saved them as `restore`.
const ui: UiState = { ...DEFAULTS, ...viewSettingsOnly(loadState<UiState>()) };
if (!Array.isArray(ui.depend?.shown)) ui.depend = { sort: 'delta', shown: ['line', 'snippet', 'copy'] };
/** The tokens of the capture on screen (in memory only), to keep the pin when the same capture returns. */
let shownIds: number[] | null = null;
let capture: CaptureSummary | null = null;
let query: QueryData | null = null;
let lines: LinesData | null = null;
let hoverFrame = 0;
let linesTimer: ReturnType<typeof setTimeout> | undefined;
let lastBars: Bar[] = [];

// ---- layout, built once
const app = document.getElementById('app')!;
const title = el('h2', 'title', 'Attention');
const spinner = el('vscode-progress-ring', 'spinner');
const meta = el('p', 'muted small');
const message = el('div', 'message');
const notices = el('ul', 'notices');
const controls = el('div', 'controls');
const heatNote = el('p', 'muted small');
const originNote = el('p', 'origin small');
const strip = new TokenStrip(onHover, pick);
const grid = new HeadGrid((layer, head) => {
  Object.assign(ui, { layer, head, mode: 'head' });
  if (capture) renderControls(capture); // the dropdowns show the picked head
  changed(true);
});
const linesBox = el('div', 'lines');
const linesCanvas = el('canvas');
const linesNote = el('p', 'muted small');
const lensBox = el('div', 'lens-box');
const depend = new DependSection(ui.depend, send, () => save());
const header = el('header', 'row');
header.append(title, spinner);
spinner.hidden = true;
function section(name: string, body: HTMLElement[], open = true): HTMLElement {
  const d = el('details', 'section');
  d.open = open;
  d.append(el('summary', '', name), ...body);
  return d;
}
linesBox.append(linesCanvas);
// Shown once there is a capture; before that only the header and the message.
const content = el('div', 'content');
content.hidden = true;
content.append(
  controls,
  section('Tokens', [heatNote, originNote, strip.el]),
  section('Heads', [
    el(
      'p',
      'muted small',
      'Layer × head; one pixel per token pair (max-pooled past 512 tokens). Click a head to show it alone.',
    ),
    grid.el,
  ]),
  section('Lines', [thresholdControl(), linesNote, linesBox], false),
  section('Logit lens', [lensBox]),
);
// the causal answer first, right under the caveat that attention is not one
app.append(header, meta, el('p', 'caveat', CAVEAT), message, notices, depend.el, content);

function save(): void {
  saveState(ui);
}

function button(label: string, onClick: () => void, secondary = true): HTMLElement {
  const b = el('vscode-button', 'action', label);
  if (secondary) b.setAttribute('appearance', 'secondary');
  b.addEventListener('click', onClick);
  return b;
}

function dropdown(options: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
  const d = el('vscode-dropdown');
  for (const [v, label] of options) {
    const o = el('vscode-option', '', label);
    o.setAttribute('value', v);
    if (v === value) o.setAttribute('selected', '');
    d.append(o);
  }
  d.addEventListener('change', () => onChange((d as HTMLElement & { value: string }).value));
  return d;
}

function thresholdControl(): HTMLElement {
  const label = el('label', 'slider');
  const input = el('input');
  const value = el('span', 'slider-value', ui.threshold.toFixed(2));
  Object.assign(input, { type: 'range', min: '0.01', max: '0.5', step: '0.01', value: String(ui.threshold) });
  input.addEventListener('input', () => {
    ui.threshold = Number(input.value);
    value.textContent = ui.threshold.toFixed(2);
    save();
    clearTimeout(linesTimer);
    linesTimer = setTimeout(requestLines, 120);
  });
  label.append(el('span', '', 'Hide lines below'), input, value);
  return label;
}

let tintBox: HTMLElement | null = null;
let tintOn = true;
function renderControls(c: CaptureSummary): void {
  const modes: [HeatMode, string][] = [
    ['mean', 'Mean of heads'],
    ['max', 'Max of heads'],
    ['head', 'One head'],
    ['rollout', 'Rollout (all layers)'],
  ];
  const layers = Array.from({ length: c.numLayers }, (_, l): [string, string] => [String(l), `Layer ${l + 1}`]);
  const heads = Array.from({ length: c.numHeads }, (_, h): [string, string] => [String(h), `Head ${h + 1}`]);
  const headPick = dropdown(heads, String(ui.head), (v) => ((ui.head = Number(v)), changed(true)));
  headPick.hidden = ui.mode !== 'head';
  const box = el('vscode-checkbox', 'tint', 'Tint editor') as HTMLElement & { checked: boolean };
  box.title = 'Tint the source code the pinned token attended to';
  box.checked = tintOn;
  // Only a user's click differs from the host's state (setting `checked` also fires change).
  box.addEventListener(
    'change',
    () => box.checked !== tintOn && send({ type: 'run', command: 'glassbox.toggleAttentionTint' }),
  );
  tintBox = box;
  controls.replaceChildren(
    dropdown(modes, ui.mode, (v) => ((ui.mode = v as HeatMode), (headPick.hidden = ui.mode !== 'head'), changed(true))),
    dropdown(layers, String(ui.layer), (v) => ((ui.layer = Number(v)), changed(true))),
    headPick,
    tintBox,
    button('Export PNG', () => send({ type: 'export', format: 'png', dataUrl: exportPng(screen()) })),
    button('Export JSON', () => send({ type: 'export', format: 'json', json: exportJson(screen()) })),
  );
}

function setStatus(
  text: string,
  busy: boolean,
  kind: 'info' | 'error' = 'info',
  commands: [string, ViewCommand][] = [],
): void {
  spinner.hidden = !busy;
  message.replaceChildren();
  if (!text) return;
  message.append(el('p', kind === 'error' ? 'error' : 'muted', text));
  for (const [label, command] of commands) message.append(button(label, () => send({ type: 'run', command }), false));
}

// ---- what the heat strip shows
function heatRow(): { weights: Float32Array | null; what: string } {
  if (!query || !capture) return { weights: null, what: '' };
  const T = capture.seqLen;
  const H = capture.numHeads;
  const l = Math.min(ui.layer, capture.numLayers - 1);
  switch (ui.mode) {
    case 'head':
      return {
        weights: query.heads.subarray((l * H + ui.head) * T, (l * H + ui.head + 1) * T),
        what: `layer ${l + 1}, head ${ui.head + 1}`,
      };
    case 'max':
      return { weights: query.max.subarray(l * T, (l + 1) * T), what: `layer ${l + 1}, max over heads` };
    case 'rollout':
      if (query.rollout) return { weights: query.rollout, what: 'attention rollout over all layers' };
      return {
        weights: null,
        what:
          query.rolloutState === 'skipped'
            ? 'rollout (computing…)'
            : 'rollout is off: over the memory budget only selected rows were kept',
      };
    default:
      return { weights: query.mean.subarray(l * T, (l + 1) * T), what: `layer ${l + 1}, mean over heads` };
  }
}

function paint(): void {
  if (!capture || !query) return;
  const { weights, what } = heatRow();
  const p = query.position;
  strip.paint(weights, p, ui.pinned ?? p);
  grid.paint(p, capture.seqLen, ui.layer, ui.mode === 'head' ? ui.head : ui.mode === 'rollout' ? -1 : null);
  const tok = JSON.stringify(capture.labels[p]);
  heatNote.textContent = `Token #${p} ${tok}${p >= capture.generatedFrom ? ' (generated)' : ''} attends to the shaded tokens: ${what}. Shade ∝ √(weight ÷ row max); hover a token for its weight.`;
  if (p === ui.pinned && weights)
    send({ type: 'heat', captureId: capture.id, position: p, weights: Float32Array.from(weights), what });
  renderOrigin(capture, p);
  renderLens();
}

/** The copy cache's part in a generated token: copied from where (with a link to the line), or the model's. */
function renderOrigin(c: CaptureSummary, p: number): void {
  const o = c.origins.find((x) => x.position === p);
  originNote.replaceChildren();
  const outside = c.ghost && p >= c.generatedFrom ? ghostNote(p, c.ghost) : '';
  originNote.hidden = !o && !outside;
  if (!o) {
    if (outside) originNote.append(`Token #${p}: generated${outside}.`);
    return;
  }
  originNote.append(el('span', o.kind === 'cache' ? 'copied-label' : '', `Token #${p}: ${originText(o)}.`));
  const src = o.source;
  if (o.kind === 'cache' && src?.path && src.line !== undefined) {
    const link = el('vscode-link', 'open-source', 'Show the source');
    link.addEventListener('click', () => send({ type: 'openSource', path: src.path!, line: src.line! }));
    originNote.append(' ', link);
  }
}

function renderLens(): void {
  if (!capture || !query) return;
  lensBox.replaceChildren();
  const lens = query.lens;
  if (!lens) {
    lensBox.append(el('p', 'muted', query.lensNote ?? 'No logit lens here.'));
    return;
  }
  const p = query.position;
  const next = p + 1 < capture.seqLen ? capture.restore.ids[p + 1] : undefined;
  const nextText = next === undefined ? 'the end of the capture' : JSON.stringify(capture.labels[p + 1]);
  lensBox.append(
    el(
      'p',
      'muted small',
      `What each layer would predict after token #${p}, read through the final norm and LM head (next token: ${nextText}).`,
    ),
    lensTable(lens, next),
  );
  const bars = el('div');
  const draw = (s: Sampling) => {
    ui.sampling = s;
    save();
    lastBars = processedDistribution(lens.final, s, 12).bars;
    bars.replaceChildren(distributionBars(lens, s, next));
  };
  lensBox.append(el('h3', '', 'Final distribution'), samplingControls(ui.sampling, draw), bars);
  draw(ui.sampling);
}

function requestLines(): void {
  if (!capture || ui.pinned === null) return;
  const { start, end } = lineWindow(ui.pinned, capture.seqLen);
  send({
    type: 'lines',
    captureId: capture.id,
    layer: ui.layer,
    head: ui.mode === 'head' ? ui.head : -1,
    start,
    end,
    threshold: ui.threshold,
  });
}

function renderLines(): void {
  if (!capture || !lines || ui.pinned === null) return;
  drawLines(linesCanvas, lines, capture.labels, ui.pinned);
  const heads = lines.head < 0 ? 'all heads (colour = head)' : `head ${lines.head + 1}`;
  linesNote.textContent = `Layer ${lines.layer + 1}, ${heads}; tokens ${lines.start}–${lines.end - 1}; ${lines.weight.length} of ${lines.total} lines ≥ ${lines.threshold.toFixed(2)}.${capture.queries.length ? ' Only tokens with recorded rows have lines.' : ''}`;
}

/** Mode, layer or head changed: repaint from the cached rows; the line view asks the host. */
function changed(refetchLines: boolean): void {
  save();
  // Rollout rows are computed on demand: ask for this one when rollout is first shown.
  if (ui.mode === 'rollout' && capture && query?.rolloutState === 'skipped')
    select(query.position, query.position === ui.pinned);
  paint();
  if (refetchLines) requestLines();
}

function hasRows(p: number): boolean {
  return !!capture && (capture.queries.length === 0 || capture.queries.includes(p));
}

function onHover(p: number | null): void {
  if (!capture) return;
  const target = p !== null && hasRows(p) ? p : ui.pinned;
  if (target === null || target === query?.position) return;
  cancelAnimationFrame(hoverFrame);
  hoverFrame = requestAnimationFrame(() => select(target, false));
}

function pick(p: number): void {
  if (!capture) return;
  ui.pinned = p;
  save();
  if (!hasRows(p)) setStatus(`Recording the rows of token #${p}…`, true);
  select(p, true);
  requestLines();
}

function select(position: number, pin: boolean): void {
  if (capture) send({ type: 'select', captureId: capture.id, position, pin, rollout: ui.mode === 'rollout' });
}

function screen(): Screen {
  const { weights, what } = heatRow();
  return {
    capture: capture!,
    position: query?.position ?? 0,
    what,
    weights,
    cells: grid.cells,
    lines: linesCanvas,
    lens: query?.lens ?? null,
    bars: lastBars,
    sampling: ui.sampling,
    caveat: CAVEAT,
  };
}

function onCapture(c: CaptureSummary): void {
  const same =
    shownIds !== null && shownIds.length === c.restore.ids.length && shownIds.every((id, i) => id === c.restore.ids[i]);
  capture = c;
  query = null;
  lines = null;
  shownIds = c.restore.ids;
  ui.layer = Math.min(ui.layer, c.numLayers - 1);
  ui.head = Math.min(ui.head, c.numHeads - 1);
  if (!same || ui.pinned === null || ui.pinned >= c.seqLen) ui.pinned = c.initial;
  save();
  title.textContent = c.title;
  const mb = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} MB`;
  meta.textContent = `${c.model} · ${c.seqLen} tokens · ${c.numLayers} layers × ${c.numHeads} heads · ${c.method} · ${c.storage === 'full' ? 'every row kept' : c.storage === 'mean' ? 'selected rows + head means' : 'selected rows only'} (${mb(c.storedMB)} of ${mb(c.budgetMB)}) · ${Math.round(c.captureMs)} ms`;
  notices.replaceChildren(...c.notices.map((n) => el('li', 'notice', n)));
  if (!c.lens.available) notices.append(el('li', 'notice', c.lens.reason));
  setStatus('', false);
  content.hidden = false;
  renderControls(c);
  strip.setTokens(c);
  grid.build(c);
  select(ui.pinned, true);
  requestLines();
}

function apply(msg: HostToView): void {
  switch (msg.type) {
    case 'status':
      setStatus(
        msg.message,
        msg.status === 'capturing' || msg.status === 'loading',
        'info',
        msg.status === 'noModel' || msg.status === 'waiting'
          ? [['Show Attention for Selection', 'glassbox.showAttentionForSelection']]
          : [],
      );
      if (msg.status === 'noModel' || msg.status === 'waiting') title.textContent = 'Attention';
      break;
    case 'error':
      setStatus(msg.unsupported ? `${msg.message} The rest of Glassbox keeps working.` : msg.message, false, 'error');
      break;
    case 'capture':
      onCapture(msg.capture);
      break;
    case 'query':
      if (!capture || msg.data.captureId !== capture.id) return;
      query = msg.data;
      if (msg.data.position === ui.pinned) setStatus('', false);
      paint();
      if (msg.data.position === ui.pinned) strip.scrollTo(msg.data.position);
      break;
    case 'lines':
      if (!capture || msg.data.captureId !== capture.id) return;
      lines = msg.data;
      renderLines();
      break;
    case 'tint':
      tintOn = msg.enabled;
      if (tintBox) (tintBox as HTMLElement & { checked: boolean }).checked = msg.enabled;
      break;
    case 'depend':
      depend.render(msg.state);
      break;
  }
}

onMessage(isHostToView, apply);
setStatus('Waiting for the extension…', true);
send({ type: 'ready' });
