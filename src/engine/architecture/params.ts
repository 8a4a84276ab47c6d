/**
 * Finds the model's learned parameters in the graph. An initializer is followed through the nodes
 * that only change its form (Cast, Transpose, DequantizeLinear, Reshape) to the node that really
 * uses it, which says what it is (a linear weight, an embedding, a norm scale) and where it sits
 * (layer, component). Identity nodes on an initializer are parameters of their own: torch.onnx
 * deduplicates parameters whose values are identical at export (e.g. every RMSNorm scale starting
 * at ones) into one initializer and Identity copies. Scales and zero points of quantized weights
 * count as bytes of their weight, not as parameters.
 */
import { type GInit, type GNode, type GraphIndex } from '../onnx/graphIndex';
import { LINEAR, NORM_OPS } from '../onnx/ops';
import { BUFFER_NAME, type Component, componentOf, layerIndex, type OuterRole, outerRoleOf, roleOf } from './scopes';

type Slot = 'linear' | 'bias' | 'embedding' | 'norm' | 'other';

export interface LogicalParam {
  /** Tensor name (the initializer, or an Identity output aliasing it). */
  name: string;
  /** The initializer that holds the data. */
  storage: string;
  alias: boolean;
  /** Nodes that use it, after pass-through nodes, with the input index. */
  uses: { node: GNode; input: number }[];
  slot: Slot;
  shape: number[];
  params: number;
  dtype: string;
  quant?: string;
  /** Stored bytes including scales and zero points; 0 for an alias; null when external data is missing. */
  bytes: number | null;
  /** Bytes once loaded (an fp16 weight cast to fp32 inside the graph is held as fp32). */
  memoryBytes: number | null;
  external: boolean;
  layer: number | null;
  component: Component;
  outer: OuterRole;
  role: string;
  consumer: string;
}

interface ParamScan {
  params: LogicalParam[];
  excluded: { name: string; reason: string }[];
  /** Integer and scalar constants skipped silently (shape arithmetic). */
  smallConstants: number;
}

const FLOAT = new Set(['float32', 'float16', 'bfloat16', 'float64']);
const QUANT_DATA = new Set(['int8', 'uint8', 'int4', 'uint4']);
const PASS_THROUGH = new Set(['Cast', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'DequantizeLinear', 'Flatten']);
const QUANT_META_NAME = /(_scale|_scales|_zero_point|_zp|_qzeros|_zeros)$/;
const QUANT_WEIGHT_SUFFIX = /_(quantized|Q4|q4|int8|uint8|int4|q8)$/;
const SHORT_DTYPE: Record<string, string> = { float32: 'fp32', float16: 'fp16', bfloat16: 'bf16', float64: 'fp64' };

/** Inputs of quantized operators that hold scales or zero points rather than weights. */
function isQuantMetaSlot(n: GNode, input: number): boolean {
  switch (n.op) {
    case 'MatMulNBits':
      return input === 2 || input === 3 || input === 4;
    case 'MatMulInteger':
      return input >= 2;
    case 'DynamicQuantizeMatMul':
      return input === 2 || input === 3;
    case 'GatherBlockQuantized':
      return input >= 2;
    case 'DequantizeLinear':
    case 'QuantizeLinear':
      return input >= 1;
    case 'MatMulIntegerToFloat':
      return input >= 2 && input <= 5;
    default:
      return false;
  }
}

function slotOf(n: GNode, input: number, dims: number[]): Slot {
  if ((n.op === 'Gather' || n.op === 'GatherBlockQuantized') && input === 0) return 'embedding';
  if (LINEAR.has(n.op))
    return (n.op === 'Gemm' && input === 2) ||
      (n.op === 'MatMulNBits' && input === 5) ||
      (n.op === 'DynamicQuantizeMatMul' && input === 4)
      ? 'bias'
      : 'linear';
  if (n.op === 'Attention' || n.op === 'MultiHeadAttention') return input === 1 ? 'linear' : 'bias';
  if (NORM_OPS.has(n.op)) return 'norm';
  if ((n.op === 'Mul' || n.op === 'Add') && dims.length === 1) {
    const scope = n.scope.join('/');
    if (/norm|ln_/i.test(scope)) return 'norm';
    if (n.op === 'Add') return 'bias';
  }
  return 'other';
}

/** Follows a tensor through pass-through nodes; returns real uses, Identity aliases, and whether it's cast to fp32. */
function follow(
  g: GraphIndex,
  tensor: string,
): { uses: { node: GNode; input: number }[]; aliases: GNode[]; castToFloat: boolean } {
  const uses: { node: GNode; input: number }[] = [];
  const aliases: GNode[] = [];
  let castToFloat = false;
  const queue = [tensor];
  const seen = new Set<string>();
  while (queue.length) {
    const t = queue.shift()!;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const ci of g.consumers.get(t) ?? []) {
      const n = g.nodes[ci];
      const input = n.inputs.indexOf(t);
      if (n.op === 'Identity') aliases.push(n);
      else if (PASS_THROUGH.has(n.op) && input === 0) {
        if (n.op === 'Cast' && n.attrs.to === 1) castToFloat = true;
        queue.push(n.outputs[0]);
      } else uses.push({ node: n, input });
    }
  }
  return { uses, aliases, castToFloat };
}

function logicalShape(
  init: GInit,
  uses: { node: GNode; input: number }[],
): { shape: number[]; params: number; quant?: string; dtype: string } {
  const nbits = uses.find((u) => u.node.op === 'MatMulNBits' && u.input === 1);
  if (nbits) {
    const K = Number(nbits.node.attrs.K ?? 0),
      N = Number(nbits.node.attrs.N ?? 0);
    const bits = Number(nbits.node.attrs.bits ?? 4),
      block = Number(nbits.node.attrs.block_size ?? 0);
    return { shape: [K, N], params: K * N, dtype: `int${bits}`, quant: `int${bits}, block ${block} (MatMulNBits)` };
  }
  const gbq = uses.find((u) => u.node.op === 'GatherBlockQuantized' && u.input === 0);
  const elements = init.dims.reduce((a, b) => a * b, 1);
  if (gbq && init.dtype === 'uint8') {
    const bits = Number(gbq.node.attrs.bits ?? 4),
      block = Number(gbq.node.attrs.block_size ?? 0);
    const shape = [...init.dims.slice(0, -1), (init.dims[init.dims.length - 1] * 8) / bits];
    return {
      shape,
      params: (elements * 8) / bits,
      dtype: `int${bits}`,
      quant: `int${bits}, block ${block} (GatherBlockQuantized)`,
    };
  }
  const dq = uses.find((u) => ['MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat'].includes(u.node.op));
  const dtype = SHORT_DTYPE[init.dtype] ?? init.dtype;
  if (QUANT_DATA.has(init.dtype)) {
    const how = dq ? dq.node.op : 'DequantizeLinear';
    return { shape: init.dims, params: elements, dtype, quant: `${dtype} (${how})` };
  }
  return { shape: init.dims, params: elements, dtype };
}

/** Every learned parameter of the graph, with what uses it; `missingExternal` says which files are absent. */
export function scanParams(g: GraphIndex, missingExternal: Set<string>): ParamScan {
  const params: LogicalParam[] = [];
  const excluded: { name: string; reason: string }[] = [];
  let smallConstants = 0;
  const metaBytes = new Map<string, number>(); // weight storage → bytes of its scales/zero points
  const metaFor: [GInit, GNode | null][] = [];

  // base names of quantized weights, so `X_scale` / `X_zero_point` next to `X_quantized` are recognised
  const quantBases = new Set<string>();
  for (const x of g.inits.values())
    if (QUANT_DATA.has(x.dtype)) quantBases.add(x.name.replace(QUANT_WEIGHT_SUFFIX, ''));

  for (const init of g.inits.values()) {
    const elements = init.dims.reduce((a, b) => a * b, 1);
    const { uses, aliases, castToFloat } = follow(g, init.name);
    // a tensor that serves as a scale or zero point anywhere is quantization metadata (it may also be gathered for an embedding)
    const directMeta = uses.some((u) => isQuantMetaSlot(u.node, u.input));
    const namedMeta = QUANT_META_NAME.test(init.name) && quantBases.has(init.name.replace(QUANT_META_NAME, ''));
    // ONNX Runtime's dynamic quantization multiplies the weight scale by the activation scale (DynamicQuantizeLinear output 1)
    const scaleProduct =
      FLOAT.has(init.dtype) &&
      uses.length > 0 &&
      uses.every(
        (u) =>
          u.node.op === 'Mul' &&
          u.node.inputs.some(
            (i) => i !== init.name && g.producer.has(i) && g.nodes[g.producer.get(i)!].op === 'DynamicQuantizeLinear',
          ),
      );
    if (directMeta || namedMeta || scaleProduct) {
      metaFor.push([init, uses[0]?.node ?? null]);
      continue;
    }
    if (BUFFER_NAME.test(init.name)) {
      excluded.push({ name: init.name, reason: 'buffer (not learned)' });
      continue;
    }
    const isWeight =
      FLOAT.has(init.dtype) ||
      (QUANT_DATA.has(init.dtype) && elements > 64 && uses.some((u) => !isQuantMetaSlot(u.node, u.input)));
    const quantViaDq =
      QUANT_DATA.has(init.dtype) && g.consumers.get(init.name)?.some((ci) => g.nodes[ci].op === 'DequantizeLinear');
    if (!isWeight && !quantViaDq) {
      if (elements > 64) excluded.push({ name: init.name, reason: `${init.dtype} constant` });
      else smallConstants++;
      continue;
    }
    if (elements <= 1) {
      smallConstants++;
      continue;
    }
    if (uses.length === 0 && aliases.length === 0) {
      excluded.push({ name: init.name, reason: 'unused' });
      continue;
    }
    const external = init.external !== null;
    const missing = external && missingExternal.has(init.external!.location);
    const shape = logicalShape(init, uses);
    const memPerParam = castToFloat && !QUANT_DATA.has(init.dtype) ? 4 : null;
    const make = (name: string, u: { node: GNode; input: number }[], alias: boolean): LogicalParam => {
      const first = pickConsumer(u);
      const slot = first ? slotOf(first.node, first.input, init.dims) : 'other';
      return {
        name,
        storage: init.name,
        alias,
        uses: u,
        slot,
        ...shape,
        bytes: alias ? 0 : missing ? null : init.bytes,
        memoryBytes: alias ? 0 : missing && !memPerParam ? null : memPerParam ? shape.params * memPerParam : init.bytes,
        external,
        ...place(name, first?.node ?? null, slot),
      };
    };
    if (uses.length > 0) params.push(make(init.name, uses, false));
    aliases.forEach((a, i) => {
      const p = make(a.outputs[0], follow(g, a.outputs[0]).uses, uses.length > 0 || i > 0);
      params.push(p);
    });
  }
  // scales and zero points: bytes of the weight they belong to
  for (const [meta, node] of metaFor) {
    const owner = ownerOf(meta, node, params) ?? (node ? nearbyQuantizedWeight(g, node, params) : undefined);
    if (owner) metaBytes.set(owner.name, (metaBytes.get(owner.name) ?? 0) + meta.bytes);
    else excluded.push({ name: meta.name, reason: 'quantization scale or zero point' });
  }
  for (const p of params) {
    const extra = metaBytes.get(p.name);
    if (!extra) continue;
    if (p.bytes !== null) p.bytes += extra;
    if (p.memoryBytes !== null) p.memoryBytes += extra;
  }
  return { params, excluded, smallConstants };
}

/** The weight a scale or zero point belongs to: same consumer node, or the same base name. */
function ownerOf(meta: GInit, node: GNode | null, params: LogicalParam[]): LogicalParam | undefined {
  if (node) {
    const owner = params.find((p) => p.uses.some((u) => u.node === node && !isQuantMetaSlot(u.node, u.input)));
    if (owner) return owner;
    // QDQ: the DequantizeLinear's input 0 is the weight
    if (node.op === 'DequantizeLinear') return params.find((p) => p.storage === node.inputs[0]);
  }
  const base = meta.name.replace(QUANT_META_NAME, '');
  return params.find((p) => p.storage === base || p.storage.replace(QUANT_WEIGHT_SUFFIX, '') === base);
}

/** The quantized weight used within a few nodes of a scale's consumer (Mul(x_scale, w_scale) → Mul(acc, scale) ← Cast ← MatMulInteger). */
function nearbyQuantizedWeight(g: GraphIndex, start: GNode, params: LogicalParam[]): LogicalParam | undefined {
  const seen = new Set<number>([start.index]);
  let frontier = [start];
  for (let hop = 0; hop < 3 && frontier.length; hop++) {
    const next: GNode[] = [];
    for (const n of frontier) {
      const owner = params.find((p) => p.quant && p.uses.some((u) => u.node === n && !isQuantMetaSlot(n, u.input)));
      if (owner) return owner;
      const neighbours = [
        ...n.outputs.flatMap((o) => g.consumers.get(o) ?? []),
        ...n.inputs.flatMap((i) => (g.producer.has(i) ? [g.producer.get(i)!] : [])),
      ];
      for (const i of neighbours)
        if (!seen.has(i)) {
          seen.add(i);
          next.push(g.nodes[i]);
        }
    }
    frontier = next;
  }
  return undefined;
}

/** Prefers the use whose node name tells where it sits (a layer scope, or an outer role). */
function pickConsumer(uses: { node: GNode; input: number }[]): { node: GNode; input: number } | undefined {
  return (
    uses.find((u) => layerIndex(u.node.name) !== null) ?? uses.find((u) => outerRoleOf(u.node.name) !== null) ?? uses[0]
  );
}

function place(
  name: string,
  node: GNode | null,
  slot: Slot,
): Pick<LogicalParam, 'layer' | 'component' | 'outer' | 'role' | 'consumer'> {
  const nodeName = node?.name ?? '';
  const layer = layerIndex(nodeName) ?? layerIndex(name);
  const component = componentOf(nodeName) ?? componentOf(name);
  let outer: OuterRole = null;
  if (layer === null || component === 'final_norm') {
    outer = outerRoleOf(nodeName) ?? outerRoleOf(name);
    if (slot === 'embedding' && outer !== 'position_embedding') outer = 'embedding';
    if (component === 'final_norm') outer = 'final_norm';
  }
  const role = roleOf(nodeName) ?? roleOf(name) ?? (slot === 'other' ? (node?.op ?? 'tensor') : slot);
  return {
    layer: component === 'final_norm' ? null : layer,
    component: component === 'final_norm' ? null : component,
    outer,
    role,
    consumer: nodeName,
  };
}
