/**
 * The architecture explorer: the loaded model's block diagram, the parameters of the selected
 * part, the derived figures, the operator drill-down, the operator summary, and training and
 * scaling. Everything is computed by the host (the engine's graph reader); this draws it and
 * keeps what the user chose (selection, context, bandwidth, drill-down) in the webview state.
 */
import type { Chart } from 'chart.js';
import type { ArchitectureSummary, Part } from '../../src/common/architectureTypes';
import { formatBytes } from '../../src/common/figures';
import { loadState, onMessage, post, saveState } from '../shared/host';
import { el, registerToolkit } from '../shared/toolkit';
import { trainingSection } from './charts';
import { drawDiagram } from './diagram';
import { DrillDown, type DrillState } from './drilldown';
import { pngDataUrl, svgText } from './exportImage';
import { FiguresView } from './figuresView';
import {
  type ArchitectureViewState,
  type HostToView,
  isHostToView,
  type ServerModel,
  type ViewToHost,
} from './protocol';

registerToolkit();
const send = (m: ViewToHost) => post(m);
const app = document.getElementById('app')!;

const state: ArchitectureViewState = {
  context: 1024,
  bandwidthGBs: 20,
  selected: null,
  drill: null,
  measured: null,
  ...loadState<ArchitectureViewState>(),
};
let loading: string | null = null;
/** The model server completions run on, when glassbox.backend names one. */
let server: ServerModel | null = null;
let status = '';
let graphRequest = 0;
let charts: Chart[] = [];
let figures: FiguresView | null = null;
let drill: DrillDown | null = null;
const diagramBox = el('div', 'diagram-box');
const detailsBox = el('div', 'part-details');

const save = () => saveState(state);
const fmt = (n: number) => n.toLocaleString('en-US');

function header(): HTMLElement {
  const h = el('header', 'row');
  h.append(el('h1', '', state.summary ? `${state.summary.model.name}` : 'Model architecture'));
  const button = (label: string, action: () => void, id: string) => {
    const b = el('vscode-button', '', label);
    b.id = id;
    b.setAttribute('appearance', 'secondary');
    b.addEventListener('click', action);
    return b;
  };
  if (state.summary)
    h.append(
      button('Export SVG', () => void exportDiagram('svg'), 'export-svg'),
      button('Export PNG', () => void exportDiagram('png'), 'export-png'),
    );
  h.append(button('Refresh', () => send({ type: 'refresh' }), 'refresh'));
  return h;
}

async function exportDiagram(format: 'svg' | 'png'): Promise<void> {
  const svg = diagramBox.querySelector('svg');
  if (!svg || !state.summary) return;
  try {
    const data = format === 'svg' ? svgText(svg) : await pngDataUrl(svg);
    send({ type: 'export', format, data, name: state.summary.model.name });
  } catch (err) {
    setStatus(err instanceof Error ? err.message : String(err));
  }
}

function setStatus(text: string): void {
  status = text;
  const s = document.getElementById('status');
  if (s) s.textContent = text;
}

function partDetails(p: Part): void {
  detailsBox.replaceChildren();
  detailsBox.append(el('h2', '', p.label));
  const summary = `${fmt(p.params)} parameters · ${(p.share * 100).toFixed(2)}% · ${formatBytes(p.bytes)} · ${p.dtype}`;
  detailsBox.append(el('p', '', summary));
  if (p.note) detailsBox.append(el('p', 'muted', p.note));
  if (!p.tensors.length) return;
  const table = el('table', 'figures tensors');
  const head = el('tr');
  for (const c of ['tensor', 'role', 'shape', 'dtype', 'parameters', 'bytes']) head.append(el('th', '', c));
  table.append(head);
  for (const t of p.tensors) {
    const tr = el('tr');
    const name = el('td', 'mono', t.name);
    name.title = `used by ${t.consumer}${t.sharedWith ? `\nshares storage with ${t.sharedWith} (deduplicated by the exporter)` : ''}${t.external ? '\nstored in external data' : ''}`;
    tr.append(
      name,
      el('td', '', t.role),
      el('td', 'mono', `[${t.shape.join(', ')}]`),
      el('td', '', t.quant ?? t.dtype),
      el('td', 'num', fmt(t.params)),
      el('td', 'num', t.sharedWith ? 'shared' : formatBytes(t.bytes)),
    );
    table.append(tr);
  }
  detailsBox.append(table);
}

function select(id: string): void {
  const s = state.summary;
  const part = s?.parts.find((p) => p.id === id);
  if (!s || !part) return;
  state.selected = id;
  drawSelection();
  if (part.scope !== null)
    requestGraph({ scope: part.scope, expanded: [], showShapeOps: state.drill?.showShapeOps ?? false });
  save();
}

function drawSelection(): void {
  const s = state.summary!;
  diagramBox.replaceChildren(drawDiagram(s, state.selected, select));
  const part = s.parts.find((p) => p.id === state.selected);
  if (part) partDetails(part);
}

function requestGraph(d: DrillState): void {
  state.drill = d;
  graphRequest++;
  drill?.show(null, d, 'laying out…');
  send({ type: 'graph', requestId: graphRequest, ...d });
  save();
}

function opsSection(s: ArchitectureSummary): HTMLElement {
  const section = el('section', 'ops');
  section.append(el('h2', '', 'Operator summary'));
  section.append(
    el(
      'p',
      'muted',
      `${fmt(s.graph.nodes)} nodes, ${fmt(s.graph.initializers)} initializers, ${fmt(s.graph.valueInfo)} value_info entries; opset ${s.model.opset ?? '?'}; produced by ${s.model.producer || 'unknown'}.`,
    ),
  );
  const table = el('table', 'figures ops-table');
  for (const o of s.ops) {
    const tr = el('tr');
    tr.append(el('td', 'mono', o.op), el('td', 'muted', o.domain), el('td', 'num', fmt(o.count)));
    table.append(tr);
  }
  const io = el('table', 'figures io-table');
  for (const [kind, list] of [
    ['input', s.graph.inputs],
    ['output', s.graph.outputs],
  ] as const) {
    for (const t of list) {
      const tr = el('tr');
      tr.append(
        el('td', 'muted', kind),
        el('td', 'mono', t.name),
        el('td', '', t.dtype),
        el('td', 'mono', t.shape ? `[${t.shape.join(', ')}]` : '?'),
      );
      io.append(tr);
    }
  }
  const cols = el('div', 'columns');
  cols.append(table, io);
  section.append(cols);
  return section;
}

function render(): void {
  charts.forEach((c) => c.destroy());
  charts = [];
  app.replaceChildren(header());
  const statusLine = el('p', 'muted status', status);
  statusLine.id = 'status';
  statusLine.setAttribute('role', 'status');
  app.append(statusLine);
  if (server) app.append(serverNote(server));
  if (state.error) {
    app.append(el('p', 'error', state.error));
    return;
  }
  const s = state.summary;
  if (!s) {
    const row = el('div', 'row');
    row.append(
      el('vscode-progress-ring', 'spinner'),
      el('span', 'muted', loading ? `Reading ${loading}…` : 'Waiting for the model…'),
    );
    app.append(row);
    return;
  }
  app.append(el('p', 'family', s.family));
  app.append(
    el(
      'p',
      'muted',
      `${s.model.onnxFile} · ${s.model.configSource ?? 'no config'} · read in ${s.inspectMs.toFixed(0)} ms${loading ? ` · reading ${loading}…` : ''}`,
    ),
  );
  if (s.notes.length) {
    const notes = el('ul', 'notes');
    notes.setAttribute('aria-label', 'Notes');
    for (const n of s.notes) notes.append(el('li', '', n));
    app.append(notes);
  }
  const top = el('div', 'top');
  top.append(diagramBox, detailsBox);
  app.append(top);
  if (!s.parts.some((p) => p.id === state.selected))
    state.selected = s.parts.find((p) => p.block)?.id ?? s.parts[0]?.id ?? null;
  drawSelection();
  figures = new FiguresView(s, { context: state.context, bandwidthGBs: state.bandwidthGBs }, state.measured, (c) => {
    state.context = c.context;
    state.bandwidthGBs = c.bandwidthGBs;
    save();
  });
  app.append(figures.element);
  const d = state.drill ?? {
    scope: s.parts.find((p) => p.id === state.selected)?.scope ?? '',
    expanded: [],
    showShapeOps: false,
  };
  drill = new DrillDown(d, requestGraph);
  app.append(drill.element);
  requestGraph(d);
  app.append(opsSection(s));
  app.append(trainingSection(s.training, charts));
}

/**
 * Completions run on a server: what it says of its model (never a made-up graph), and that the
 * diagram below is the embedded model on this machine.
 */
function serverNote(s: ServerModel): HTMLElement {
  const box = el('div', 'server-note');
  box.setAttribute('role', 'note');
  box.append(el('p', '', `Completions and Explain run on the ${s.kind} server at ${s.host}: ${s.name}.`));
  if (s.error) box.append(el('p', 'error', s.error));
  else if (s.facts.length) {
    const t = el('table', 'server-facts');
    for (const [k, v] of s.facts) {
      const tr = el('tr');
      tr.append(el('th', '', k), el('td', 'mono', v));
      t.append(tr);
    }
    box.append(t);
  } else box.append(el('p', 'muted', 'The server tells nothing about its model beyond its name.'));
  box.append(el('p', 'muted', 'Below: the embedded model on this machine, which the attention explorer uses.'));
  return box;
}

function apply(msg: HostToView): void {
  switch (msg.type) {
    case 'server':
      // the host says this on every ready; redraw (which replaces the diagram) only on a change
      if (JSON.stringify(msg.server) === JSON.stringify(server)) break;
      server = msg.server;
      render();
      break;
    case 'loading':
      loading = msg.model;
      if (!state.summary) render();
      break;
    case 'summary': {
      const sameModel =
        state.summary?.model.dir === msg.summary.model.dir &&
        state.summary?.model.onnxFile === msg.summary.model.onnxFile;
      loading = null;
      state.error = undefined;
      state.summary = msg.summary;
      if (!sameModel) state.drill = null;
      const max = msg.summary.cost.maxContext;
      if (max && state.context > max) state.context = max;
      render();
      break;
    }
    case 'error':
      loading = null;
      state.error = msg.message;
      render();
      break;
    case 'graph':
      if (msg.requestId === graphRequest && state.drill)
        drill?.show(
          msg.view,
          state.drill,
          `${fmt(msg.view.nodes.length)} boxes of ${fmt(msg.view.totalNodes)} operators · ${fmt(msg.view.hiddenOps)} hidden · layout ${msg.view.layoutMs.toFixed(0)} ms`,
        );
      break;
    case 'graphError':
      if (msg.requestId === graphRequest && state.drill) drill?.show(null, state.drill, msg.message);
      break;
    case 'measured':
      state.measured = msg.speed;
      figures?.setMeasured(msg.speed);
      break;
    case 'exported':
      setStatus(msg.file ? `Saved ${msg.file}` : `Export failed: ${msg.error ?? 'unknown error'}`);
      break;
  }
  save();
}

// Charts read theme colours when drawn: redraw them when the theme changes.
new MutationObserver(() => state.summary && render()).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});

onMessage(isHostToView, apply);
render();
send({ type: 'ready' });
