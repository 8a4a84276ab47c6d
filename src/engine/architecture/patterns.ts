/**
 * Recognising decoder blocks by operator pattern when names say nothing (`matmul_21`, `wq_0`:
 * hand-written graphs, or graphs an optimizer renamed). A pre-norm decoder is a residual stream:
 * starting from the embedding, each Add that takes the stream and a branch computed from it ends
 * one branch. A branch holding a Softmax or a fused attention operator is attention; the next is
 * the MLP; together they make one block. Parameters used inside a branch get their layer, their
 * component and a role (q/k/v/o by width and order, gate/up/down by the activation).
 */
import type { GNode, GraphIndex } from '../onnx/graphIndex';
import { FUSED_ATTENTION, LINEAR } from '../onnx/ops';
import type { LogicalParam } from './params';
import type { Component } from './scopes';

const ACTIVATION = new Set(['Sigmoid', 'Silu', 'Gelu', 'FastGelu', 'QuickGelu', 'Erf', 'Tanh', 'Relu']);

export interface PatternBlocks {
  /** Node indices of each block's attention and MLP branches (norms included). */
  blocks: { attention: Set<number>; mlp: Set<number> }[];
  /** Component of every node in a block, for recognizeBlock. */
  componentOfNode: Map<number, Component>;
  layerOfNode: Map<number, number>;
}

/** The tensor the residual stream starts from: the embedding lookup's output, after any dequantizing ops. */
function streamStart(g: GraphIndex, embed: LogicalParam): string | null {
  const gather = embed.uses.find((u) => u.node.op === 'Gather' || u.node.op === 'GatherBlockQuantized');
  let t = gather?.node.outputs[0];
  for (let hop = 0; t && hop < 12; hop++) {
    const consumers = (g.consumers.get(t) ?? []).map((i) => g.nodes[i]);
    if (consumers.length >= 2 && consumers.some((n) => n.op === 'Add')) return t;
    if (consumers.length !== 1) return consumers.length ? t : null;
    t = consumers[0].outputs[0];
  }
  return null;
}

/** Nodes between `from` and `to`: ancestors of `to` that `from` reaches (shared mask/rotary nodes are left out). */
function branch(g: GraphIndex, from: string, to: string): Set<number> {
  const up = new Set<number>();
  const stack = [to];
  while (stack.length) {
    const t = stack.pop()!;
    if (t === from) continue;
    const p = g.producer.get(t);
    if (p === undefined || up.has(p)) continue;
    up.add(p);
    stack.push(...g.nodes[p].inputs.filter(Boolean));
  }
  const reached = new Set<number>();
  const queue = [from];
  while (queue.length) {
    const t = queue.shift()!;
    for (const c of g.consumers.get(t) ?? []) {
      if (!up.has(c) || reached.has(c)) continue;
      reached.add(c);
      queue.push(...g.nodes[c].outputs);
    }
  }
  return reached;
}

/** Splits the graph into blocks by following the residual stream; null when the pattern isn't there. */
export function blocksByPattern(g: GraphIndex, embed: LogicalParam | undefined): PatternBlocks | null {
  if (!embed) return null;
  let stream = streamStart(g, embed);
  const branches: { nodes: Set<number>; attention: boolean }[] = [];
  while (stream) {
    const s: string = stream;
    const add = (g.consumers.get(s) ?? [])
      .map((i) => g.nodes[i])
      .find(
        (n) =>
          n.op === 'Add' &&
          n.inputs.length === 2 &&
          n.inputs.some((x) => x !== s) &&
          g.producer.has(n.inputs.find((x) => x !== s)!),
      );
    if (!add) break;
    const nodes = branch(
      g,
      s,
      add.inputs.find((x) => x !== s)!,
    );
    if (![...nodes].some((i) => LINEAR.has(g.nodes[i].op))) break;
    branches.push({
      nodes,
      attention: [...nodes].some((i) => g.nodes[i].op === 'Softmax' || FUSED_ATTENTION.has(g.nodes[i].op)),
    });
    stream = add.outputs[0];
  }
  const blocks: PatternBlocks['blocks'] = [];
  for (let i = 0; i + 1 < branches.length; i += 2) {
    if (!branches[i].attention || branches[i + 1].attention) return null;
    blocks.push({ attention: branches[i].nodes, mlp: branches[i + 1].nodes });
  }
  if (blocks.length === 0) return null;
  const componentOfNode = new Map<number, Component>();
  const layerOfNode = new Map<number, number>();
  blocks.forEach((b, layer) => {
    for (const [set, comp] of [
      [b.attention, 'attention'],
      [b.mlp, 'mlp'],
    ] as const) {
      const firstLinear = Math.min(...[...set].filter((i) => LINEAR.has(g.nodes[i].op)));
      for (const i of set) {
        // the ops before the branch's first projection are its norm
        componentOfNode.set(i, i < firstLinear ? (comp === 'attention' ? 'norm1' : 'norm2') : comp);
        layerOfNode.set(i, layer);
      }
    }
  });
  return { blocks, componentOfNode, layerOfNode };
}

/** Gives the parameters used inside the blocks their layer, component and role. */
export function placeByPattern(g: GraphIndex, params: LogicalParam[], pb: PatternBlocks): void {
  for (const p of params) {
    const use = p.uses.find((u) => pb.layerOfNode.has(u.node.index));
    if (!use || p.outer) continue;
    p.layer = pb.layerOfNode.get(use.node.index)!;
    p.component = pb.componentOfNode.get(use.node.index) ?? null;
    if (p.slot === 'other' && p.shape.length === 1 && (p.component === 'norm1' || p.component === 'norm2'))
      p.slot = 'norm';
  }
  for (const [layer, b] of pb.blocks.entries()) {
    const linear = (set: Set<number>) =>
      params
        .filter((p) => p.layer === layer && p.slot === 'linear' && p.uses.some((u) => set.has(u.node.index)))
        .sort((a, c) => firstUse(a, set) - firstUse(c, set));
    const attn = linear(b.attention);
    const fused = [...b.attention].map((i) => g.nodes[i]).find((n) => FUSED_ATTENTION.has(n.op) || n.op === 'Softmax');
    const before = attn.filter((p) => firstUse(p, b.attention) < (fused?.index ?? Infinity));
    const after = attn.filter((p) => !before.includes(p));
    if (before.length === 1) before[0].role = 'qkv_proj';
    else before.forEach((p, k) => (p.role = ['q_proj', 'k_proj', 'v_proj'][k] ?? `proj_${k}`));
    after.forEach((p, k) => (p.role = k === 0 ? 'o_proj' : `proj_${k}`));
    const mlp = linear(b.mlp);
    const gate = mlp.find((p) =>
      p.uses.some(
        (u) =>
          b.mlp.has(u.node.index) &&
          u.node.outputs.some((o) => (g.consumers.get(o) ?? []).some((c) => ACTIVATION.has(g.nodes[c].op))),
      ),
    );
    const down = mlp[mlp.length - 1];
    for (const p of mlp) p.role = p === down ? 'down_proj' : p === gate && mlp.length >= 3 ? 'gate_proj' : 'up_proj';
  }
}

function firstUse(p: LogicalParam, set: Set<number>): number {
  return Math.min(...p.uses.filter((u) => set.has(u.node.index)).map((u) => u.node.index));
}

/** The nodes of a set, in graph order. */
export function nodesOf(g: GraphIndex, set: Set<number>): GNode[] {
  return [...set].sort((a, b) => a - b).map((i) => g.nodes[i]);
}
