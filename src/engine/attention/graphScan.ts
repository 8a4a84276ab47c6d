/**
 * Finds attention and the residual stream in a decoder's ONNX graph from operator types and graph
 * structure, not node names, so exports from other tools (GPT-2 style `transformer.h.N.attn`,
 * flattened names, hand-built graphs) work like Optimum's `model.layers.N.self_attn`.
 *
 * - Unfused attention: a Softmax over the last axis whose output is multiplied by V (MatMul).
 * - Fused attention: GroupQueryAttention / MultiHeadAttention (com.microsoft) or ONNX Attention;
 *   Q after RoPE and the present K are read, and softmax(QKᵀ·scale + causal mask) is recomputed.
 * - Residual stream: walking back from the logits through the final norm to the last residual
 *   Add (two computed inputs), then along the skip inputs of the residual Adds.
 */
import { onnx, toNumber } from '../graph/onnxFile';

type Node = onnx.INodeProto;

export interface GraphIndex {
  nodes: Node[];
  order: Map<Node, number>;
  producer: Map<string, Node>;
  consumers: Map<string, Node[]>;
  inits: Map<string, onnx.ITensorProto>;
  inputs: Set<string>;
  outputs: Set<string>;
  opset: number;
}

export function indexGraph(model: onnx.IModelProto): GraphIndex {
  const g = model.graph!;
  const nodes = g.node ?? [];
  const producer = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  const order = new Map<Node, number>();
  nodes.forEach((n, i) => {
    order.set(n, i);
    for (const o of n.output ?? []) if (o) producer.set(o, n);
    for (const x of n.input ?? []) {
      if (!x) continue;
      const list = consumers.get(x);
      if (list) list.push(n);
      else consumers.set(x, [n]);
    }
  });
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    nodes,
    order,
    producer,
    consumers,
    inits: new Map((g.initializer ?? []).map((t) => [t.name ?? '', t])),
    inputs: new Set((g.input ?? []).map((v) => v.name ?? '')),
    outputs: new Set((g.output ?? []).map((v) => v.name ?? '')),
    opset: toNumber(opset?.version ?? 17),
  };
}

export function attr(node: Node, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && a.i !== null && a.i !== undefined ? toNumber(a.i) : fallback;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && typeof a.f === 'number' ? a.f : fallback;
}

const isStd = (n: Node) => !n.domain || n.domain === 'ai.onnx';
const isMs = (n: Node) => n.domain === 'com.microsoft';

/** A tensor that does not depend on any graph input (initializers, Constant nodes and what follows). */
export function constChecker(idx: GraphIndex): (tensor: string) => boolean {
  const memo = new Map<string, boolean>();
  const check = (t: string): boolean => {
    if (!t) return true;
    const known = memo.get(t);
    if (known !== undefined) return known;
    let result: boolean;
    if (idx.inits.has(t)) result = true;
    else if (idx.inputs.has(t)) result = false;
    else {
      const p = idx.producer.get(t);
      memo.set(t, false); // cycle guard (graphs are acyclic, but be safe)
      result = p ? (p.input ?? []).every(check) : false;
    }
    memo.set(t, result);
    return result;
  };
  return check;
}

/** Layer index carried by a node name (`layers.3`, `h.3`, `layer_3`, `blocks.3`), if any. */
export function layerFromName(name: string | null | undefined): number | undefined {
  const m = /(?:^|[/._])(?:layers?|h|blocks?|decoder_layers?)[._/](\d+)(?:[/._]|$)/.exec(name ?? '');
  return m ? Number(m[1]) : undefined;
}

export type FusedOp = 'GroupQueryAttention' | 'MultiHeadAttention' | 'Attention';

export interface SoftmaxSite {
  kind: 'softmax';
  node: Node;
  /** Softmax output [batch, heads, query, key]. */
  probs: string;
}

export interface FusedSite {
  kind: 'fused';
  node: Node;
  op: FusedOp;
  /** Q as the op sees it: after RoPE unless `rotary` is set. */
  query: string;
  /** 3-D [batch, seq, heads·headDim] (packed QKV when `packedHeads` is set) or 4-D [batch, heads, seq, headDim]. */
  queryRank: 3 | 4;
  /** Total heads in a packed QKV row (GQA with no separate key input), else undefined. */
  packedHeads?: number;
  /** Present key output [batch, kvHeads, past + seq, headDim]; named by us when the op left it unnamed. */
  presentKey: string;
  numHeads: number;
  kvHeads: number;
  /** Attribute `scale`; 0 means 1/√headDim. */
  scale: number;
  softcap: number;
  /** GQA `local_window_size`: a query sees itself and this many keys before it; -1: no window. */
  window: number;
  /** GQA with do_rotary=1: RoPE happens inside the op, so it is applied to Q here. */
  rotary?: { cos: string; sin: string; interleaved: boolean };
}

export type AttentionSite = SoftmaxSite | FusedSite;

/** Unfused attention Softmaxes, in layer order. */
export function findSoftmaxSites(idx: GraphIndex): SoftmaxSite[] {
  const sites: SoftmaxSite[] = [];
  for (const n of idx.nodes) {
    if (n.opType !== 'Softmax' || !isStd(n)) continue;
    const axis = attrInt(n, 'axis', idx.opset >= 13 ? -1 : 1);
    if (axis !== -1 && axis !== 3) continue;
    const out = n.output?.[0];
    if (out && feedsMatMul(idx, out, 3)) sites.push({ kind: 'softmax', node: n, probs: out });
  }
  return sortByLayer(idx, sites);
}

/** True when `tensor` reaches a MatMul/Einsum (the probabilities times V) within `hops` pass-through ops. */
function feedsMatMul(idx: GraphIndex, tensor: string, hops: number): boolean {
  for (const c of idx.consumers.get(tensor) ?? []) {
    if (c.opType === 'MatMul' || c.opType === 'Einsum') return true;
    if (hops > 0 && ['Cast', 'Dropout', 'Identity', 'Where', 'Reshape'].includes(c.opType ?? '')) {
      if (feedsMatMul(idx, c.output?.[0] ?? '', hops - 1)) return true;
    }
  }
  return false;
}

/** Fused attention operators, in layer order; each entry says how to get its Q and K. */
export function findFusedSites(idx: GraphIndex): { sites: FusedSite[]; unsupported: string[] } {
  const sites: FusedSite[] = [];
  const unsupported: string[] = [];
  idx.nodes.forEach((n, i) => {
    const inputs = n.input ?? [];
    const presentKey = n.output?.[1] || `glassbox/present_key/${i}`;
    const base = { kind: 'fused' as const, node: n, query: inputs[0] ?? '', presentKey, scale: attrFloat(n, 'scale', 0), softcap: attrFloat(n, 'softcap', 0), window: -1 };
    if (n.opType === 'GroupQueryAttention' && isMs(n)) {
      const numHeads = attrInt(n, 'num_heads', 0);
      const kvHeads = attrInt(n, 'kv_num_heads', numHeads);
      const rotary = attrInt(n, 'do_rotary', 0) === 1 ? { cos: inputs[7] ?? '', sin: inputs[8] ?? '', interleaved: attrInt(n, 'rotary_interleaved', 0) === 1 } : undefined;
      if (rotary && (!rotary.cos || !rotary.sin)) unsupported.push(`${n.name}: do_rotary without cos/sin caches`);
      else sites.push({ ...base, op: 'GroupQueryAttention', queryRank: 3, packedHeads: inputs[1] ? undefined : numHeads + 2 * kvHeads, numHeads, kvHeads, window: attrInt(n, 'local_window_size', -1), rotary });
    } else if (n.opType === 'MultiHeadAttention' && isMs(n)) {
      const numHeads = attrInt(n, 'num_heads', 0);
      if (!inputs[1]) unsupported.push(`${n.name}: MultiHeadAttention with packed QKV`);
      else sites.push({ ...base, op: 'MultiHeadAttention', queryRank: 3, numHeads, kvHeads: numHeads });
    } else if (n.opType === 'Attention' && isStd(n)) {
      const numHeads = attrInt(n, 'q_num_heads', 0);
      sites.push({ ...base, op: 'Attention', queryRank: numHeads > 0 ? 3 : 4, numHeads, kvHeads: attrInt(n, 'kv_num_heads', numHeads) });
    } else if (n.opType === 'Attention' && isMs(n)) {
      unsupported.push(`${n.name || 'Attention'} (com.microsoft Attention projects Q and K inside the op)`);
    }
  });
  return { sites: sortByLayer(idx, sites), unsupported };
}

/** Graph order, unless every site's name carries a distinct layer index. */
function sortByLayer<T extends AttentionSite>(idx: GraphIndex, sites: T[]): T[] {
  const layers = sites.map((s) => layerFromName(s.node.name));
  const named = layers.every((l) => l !== undefined) && new Set(layers).size === layers.length;
  const key = (s: T, i: number) => (named ? layers[i]! : idx.order.get(s.node)!);
  return sites.map((s, i) => ({ s, k: key(s, i) })).sort((a, b) => a.k - b.k).map((x) => x.s);
}

/** An Add of two computed tensors: a residual connection (bias and epsilon Adds have a constant side). */
function residualAdd(node: Node | undefined, isConst: (t: string) => boolean): boolean {
  if (!node || node.opType !== 'Add' || !isStd(node)) return false;
  const [a, b] = node.input ?? [];
  return !!a && !!b && !isConst(a) && !isConst(b);
}

/**
 * The residual stream entering each layer, then the last layer's output (numLayers + 1 names),
 * or a sentence saying why it could not be found.
 */
/** The nearest residual Add above the logits: the last layer's output, before the final norm. */
export function findLastResidual(idx: GraphIndex, logits: string): string | undefined {
  const isConst = constChecker(idx);
  const seen = new Set<string>([logits]);
  const queue = [logits];
  while (queue.length) {
    const t = queue.shift()!;
    const p = idx.producer.get(t);
    if (!p) continue;
    if (residualAdd(p, isConst)) return t;
    for (const x of p.input ?? []) {
      if (x && !seen.has(x) && !isConst(x)) {
        seen.add(x);
        queue.push(x);
      }
    }
  }
  return undefined;
}

export function findResidualStream(idx: GraphIndex, sites: AttentionSite[], logits: string): string[] | string {
  const isConst = constChecker(idx);
  // 1. The last layer's output, before the final norm.
  const last = findLastResidual(idx, logits);
  if (!last) return 'no residual Add found between the last layer and the logits (a fused Skip…Norm or an unusual final block)';
  // 2. Back along the skip connections: the skip input was computed before the branch it feeds.
  const chain = [last];
  for (let cur = last; ; ) {
    const p = idx.producer.get(cur);
    if (!residualAdd(p, isConst)) break;
    const [a, b] = p!.input!;
    const at = (t: string) => (idx.producer.has(t) ? idx.order.get(idx.producer.get(t)!)! : -1);
    cur = at(a!) <= at(b!) ? a! : b!;
    chain.unshift(cur);
  }
  // 3. Each attention site reads the latest chain tensor above it: that layer's input.
  const pos = new Map(chain.map((t, i) => [t, i]));
  const inputs: number[] = [];
  for (const s of sites) {
    let best = -1;
    const stack = [...(s.node.input ?? [])];
    const visited = new Set<string>();
    while (stack.length) {
      const t = stack.pop()!;
      if (!t || visited.has(t) || isConst(t)) continue;
      visited.add(t);
      const i = pos.get(t);
      if (i !== undefined) {
        best = Math.max(best, i);
        continue;
      }
      stack.push(...(idx.producer.get(t)?.input ?? []));
    }
    inputs.push(best);
  }
  if (inputs.some((i, l) => i < 0 || (l > 0 && i <= inputs[l - 1])) || inputs[inputs.length - 1] >= chain.length - 1) {
    return 'the residual stream could not be lined up with the attention layers';
  }
  return [...inputs.map((i) => chain[i]), last];
}

export interface LensGraph {
  /** The last layer's residual output: the lens subgraph's input. */
  input: string;
  output: string;
  nodes: Node[];
  initializers: onnx.ITensorProto[];
}

/**
 * The final norm and LM head as their own graph: every node on a path from the last residual to
 * the logits, plus the constants they read (norm weights, the tied or separate LM-head matrix).
 */
export function extractLensGraph(idx: GraphIndex, residual: string, logits: string): LensGraph | string {
  const isConst = constChecker(idx);
  const forward = new Set<Node>();
  const stack = [residual];
  while (stack.length) {
    for (const c of idx.consumers.get(stack.pop()!) ?? []) {
      if (forward.has(c)) continue;
      forward.add(c);
      stack.push(...(c.output ?? []).filter(Boolean));
    }
  }
  const chosen = new Set<Node>();
  const inits = new Map<string, onnx.ITensorProto>();
  const back = [logits];
  const visited = new Set<string>();
  while (back.length) {
    const t = back.pop()!;
    if (!t || visited.has(t) || t === residual) continue;
    visited.add(t);
    const init = idx.inits.get(t);
    if (init) {
      inits.set(t, init);
      continue;
    }
    const p = idx.producer.get(t);
    if (!p || (!forward.has(p) && !isConst(t))) return `the final norm reads ${t}, which comes from elsewhere in the graph`;
    chosen.add(p);
    back.push(...(p.input ?? []));
  }
  const nodes = idx.nodes.filter((n) => chosen.has(n));
  if (!nodes.some((n) => ['MatMul', 'Gemm', 'MatMulNBits', 'MatMulInteger'].includes(n.opType ?? ''))) return 'no LM-head MatMul after the final norm';
  return { input: residual, output: logits, nodes, initializers: [...inits.values()] };
}
