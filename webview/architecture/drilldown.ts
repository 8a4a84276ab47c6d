/**
 * The drill-down: the raw ONNX operators of one scope, as laid out by the engine (dagre), drawn
 * as SVG. Collapsed scopes open on click, open ones close from their frame's title; an operator's
 * inputs, outputs (with shapes) and attributes show beside the graph. The host does the reading
 * and layout; this only draws, so a 20,000-node graph costs the webview nothing more than its view.
 */
import type { GraphView, ViewNode, ViewTensor } from '../../src/common/architectureTypes';
import { el } from '../shared/toolkit';
import { arrowMarker, clip, svgEl, text, tooltip } from './svg';

export interface DrillState {
  scope: string;
  expanded: string[];
  showShapeOps: boolean;
}

/** Room right of the layout for the shape labels of the rightmost edges, px. */
const LABEL_ROOM = 150;

const shape = (t: ViewTensor) => (t.shape ? `[${t.shape.join(', ')}]` : '?');

function crumbs(scope: string): { label: string; scope: string }[] {
  if (scope.startsWith('#block.'))
    return [
      { label: 'graph', scope: '' },
      { label: `block ${scope.slice('#block.'.length)} (found by pattern)`, scope },
    ];
  const out = [{ label: 'graph', scope: '' }];
  let path = '';
  for (const seg of scope.split('/').filter(Boolean)) {
    path += `/${seg}`;
    out.push({ label: seg, scope: path });
  }
  return out;
}

export class DrillDown {
  readonly element = el('section', 'drilldown');
  private readonly header = el('div', 'row drill-header');
  private readonly canvas = el('div', 'drill-canvas');
  private readonly details = el('div', 'drill-details');
  private zoom = 1;
  private view: GraphView | null = null;

  constructor(
    private state: DrillState,
    private readonly request: (s: DrillState) => void,
  ) {
    const body = el('div', 'drill-body');
    body.append(this.canvas, this.details);
    this.element.append(el('h2', '', 'Operators'), this.header, body);
  }

  /** Shows a laid-out view (null while it is being computed); a view wider than the canvas starts fitted. */
  show(view: GraphView | null, state: DrillState, status: string): void {
    this.state = state;
    this.view = view;
    if (view) this.zoom = Math.min(1, Math.max(0.4, this.fit()));
    this.drawHeader(status);
    this.draw();
  }

  private drawHeader(status: string): void {
    this.header.replaceChildren();
    const nav = el('nav', 'crumbs');
    nav.setAttribute('aria-label', 'Scope');
    for (const [i, c] of crumbs(this.state.scope).entries()) {
      if (i) nav.append(el('span', 'muted', ' / '));
      const a = el('a', 'crumb', c.label);
      a.setAttribute('href', '#');
      a.addEventListener(
        'click',
        (e) => (e.preventDefault(), this.request({ ...this.state, scope: c.scope, expanded: [] })),
      );
      nav.append(a);
    }
    const shapeOps = el('vscode-checkbox', 'shape-ops', 'Shape arithmetic');
    if (this.state.showShapeOps) shapeOps.setAttribute('checked', '');
    shapeOps.addEventListener('change', (e) =>
      this.request({ ...this.state, showShapeOps: (e.target as HTMLInputElement).checked }),
    );
    const zoom = (f: number, label: string, title: string) => {
      const b = el('vscode-button', 'zoom', label);
      b.setAttribute('appearance', 'icon');
      b.setAttribute('aria-label', title);
      b.title = title;
      b.addEventListener('click', () => {
        this.zoom = f === 0 ? this.fit() : Math.min(3, Math.max(0.1, this.zoom * f));
        this.draw();
      });
      return b;
    };
    this.header.append(
      nav,
      el('span', 'muted drill-status', status),
      shapeOps,
      zoom(1 / 1.25, '−', 'Zoom out'),
      zoom(1.25, '+', 'Zoom in'),
      zoom(0, '⤢', 'Fit width'),
    );
  }

  private fit(): number {
    const w = (this.view?.width ?? 1) + LABEL_ROOM;
    const available = this.canvas.clientWidth || this.element.clientWidth || 800;
    return Math.min(1.5, Math.max(0.1, (available - 8) / w));
  }

  private draw(): void {
    this.canvas.replaceChildren();
    const v = this.view;
    if (!v) return;
    if (v.note) this.canvas.append(el('p', 'muted', v.note));
    const w = v.width + LABEL_ROOM;
    const svg = svgEl(
      'svg',
      {
        viewBox: `0 0 ${w} ${v.height}`,
        width: Math.ceil(w * this.zoom),
        height: Math.ceil(v.height * this.zoom),
        role: 'img',
        'aria-label': `Operators under ${v.scope || 'the graph root'}`,
      },
      'graph',
    );
    const defs = svgEl('defs');
    defs.append(arrowMarker('drill-arrow', 'arrowhead'));
    svg.append(defs);
    for (const c of [...v.clusters].sort((a, b) => b.width * b.height - a.width * a.height)) {
      const g = svgEl('g', { 'data-cluster': c.id }, 'cluster');
      g.append(
        svgEl('rect', { x: c.x, y: c.y, width: c.width, height: c.height, rx: 6 }),
        text(c.x + 8, c.y + 14, `▾ ${c.label}`, 'cluster-title'),
      );
      tooltip(g, 'Click the title to collapse');
      const path = c.id.slice('cluster:'.length);
      g.querySelector('text')!.addEventListener('click', () =>
        this.request({
          ...this.state,
          expanded: this.state.expanded.filter((e) => e !== path && !e.startsWith(path + '/')),
        }),
      );
      svg.append(g);
    }
    for (const e of v.edges) {
      if (e.points.length < 2) continue;
      svg.append(
        svgEl(
          'path',
          {
            d: 'M ' + e.points.map((p) => `${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' L '),
            'marker-end': 'url(#drill-arrow)',
          },
          'edge',
        ),
      );
      if (e.label) {
        const mid = e.points[Math.floor(e.points.length / 2)];
        svg.append(text(mid.x + 4, mid.y - 2, clip(e.label, 40), 'edge-label'));
      }
    }
    for (const n of v.nodes) svg.append(this.node(n));
    this.canvas.append(svg);
  }

  private node(n: ViewNode): SVGGElement {
    const g = svgEl(
      'g',
      { tabindex: 0, role: 'button', 'data-node': n.id, 'aria-label': `${n.kind} ${n.label} ${n.sublabel}` },
      `gnode kind-${n.kind}`,
    );
    const rx = n.kind === 'input' || n.kind === 'output' ? n.height / 2 : 4;
    g.append(svgEl('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx }));
    const cx = n.x + n.width / 2;
    g.append(text(cx, n.y + (n.sublabel ? 16 : 18), clip(n.label, 40), 'gnode-label', 'middle'));
    if (n.sublabel) g.append(text(cx, n.y + 31, clip(n.sublabel, 44), 'gnode-sub', 'middle'));
    const io = n.attributes.map(([k, v]) => `${k} ${v}`);
    tooltip(
      g,
      n.kind === 'scope'
        ? `${n.name}\n${n.nodeCount} operators: click to open${io.length ? '\n' + io.slice(0, 12).join('\n') : ''}`
        : n.name,
    );
    const activate = () => {
      if (n.kind === 'scope') this.request({ ...this.state, expanded: [...this.state.expanded, n.name] });
      else this.showDetails(n);
    };
    g.addEventListener('click', activate);
    g.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), activate()));
    return g;
  }

  private showDetails(n: ViewNode): void {
    this.details.replaceChildren();
    this.details.append(el('h3', '', n.kind === 'op' ? n.label : n.kind), el('div', 'mono small', n.name));
    const table = (title: string, rows: ViewTensor[]) => {
      if (!rows.length) return;
      const t = el('table', 'figures small');
      t.append(el('caption', '', title));
      for (const r of rows) {
        const tr = el('tr');
        tr.append(
          el('td', 'mono', clip(r.name, 48)),
          el('td', '', `${r.dtype ?? '?'} ${shape(r)}`),
          el('td', 'muted', r.initializer ? 'weight' : ''),
        );
        t.append(tr);
      }
      this.details.append(t);
    };
    table('Inputs', n.inputs);
    table('Outputs', n.outputs);
    if (n.attributes.length) {
      const t = el('table', 'figures small');
      t.append(el('caption', '', 'Attributes'));
      for (const [k, v] of n.attributes) {
        const tr = el('tr');
        tr.append(el('th', '', k), el('td', 'mono', v));
        t.append(tr);
      }
      this.details.append(t);
    }
  }
}
