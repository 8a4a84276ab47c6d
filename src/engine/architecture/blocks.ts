/**
 * Recognises one decoder block from its operators and parameters: the two norms (RMSNorm or
 * LayerNorm, fused or spelled out), the attention (fused operator or MatMul + Softmax; query and
 * KV heads, head dim, RoPE), the MLP (SwiGLU, GELU, …; hidden size) and the residual additions.
 */
import type { AttentionInfo, BlockInfo, ComponentSize, MlpInfo, NormInfo } from '../../common/architectureTypes';
import { attrNumber, type GNode, type GraphIndex } from '../onnx/graphIndex';
import { FUSED_ATTENTION, LN_OPS, RMS_OPS } from '../onnx/ops';
import type { LogicalParam } from './params';
import type { ShapeInfo } from './shapes';
import { componentOf, type Component } from './scopes';

/** Architecture numbers known before looking at the block (from config.json / genai_config.json). */
export interface KnownNumbers {
  numHeads?: number;
  numKvHeads?: number;
  headDim?: number;
  hiddenSize?: number;
  ropeTheta?: number;
  hiddenAct?: string;
}

/** Sums params, stored bytes, and names the dtype mix of a set of parameters. */
export function sizeOf(params: LogicalParam[]): ComponentSize {
  let total = 0;
  let bytes: number | null = 0;
  const byLabel = new Map<string, number>();
  for (const p of params) {
    total += p.params;
    bytes = bytes === null || p.bytes === null ? null : bytes + p.bytes;
    const label = p.quant ? p.quant.replace(/ \(.*\)$/, '').replace(/, block (\d+)/, ' (block $1)') : p.dtype;
    byLabel.set(label, (byLabel.get(label) ?? 0) + p.params);
  }
  const dtype =
    [...byLabel.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k]) => k)
      .join(' + ') || '–';
  return { params: total, bytes, dtype };
}

/** Output width of a linear weight as its consumer uses it (Gemm transB stores [out, in]). */
export function outDim(p: LogicalParam): number | null {
  const u = p.uses.find((x) => x.input === 1 || x.node.op === 'Gemm') ?? p.uses[0];
  if (!u || p.shape.length < 2) return null;
  if (u.node.op === 'Gemm' && attrNumber(u.node, 'transB')) return p.shape[0];
  return p.shape[p.shape.length - 1];
}

/** Splits a block's nodes by component, reading each name once. */
function byComponent(nodes: GNode[], componentOfNode: (n: GNode) => Component): Map<Component, GNode[]> {
  const out = new Map<Component, GNode[]>();
  for (const n of nodes) {
    const c = componentOfNode(n);
    const list = out.get(c);
    if (list) list.push(n);
    else out.set(c, [n]);
  }
  return out;
}

function normInfo(params: LogicalParam[], nodes: GNode[]): NormInfo {
  const ops = [...new Set(nodes.filter((n) => n.op !== 'Constant').map((n) => n.op))];
  let kind: NormInfo['kind'] = 'unknown';
  if (ops.some((o) => RMS_OPS.has(o))) kind = 'RMSNorm';
  else if (ops.some((o) => LN_OPS.has(o))) kind = 'LayerNorm';
  else if (ops.includes('ReduceMean')) kind = ops.includes('Sub') ? 'LayerNorm' : 'RMSNorm';
  return { ...sizeOf(params), kind, ops, fusedResidual: ops.some((o) => o.startsWith('Skip')) };
}

/** Heads read from the graph: the last two dims of the Reshape that splits a projection into heads. */
function headsFromReshapes(nodes: GNode[], shapes: Map<string, ShapeInfo>): { heads: number; headDim: number }[] {
  const found: { heads: number; headDim: number }[] = [];
  for (const n of nodes) {
    if (n.op !== 'Reshape') continue;
    const s = shapes.get(n.outputs[0])?.shape;
    const before = shapes.get(n.inputs[0])?.shape;
    if (!s || s.length !== 4 || !before || before.length !== 3) continue;
    const [h, d] = [s[2], s[3]];
    if (typeof h === 'number' && typeof d === 'number' && h > 0 && d > 1) found.push({ heads: h, headDim: d });
  }
  return found;
}

function attentionInfo(
  params: LogicalParam[],
  nodes: GNode[],
  known: KnownNumbers,
  shapes: Map<string, ShapeInfo>,
  rope: AttentionInfo['rope'],
  notes: string[],
): AttentionInfo {
  const fusedNode = nodes.find((n) => FUSED_ATTENTION.has(n.op));
  const hasSoftmax = nodes.some((n) => n.op === 'Softmax');
  const kind = fusedNode ? fusedNode.op : hasSoftmax ? 'MatMul + Softmax (unfused)' : 'unknown';
  const linear = params.filter((p) => p.slot === 'linear');
  const roles = [...new Set(linear.map((p) => p.role))];
  const fusedQkv = linear.find((p) => /^(c_attn|qkv_proj|query_key_value|Wqkv)$/.test(p.role));
  const projections = roles.map((r) => (fusedQkv && r === fusedQkv.role ? `${r} (fused q,k,v)` : r));

  let queryHeads: number | null = known.numHeads ?? null;
  let kvHeads: number | null = known.numKvHeads ?? queryHeads;
  let headDim: number | null = known.headDim ?? (known.hiddenSize && queryHeads ? known.hiddenSize / queryHeads : null);
  let headsSource: AttentionInfo['headsSource'] = queryHeads !== null ? 'config' : null;
  if (fusedNode && attrNumber(fusedNode, 'num_heads')) {
    queryHeads = attrNumber(fusedNode, 'num_heads');
    kvHeads = attrNumber(fusedNode, 'kv_num_heads') ?? queryHeads;
    headsSource = 'operator';
  } else if (queryHeads === null) {
    const found = headsFromReshapes(nodes, shapes);
    if (found.length) {
      queryHeads = Math.max(...found.map((f) => f.heads));
      kvHeads = Math.min(...found.map((f) => f.heads));
      headDim = found[0].headDim;
      headsSource = 'graph';
    }
  }
  const q = linear.find((p) => /^(q_proj|query|wq)$/.test(p.role));
  const qOut = q ? outDim(q) : null;
  if (headDim === null && qOut && queryHeads) headDim = qOut / queryHeads;
  if (qOut && queryHeads && headDim && qOut !== queryHeads * headDim) {
    notes.push(`q projection is ${qOut} wide but ${queryHeads} heads × ${headDim} = ${queryHeads * headDim}`);
  }
  if (headDim === null && fusedQkv && queryHeads && kvHeads) {
    const w = outDim(fusedQkv);
    if (w) headDim = w / (queryHeads + 2 * kvHeads);
  }
  const fusedRope = fusedNode && attrNumber(fusedNode, 'do_rotary') === 1;
  const ropeHere =
    rope ??
    (fusedRope
      ? { theta: known.ropeTheta ?? null, source: known.ropeTheta !== undefined ? 'config' : 'not in config or graph' }
      : null);
  return {
    ...sizeOf(params),
    kind,
    fused: !!fusedNode,
    queryHeads,
    kvHeads,
    groupSize: queryHeads && kvHeads ? queryHeads / kvHeads : null,
    headDim,
    headsSource,
    rope: ropeHere,
    projections,
  };
}

function mlpInfo(params: LogicalParam[], nodes: GNode[], known: KnownNumbers): MlpInfo {
  const linear = params.filter((p) => p.slot === 'linear');
  const roles = [...new Set(linear.map((p) => p.role))];
  const ops = new Set(nodes.map((n) => n.op));
  const gate = linear.find((p) => /^(gate_proj|w1|gate_up_proj|wi_0)$/.test(p.role));
  const up = linear.find((p) => /^(up_proj|w3|c_fc|fc1|fc_in|dense_h_to_4h|wi_1)$/.test(p.role)) ?? gate;
  const act = (known.hiddenAct ?? '').toLowerCase();
  let activation = 'unknown';
  if (ops.has('Silu') || (ops.has('Sigmoid') && ops.has('Mul')) || (ops.size === 0 && /silu|swish/.test(act)))
    activation = 'SiLU';
  else if (
    ops.has('Gelu') ||
    ops.has('FastGelu') ||
    ops.has('BiasGelu') ||
    ops.has('Erf') ||
    ops.has('QuickGelu') ||
    (ops.has('Tanh') && ops.has('Pow'))
  )
    activation = 'GELU';
  else if (ops.has('Relu')) activation = 'ReLU';
  else if (act) activation = act;
  const gated = (!!gate && linear.length >= 3) || gate?.role === 'gate_up_proj';
  let kind: MlpInfo['kind'] = 'unknown';
  if (gated) kind = activation === 'GELU' ? 'GeGLU' : activation === 'SiLU' ? 'SwiGLU' : 'unknown';
  else if (activation === 'GELU') kind = 'GELU';
  else if (activation === 'ReLU') kind = 'ReLU';
  else if (activation === 'SiLU') kind = 'SiLU';
  let hiddenSize = up ? outDim(up) : null;
  if (hiddenSize && up?.role === 'gate_up_proj') hiddenSize /= 2;
  return { ...sizeOf(params), kind, hiddenSize, activation, projections: roles };
}

/** One block: parameters grouped by component, operators read from the block's name scope. */
export function recognizeBlock(
  index: number,
  params: LogicalParam[],
  nodes: GNode[],
  g: GraphIndex,
  shapes: Map<string, ShapeInfo>,
  known: KnownNumbers,
  rope: AttentionInfo['rope'],
  found: { componentOfNode?: (n: GNode) => Component; residualAdds?: number } = {},
): { block: BlockInfo; notes: string[] } {
  const notes: string[] = [];
  const by = (c: Component) => params.filter((p) => p.component === c);
  const split = byComponent(nodes, found.componentOfNode ?? ((n) => componentOf(n.name)));
  const opsIn = (c: Component) => split.get(c) ?? [];
  const attention = attentionInfo(by('attention'), opsIn('attention'), known, shapes, rope, notes);
  const mlp = mlpInfo(by('mlp'), opsIn('mlp'), known);
  const norm1 = normInfo(by('norm1'), opsIn('norm1'));
  const norm2 = normInfo(by('norm2'), opsIn('norm2'));
  // residual adds sit at the block's own level, e.g. /model/layers.0/Add
  const depth = Math.min(...nodes.map((n) => n.scope.length));
  const residualAdds =
    found.residualAdds ??
    nodes.filter((n) => n.op === 'Add' && n.scope.length === depth && !g.inits.has(n.inputs[1])).length +
      nodes.filter((n) => n.op.startsWith('Skip')).length;
  const otherParams = params.filter((p) => p.component === null).reduce((a, p) => a + p.params, 0);
  if (attention.params === 0) notes.push(`block ${index}: no attention weights found by name`);
  if (mlp.params === 0) notes.push(`block ${index}: no MLP weights found by name`);
  if (otherParams > 0)
    notes.push(`block ${index}: ${otherParams.toLocaleString('en-US')} parameters in no recognised component`);
  return { block: { index, norm1, attention, norm2, mlp, residualAdds, otherParams }, notes };
}

/** RoPE θ from the graph: the inverse-frequency constant [1, θ^(-2/d), …] of length headDim/2. */
export function ropeThetaFromGraph(g: GraphIndex, headDim: number | null): number | null {
  if (!headDim) return null;
  const half = headDim / 2;
  const candidates: (number[] | null)[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Constant' || !/rotary|rope|inv_freq/i.test(n.name + n.outputs.join())) continue;
    const v = n.attrs.value;
    if (v && typeof v === 'object' && !Array.isArray(v)) candidates.push(v.values);
  }
  for (const init of g.inits.values()) if (/inv_freq/.test(init.name)) candidates.push(init.values);
  for (const values of candidates) {
    if (!values || values.length !== half || Math.abs(values[0] - 1) > 1e-6 || !(values[1] > 0 && values[1] < 1))
      continue;
    const theta = Math.pow(values[1], -headDim / 2);
    // float32 constants give θ to about 6 digits: 10000.001 is 10000
    return Number(theta.toPrecision(5));
  }
  return null;
}

/** Whether the graph applies rotary position embeddings anywhere. */
export function hasRotary(g: GraphIndex): boolean {
  if ([...g.inits.keys()].some((k) => /cos_cache|sin_cache|cos_cached|inv_freq/.test(k))) return true;
  return g.nodes.some(
    (n) =>
      n.op === 'RotaryEmbedding' ||
      /rotary|rope/i.test(n.name) ||
      (n.op === 'GroupQueryAttention' && attrNumber(n, 'do_rotary') === 1),
  );
}
