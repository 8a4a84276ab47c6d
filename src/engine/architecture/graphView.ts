/**
 * The drill-down: the raw operators under one name scope, laid out with dagre. Sub-scopes stay
 * collapsed into one box each until the caller lists them in `expanded`, and a level with too many
 * loose operators is cut into numbered runs, so a view never holds more than a few hundred boxes
 * whatever the size of the graph. Constant nodes and the Cast/Identity nodes that only reshape a
 * weight are folded into their consumers (weights appear as a second line on the operator that
 * uses them); shape arithmetic (Shape → Gather → Concat) is hidden unless asked for.
 */
import type { Dim, GraphView, ViewCluster, ViewEdge, ViewNode, ViewTensor } from '../../common/architectureTypes';
import type { AttrValue, GInit, GNode, GraphIndex } from '../onnx/graphIndex';
import { type LayoutBox, layoutNested } from './graphLayout';
import type { ShapeInfo } from './shapes';

/** Loose operators at one level beyond which they are grouped into runs. */
const MAX_LOOSE = 150;
/** Boundary inputs/outputs drawn individually before the rest are merged. */
const MAX_BOUNDARY = 10;
const CHAR_W = 6.6; // px per character at the webview's 11px monospace labels

const SHORT: Record<string, string> = {
  float32: 'fp32',
  float16: 'fp16',
  bfloat16: 'bf16',
  int64: 'i64',
  int32: 'i32',
  int8: 'i8',
  uint8: 'u8',
  bool: 'bool',
};

const WEIGHT_PASS = new Set(['Identity', 'Cast', 'DequantizeLinear', 'Transpose']);

/** Maps a tensor to the initializer it is a view of (through Identity, Cast, DequantizeLinear, Transpose), or null. */
function weightResolver(g: GraphIndex): (t: string | undefined) => GInit | null {
  const memo = new Map<string, GInit | null>();
  const resolve = (t: string | undefined, depth = 0): GInit | null => {
    if (!t) return null;
    const init = g.inits.get(t);
    if (init) return init;
    if (memo.has(t)) return memo.get(t)!;
    const p = g.producer.get(t);
    const n = p === undefined ? undefined : g.nodes[p];
    const r = n && WEIGHT_PASS.has(n.op) && depth < 4 ? resolve(n.inputs[0], depth + 1) : null;
    memo.set(t, r);
    return r;
  };
  return resolve;
}

/** Shape bookkeeping (Shape → Gather → Unsqueeze → Concat): every output a small integer tensor. */
function isShapeArithmetic(n: GNode, shapes: Map<string, ShapeInfo>): boolean {
  if (n.op === 'Shape' || n.op === 'Size') return true;
  return (
    n.outputs.length > 0 &&
    n.outputs.every((o) => {
      const s = shapes.get(o);
      return !!s && (s.dtype === 'int64' || s.dtype === 'int32') && !!s.shape && s.shape.length <= 1;
    })
  );
}

function scopePath(n: GNode): string {
  return n.scope.length ? '/' + n.scope.join('/') : '';
}

function within(path: string, scope: string): boolean {
  return scope === '' || path === scope || path.startsWith(scope + '/');
}

function clipName(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function shapeText(shape: Dim[] | null | undefined): string {
  return shape ? `[${shape.join(', ')}]` : '';
}

function attrText(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.slice(0, 16).join(', ')}${v.length > 16 ? ', …' : ''}]`;
  if (typeof v === 'object')
    return `tensor ${SHORT[v.dtype] ?? v.dtype}${shapeText(v.dims)}${v.values && v.values.length <= 8 ? ' = ' + v.values.join(', ') : ''}`;
  return String(v);
}

/** Lays out the operators under `scope` with the listed sub-scopes (and runs, `scope/#k`) expanded. */
export function buildGraphView(
  g: GraphIndex,
  shapes: Map<string, ShapeInfo>,
  scope: string,
  expanded: string[],
  showShapeOps = false,
  members?: number[],
): GraphView {
  const start = performance.now();
  const open = new Set(expanded);
  // `members`: a block found by pattern (`#block.N`), whose nodes share no name scope
  const inView = members ? members.map((i) => g.nodes[i]) : g.nodes.filter((n) => within(scopePath(n), scope));
  const weight = weightResolver(g);
  const hidden = (n: GNode) =>
    n.op === 'Constant' || weight(n.outputs[0]) !== null || (!showShapeOps && isShapeArithmetic(n, shapes));
  const visible = inView.filter((n) => !hidden(n));
  const hiddenOps = inView.length - visible.length;
  const depth = scope === '' || members ? 0 : scope.split('/').filter(Boolean).length;

  // Which box each node is drawn in: itself, a collapsed scope, or a collapsed run of loose nodes.
  const itemOf = new Map<number, string>();
  const clusterOf = new Map<string, string | null>(); // item or cluster id → enclosing cluster
  const clusters = new Map<string, string>(); // cluster id → label
  const scopeCount = new Map<string, number>();
  const looseByLevel = new Map<string, GNode[]>();
  for (const n of visible) {
    let level = scope;
    let parent: string | null = null;
    let d = depth;
    let item: string | null = null;
    while (d < n.scope.length) {
      const child = `${level}/${n.scope[d]}`;
      if (!open.has(child)) {
        item = `scope:${child}`;
        scopeCount.set(child, (scopeCount.get(child) ?? 0) + 1);
        break;
      }
      clusters.set(`cluster:${child}`, n.scope[d]);
      clusterOf.set(`cluster:${child}`, parent);
      parent = `cluster:${child}`;
      level = child;
      d++;
    }
    if (item) {
      clusterOf.set(item, parent);
      itemOf.set(n.index, item);
    } else {
      const list = looseByLevel.get(level) ?? [];
      list.push(n);
      looseByLevel.set(level, list);
      clusterOf.set(`node:${n.index}`, parent);
      itemOf.set(n.index, `node:${n.index}`);
    }
  }
  // A scope holding a single operator (q_proj/MatMul) is drawn as that operator.
  const singletons = new Set<number>();
  for (const n of visible) {
    const item = itemOf.get(n.index)!;
    if (!item.startsWith('scope:') || scopeCount.get(item.slice('scope:'.length)) !== 1) continue;
    clusterOf.set(`node:${n.index}`, clusterOf.get(item) ?? null);
    itemOf.set(n.index, `node:${n.index}`);
    singletons.add(n.index);
  }
  // Too many loose operators at one level: runs of `size`, each expandable as `level/#k`.
  const runs = new Map<string, { label: string; count: number }>();
  for (const [level, list] of looseByLevel) {
    if (list.length <= MAX_LOOSE) continue;
    const size = Math.max(100, Math.ceil(list.length / 100));
    const parent = clusterOf.get(`node:${list[0].index}`) ?? null;
    for (let k = 0; k * size < list.length; k++) {
      const run = `${level}/#${k}`;
      const members = list.slice(k * size, (k + 1) * size);
      const label = `nodes ${k * size + 1}–${k * size + members.length}`;
      if (open.has(run)) {
        clusters.set(`cluster:${run}`, label);
        clusterOf.set(`cluster:${run}`, parent);
        for (const n of members) clusterOf.set(`node:${n.index}`, `cluster:${run}`);
        continue;
      }
      runs.set(`scope:${run}`, { label, count: members.length });
      clusterOf.set(`scope:${run}`, parent);
      for (const n of members) {
        itemOf.set(n.index, `scope:${run}`);
        clusterOf.delete(`node:${n.index}`);
      }
    }
  }

  const tensor = (name: string): ViewTensor => {
    const init = weight(name);
    const s = shapes.get(name);
    return {
      name,
      dtype: init?.dtype ?? s?.dtype ?? null,
      shape: init ? init.dims : (s?.shape ?? null),
      initializer: !!init,
    };
  };
  const nodes = new Map<string, Omit<ViewNode, 'x' | 'y'>>();
  const box = (label: string, sublabel: string) => ({
    width: Math.max(64, Math.ceil(Math.max(label.length, sublabel.length) * CHAR_W) + 20),
    height: sublabel ? 40 : 28,
  });
  for (const n of visible) {
    const id = itemOf.get(n.index)!;
    if (nodes.has(id)) continue;
    if (id.startsWith('node:')) {
      const weights = n.inputs.flatMap((i) => {
        const t = weight(i);
        return t && t.dims.reduce((a, b) => a * b, 1) > 1 ? [`${shapeText(t.dims)} ${SHORT[t.dtype] ?? t.dtype}`] : [];
      });
      const sublabel = weights.slice(0, 2).join(' · ') + (weights.length > 2 ? ' …' : '');
      const label = singletons.has(n.index) ? `${n.scope[n.scope.length - 1]}/${n.op}` : n.op;
      nodes.set(id, {
        id,
        kind: 'op',
        label,
        sublabel,
        name: n.name,
        parent: clusterOf.get(id) ?? null,
        ...box(label, sublabel),
        inputs: n.inputs.filter(Boolean).map(tensor),
        outputs: n.outputs.filter(Boolean).map(tensor),
        attributes: Object.entries(n.attrs).map(([k, v]) => [k, attrText(v)]),
        nodeCount: 1,
      });
    } else {
      const run = runs.get(id);
      const path = id.slice('scope:'.length);
      const label = run ? run.label : path.split('/').pop()!;
      const count = run ? run.count : scopeCount.get(path)!;
      const sublabel = `${count.toLocaleString('en-US')} op${count === 1 ? '' : 's'} ▸`;
      nodes.set(id, {
        id,
        kind: 'scope',
        label,
        sublabel,
        name: path,
        parent: clusterOf.get(id) ?? null,
        ...box(label, sublabel),
        inputs: [],
        outputs: [],
        attributes: [],
        nodeCount: count,
      });
    }
  }

  // Edges between boxes; tensors from or to outside the view become boundary boxes.
  const edges = new Map<string, { from: string; to: string; label: string }>();
  const boundaryIn = new Map<string, string>();
  const boundaryOut = new Map<string, string>();
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const addEdge = (from: string, to: string, t: string) => {
    const key = `${from}→${to}`;
    if (from !== to && !edges.has(key)) edges.set(key, { from, to, label: shapeText(shapes.get(t)?.shape) });
  };
  const boundary = (map: Map<string, string>, kind: 'input' | 'output', t: string): string => {
    const known = map.get(t);
    if (known) return known;
    const id = map.size < MAX_BOUNDARY ? `${kind}:${t}` : `${kind}:…`;
    map.set(t, id);
    if (!nodes.has(id)) {
      // the tensor's own name, without the scope path and the exporter's `_output_0`
      const label = id.endsWith('…')
        ? `… more ${kind}s`
        : clipName(
            t
              .split('/')
              .slice(-2)
              .join('/')
              .replace(/_output_\d+$/, ''),
            32,
          );
      const sublabel = id.endsWith('…') ? '' : shapeText(shapes.get(t)?.shape);
      nodes.set(id, {
        id,
        kind,
        label,
        sublabel,
        name: t,
        parent: null,
        ...box(label, sublabel),
        inputs: [],
        outputs: [],
        attributes: [],
        nodeCount: 0,
      });
    }
    return id;
  };
  const viewIdx = new Set(visible.map((n) => n.index));
  for (const n of visible) {
    const to = itemOf.get(n.index)!;
    for (const t of n.inputs) {
      if (!t || weight(t)) continue;
      const p = g.producer.get(t);
      if (p !== undefined && viewIdx.has(p)) addEdge(itemOf.get(p)!, to, t);
      else if (p === undefined || !hidden(g.nodes[p])) addEdge(boundary(boundaryIn, 'input', t), to, t);
    }
    for (const t of n.outputs) {
      if (!t) continue;
      const outside =
        (g.consumers.get(t) ?? []).some((c) => !viewIdx.has(c) && !hidden(g.nodes[c])) || graphOutputs.has(t);
      if (outside) addEdge(itemOf.get(n.index)!, boundary(boundaryOut, 'output', t), t);
    }
  }
  // A tensor from or to outside that only touches collapsed scopes stays inside them (their tooltip
  // lists it); one that reaches a drawn operator is drawn. Its shape is on the boundary box, not the edge.
  const isBoundary = (id: string) => id.startsWith('input:') || id.startsWith('output:');
  const keep = new Set<string>();
  for (const e of edges.values()) {
    if (isBoundary(e.from) && nodes.get(e.to)?.kind === 'op') keep.add(e.from);
    if (isBoundary(e.to) && nodes.get(e.from)?.kind === 'op') keep.add(e.to);
  }
  const drawn = [...edges.values()].filter(
    (e) => (!isBoundary(e.from) || keep.has(e.from)) && (!isBoundary(e.to) || keep.has(e.to)),
  );
  for (const e of drawn) if (isBoundary(e.from) || isBoundary(e.to)) e.label = '';
  for (const e of edges.values()) {
    const inner = isBoundary(e.from) ? e.to : isBoundary(e.to) ? e.from : null;
    const node = inner ? nodes.get(inner) : undefined;
    if (node?.kind === 'scope' && !keep.has(isBoundary(e.from) ? e.from : e.to))
      node.attributes.push([
        isBoundary(e.from) ? 'reads' : 'writes',
        nodes.get(isBoundary(e.from) ? e.from : e.to)!.name,
      ]);
  }
  for (const id of [...nodes.keys()]) if (isBoundary(id) && !keep.has(id)) nodes.delete(id);
  return layout({
    scope,
    expanded,
    totalNodes: inView.length,
    hiddenOps,
    nodes,
    clusters,
    clusterOf,
    edges: drawn,
    start,
  });
}

interface Pending {
  scope: string;
  expanded: string[];
  totalNodes: number;
  hiddenOps: number;
  nodes: Map<string, Omit<ViewNode, 'x' | 'y'>>;
  clusters: Map<string, string>;
  clusterOf: Map<string, string | null>;
  edges: { from: string; to: string; label: string }[];
  start: number;
}

function layout(p: Pending): GraphView {
  const boxes: LayoutBox[] = [...p.nodes.values()].map((n) => ({
    id: n.id,
    width: n.width,
    height: n.height,
    parent: n.parent,
  }));
  const clusterParents = new Map([...p.clusters.keys()].map((id) => [id, p.clusterOf.get(id) ?? null]));
  const r = layoutNested(boxes, clusterParents, p.edges);
  const nodes: ViewNode[] = [...p.nodes.values()].map((n) => {
    const b = r.boxes.get(n.id)!;
    return { ...n, x: b.x, y: b.y };
  });
  const clusters: ViewCluster[] = [...p.clusters].map(([id, label]) => ({ id, label, ...r.boxes.get(id)! }));
  const edges: ViewEdge[] = r.edges.map((e) => ({
    from: e.from,
    to: e.to,
    label: p.edges[e.members[0]].label,
    points: e.points,
  }));
  return {
    scope: p.scope,
    expanded: p.expanded,
    totalNodes: p.totalNodes,
    nodes,
    clusters,
    edges,
    width: r.width,
    height: r.height,
    hiddenOps: p.hiddenOps,
    note: p.totalNodes === 0 ? `No operators under ${p.scope || 'the root'}.` : null,
    layoutMs: performance.now() - p.start,
  };
}
