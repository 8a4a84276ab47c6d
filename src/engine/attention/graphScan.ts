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
 *
 * The wiring comes from the shared graph index (graph/graphIndex.ts); attributes and the sites'
 * nodes are read from the decoded model beside it, since capture copies and edits that model.
 */
import { constChecker, type GNode, type GraphIndex, initializerProtos, isStandard } from '../onnx/graphIndex';
import { onnx, toNumber } from '../onnx/onnxFile';
import { findLastResidual, residualAdd } from '../onnx/residual';
import { LINEAR } from '../onnx/ops';

type Node = onnx.INodeProto;

/** The protos behind an index's nodes, by position: sites keep theirs (capture names and copies them). */
const protosOf = (model: onnx.IModelProto): Node[] => model.graph?.node ?? [];

function attr(node: Node, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function attrInt(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && a.i !== null && a.i !== undefined ? toNumber(a.i) : fallback;
}

function attrFloat(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && typeof a.f === 'number' ? a.f : fallback;
}

const isMs = (n: GNode) => n.domain === 'com.microsoft';

/** Layer index carried by a node name (`layers.3`, `h.3`, `layer_3`, `blocks.3`), if any. */
function layerFromName(name: string | null | undefined): number | undefined {
  const m = /(?:^|[/._])(?:layers?|h|blocks?|decoder_layers?)[._/](\d+)(?:[/._]|$)/.exec(name ?? '');
  return m ? Number(m[1]) : undefined;
}

type FusedOp = 'GroupQueryAttention' | 'MultiHeadAttention' | 'Attention';

interface SoftmaxSite {
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

/** A site and its node's position in graph order. */
type Placed<T> = { site: T; at: number };

/** Unfused attention Softmaxes, in layer order; `g` indexes `model`. */
export function findSoftmaxSites(g: GraphIndex, model: onnx.IModelProto): SoftmaxSite[] {
  const protos = protosOf(model);
  const found: Placed<SoftmaxSite>[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Softmax' || !isStandard(n)) continue;
    // The default axis changed at opset 13 (the last axis; before: flatten from axis 1).
    const axis = attrInt(protos[n.index], 'axis', (g.opset ?? 17) >= 13 ? -1 : 1);
    if (axis !== -1 && axis !== 3) continue;
    const out = n.outputs[0];
    if (out && feedsMatMul(g, out, 3))
      found.push({ site: { kind: 'softmax', node: protos[n.index], probs: out }, at: n.index });
  }
  return sortByLayer(found);
}

/** True when `tensor` reaches a MatMul/Einsum (the probabilities times V) within `hops` pass-through ops. */
function feedsMatMul(g: GraphIndex, tensor: string, hops: number): boolean {
  for (const c of (g.consumers.get(tensor) ?? []).map((i) => g.nodes[i])) {
    if (c.op === 'MatMul' || c.op === 'Einsum') return true;
    if (hops > 0 && ['Cast', 'Dropout', 'Identity', 'Where', 'Reshape'].includes(c.op)) {
      if (feedsMatMul(g, c.outputs[0] ?? '', hops - 1)) return true;
    }
  }
  return false;
}

/** Fused attention operators, in layer order; each entry says how to get its Q and K. `g` indexes `model`. */
export function findFusedSites(g: GraphIndex, model: onnx.IModelProto): { sites: FusedSite[]; unsupported: string[] } {
  const protos = protosOf(model);
  const found: Placed<FusedSite>[] = [];
  const unsupported: string[] = [];
  for (const gn of g.nodes) {
    const n = protos[gn.index];
    const at = gn.index;
    const inputs = gn.inputs;
    const presentKey = gn.outputs[1] || `glassbox/present_key/${at}`;
    const base = {
      kind: 'fused' as const,
      node: n,
      query: inputs[0] ?? '',
      presentKey,
      scale: attrFloat(n, 'scale', 0),
      softcap: attrFloat(n, 'softcap', 0),
      window: -1,
    };
    if (gn.op === 'GroupQueryAttention' && isMs(gn)) {
      const numHeads = attrInt(n, 'num_heads', 0);
      const kvHeads = attrInt(n, 'kv_num_heads', numHeads);
      const rotary =
        attrInt(n, 'do_rotary', 0) === 1
          ? { cos: inputs[7] ?? '', sin: inputs[8] ?? '', interleaved: attrInt(n, 'rotary_interleaved', 0) === 1 }
          : undefined;
      if (rotary && (!rotary.cos || !rotary.sin)) unsupported.push(`${n.name}: do_rotary without cos/sin caches`);
      else
        found.push({
          at,
          site: {
            ...base,
            op: 'GroupQueryAttention',
            queryRank: 3,
            packedHeads: inputs[1] ? undefined : numHeads + 2 * kvHeads,
            numHeads,
            kvHeads,
            window: attrInt(n, 'local_window_size', -1),
            rotary,
          },
        });
    } else if (gn.op === 'MultiHeadAttention' && isMs(gn)) {
      const numHeads = attrInt(n, 'num_heads', 0);
      if (!inputs[1]) unsupported.push(`${n.name}: MultiHeadAttention with packed QKV`);
      else found.push({ at, site: { ...base, op: 'MultiHeadAttention', queryRank: 3, numHeads, kvHeads: numHeads } });
    } else if (gn.op === 'Attention' && isStandard(gn)) {
      const numHeads = attrInt(n, 'q_num_heads', 0);
      found.push({
        at,
        site: {
          ...base,
          op: 'Attention',
          queryRank: numHeads > 0 ? 3 : 4,
          numHeads,
          kvHeads: attrInt(n, 'kv_num_heads', numHeads),
        },
      });
    } else if (gn.op === 'Attention' && isMs(gn)) {
      unsupported.push(`${n.name || 'Attention'} (com.microsoft Attention projects Q and K inside the op)`);
    }
  }
  return { sites: sortByLayer(found), unsupported };
}

/** Graph order, unless every site's name carries a distinct layer index. */
function sortByLayer<T extends AttentionSite>(found: Placed<T>[]): T[] {
  const layers = found.map((f) => layerFromName(f.site.node.name));
  const named = layers.every((l) => l !== undefined) && new Set(layers).size === layers.length;
  const key = (f: Placed<T>, i: number) => (named ? layers[i]! : f.at);
  return found
    .map((f, i) => ({ s: f.site, k: key(f, i) }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.s);
}

/**
 * The residual stream entering each layer, then the last layer's output (numLayers + 1 names),
 * or a sentence saying why it could not be found.
 */
export function findResidualStream(g: GraphIndex, sites: AttentionSite[], logits: string): string[] | string {
  const isConst = constChecker(g);
  // 1. The last layer's output, before the final norm.
  const last = findLastResidual(g, logits);
  if (!last)
    return 'no residual Add found between the last layer and the logits (a fused Skip…Norm or an unusual final block)';
  // 2. Back along the skip connections: the skip input was computed before the branch it feeds.
  const producerOf = (t: string) => {
    const p = g.producer.get(t);
    return p === undefined ? undefined : g.nodes[p];
  };
  const chain = [last];
  for (let cur = last; ;) {
    const p = producerOf(cur);
    if (!residualAdd(p, isConst)) break;
    const [a, b] = p!.inputs;
    const at = (t: string) => g.producer.get(t) ?? -1;
    cur = at(a) <= at(b) ? a : b;
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
      stack.push(...(producerOf(t)?.inputs ?? []));
    }
    inputs.push(best);
  }
  if (inputs.some((i, l) => i < 0 || (l > 0 && i <= inputs[l - 1])) || inputs[inputs.length - 1] >= chain.length - 1) {
    return 'the residual stream could not be lined up with the attention layers';
  }
  return [...inputs.map((i) => chain[i]), last];
}

interface LensGraph {
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
export function extractLensGraph(
  g: GraphIndex,
  model: onnx.IModelProto,
  residual: string,
  logits: string,
): LensGraph | string {
  const isConst = constChecker(g);
  const protos = protosOf(model);
  const initProtos = initializerProtos(model);
  const forward = new Set<number>();
  const stack = [residual];
  while (stack.length) {
    for (const c of g.consumers.get(stack.pop()!) ?? []) {
      if (forward.has(c)) continue;
      forward.add(c);
      stack.push(...g.nodes[c].outputs.filter(Boolean));
    }
  }
  const chosen = new Set<number>();
  const inits = new Map<string, onnx.ITensorProto>();
  const back = [logits];
  const visited = new Set<string>();
  while (back.length) {
    const t = back.pop()!;
    if (!t || visited.has(t) || t === residual) continue;
    visited.add(t);
    const init = initProtos.get(t);
    if (init) {
      inits.set(t, init);
      continue;
    }
    const p = g.producer.get(t);
    if (p === undefined || (!forward.has(p) && !isConst(t)))
      return `the final norm reads ${t}, which comes from elsewhere in the graph`;
    chosen.add(p);
    back.push(...g.nodes[p].inputs);
  }
  const nodes = protos.filter((_, i) => chosen.has(i));
  if (!nodes.some((n) => LINEAR.has(n.opType ?? ''))) return 'no LM-head MatMul after the final norm';
  return { input: residual, output: logits, nodes, initializers: [...inits.values()] };
}
