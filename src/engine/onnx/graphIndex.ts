/**
 * The one index of an ONNX graph, shared by everything that walks one: nodes with their name
 * scopes, initializers with shapes, dtypes and storage, who produces and who consumes each tensor,
 * and the small constant values shape inference needs. Proto-free, so the architecture explorer
 * can cache it without keeping the decoded model (and its inline weights) alive; weight data is
 * never copied into it. Graph surgery (attention capture, last-position logits) keeps the decoded
 * model beside it: node `i` of the index is `model.graph.node[i]`.
 */
import type { TensorInfo } from '../../common/architectureTypes';
import {
  attributeValue,
  DTYPE_NAMES,
  externalRef,
  type onnx,
  tensorBytes,
  tensorDims,
  tensorValues,
  toNumber,
  valueInfoType,
} from './onnxFile';

export type AttrValue =
  number | string | number[] | string[] | { dims: number[]; dtype: string; values: number[] | null };

export interface GNode {
  index: number;
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** Name scope segments: `/model/layers.0/self_attn/MatMul` → [model, layers.0, self_attn]. */
  scope: string[];
}

export interface GInit {
  name: string;
  dims: number[];
  dtype: string;
  /** Stored size computed from dims and dtype. */
  bytes: number;
  external: { location: string; offset: number; length: number | null } | null;
  /** All values, for small tensors only (≤ 64 elements). */
  values: number[] | null;
}

export interface GraphIndex {
  file: string;
  nodes: GNode[];
  inits: Map<string, GInit>;
  /** Tensor name → index of the node that outputs it. */
  producer: Map<string, number>;
  /** Tensor name → indices of the nodes that read it. */
  consumers: Map<string, number[]>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  valueInfo: Map<string, TensorInfo>;
  opset: number | null;
  producerName: string;
  irVersion: number | null;
}

/** Scope segments of a node name; names without slashes sit at the root. */
function scopeOf(name: string): string[] {
  const parts = name.split('/').filter((s) => s.length > 0);
  return parts.slice(0, -1);
}

function attrs(node: onnx.INodeProto): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of node.attribute ?? []) {
    const v = attributeValue(a);
    if (v === null || !a.name) continue;
    if (typeof v === 'object' && !Array.isArray(v)) {
      out[a.name] = { dims: tensorDims(v), dtype: DTYPE_NAMES[v.dataType ?? 0] ?? 'unknown', values: tensorValues(v) };
    } else {
      out[a.name] = v;
    }
  }
  return out;
}

/**
 * Indexes a decoded model. `dir` is the folder external data paths are relative to; without it
 * (surgery on a model in memory) small external initializers get `values: null` and no file is read.
 */
export function indexGraph(model: onnx.IModelProto, file = '', dir?: string): GraphIndex {
  const g = model.graph!;
  const nodes: GNode[] = (g.node ?? []).map((n, index) => {
    const name = n.name || `${n.opType ?? 'node'}_${index}`;
    return {
      index,
      name,
      op: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs: attrs(n),
      scope: scopeOf(name),
    };
  });
  const inits = new Map<string, GInit>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    inits.set(name, {
      name,
      dims: tensorDims(t),
      dtype: DTYPE_NAMES[t.dataType ?? 0] ?? 'unknown',
      bytes: tensorBytes(t),
      external: externalRef(t),
      values: tensorValues(t, { baseDir: dir }),
    });
  }
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  for (const n of nodes) {
    for (const o of n.outputs) if (o) producer.set(o, n.index);
    for (const i of n.inputs) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n.index);
      else consumers.set(i, [n.index]);
    }
  }
  const info = (v: onnx.IValueInfoProto): TensorInfo => ({ name: v.name ?? '', ...valueInfoType(v) });
  const initNames = new Set(inits.keys());
  const defaultOpset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    file,
    nodes,
    inits,
    producer,
    consumers,
    // Older exporters also list initializers as graph inputs; those are not inputs a caller feeds.
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(info),
    outputs: (g.output ?? []).map(info),
    valueInfo: new Map((g.valueInfo ?? []).map((v) => [v.name ?? '', info(v)])),
    opset: defaultOpset ? toNumber(defaultOpset.version) : null,
    producerName: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    irVersion: model.irVersion !== undefined && model.irVersion !== null ? toNumber(model.irVersion) : null,
  };
}

/** A numeric attribute of a node, or null when absent. */
export function attrNumber(n: GNode, key: string): number | null {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : null;
}

/** The small numeric value of a tensor that is an initializer or a Constant node's output. */
export function constantValue(g: GraphIndex, tensor: string): number[] | null {
  const init = g.inits.get(tensor);
  if (init) return init.values;
  const p = g.producer.get(tensor);
  if (p === undefined) return null;
  const n = g.nodes[p];
  if (n.op !== 'Constant') return null;
  const v = n.attrs.value;
  if (v && typeof v === 'object' && !Array.isArray(v)) return v.values;
  if (typeof n.attrs.value_int === 'number') return [n.attrs.value_int];
  if (Array.isArray(n.attrs.value_ints)) return n.attrs.value_ints as number[];
  if (typeof n.attrs.value_float === 'number') return [n.attrs.value_float];
  return null;
}

/** A node of the default ONNX domain (custom domains such as com.microsoft reuse op names). */
export function isStandard(n: GNode): boolean {
  return !n.domain || n.domain === 'ai.onnx';
}

/** A tensor that does not depend on any graph input (initializers, Constant nodes and what follows). */
export function constChecker(g: GraphIndex): (tensor: string) => boolean {
  const inputs = new Set(g.inputs.map((i) => i.name));
  const memo = new Map<string, boolean>();
  const check = (t: string): boolean => {
    if (!t) return true;
    const known = memo.get(t);
    if (known !== undefined) return known;
    let result: boolean;
    if (g.inits.has(t)) result = true;
    else if (inputs.has(t)) result = false;
    else {
      const p = g.producer.get(t);
      memo.set(t, false); // cycle guard (graphs are acyclic, but be safe)
      result = p !== undefined ? g.nodes[p].inputs.every(check) : false;
    }
    memo.set(t, result);
    return result;
  };
  return check;
}

/** The initializer protos by name: what surgery copies and large values are read from (the index keeps summaries only). */
export function initializerProtos(model: onnx.IModelProto): Map<string, onnx.ITensorProto> {
  return new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
}
