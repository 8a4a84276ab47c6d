/**
 * Light shape propagation: ONNX files rarely carry value_info for intermediate tensors, so the
 * drill-down would show no shapes. This walks the (topologically sorted) nodes once and works out
 * output shapes for the common operators, with symbolic dims (`batch_size`, `sequence_length`),
 * also tracking the values of small integer tensors so that the Shape → Gather → Concat → Reshape
 * chains exporters emit resolve. Unknown operators leave their outputs unknown; nothing throws.
 */
import type { Dim } from '../../common/architectureTypes';
import { attrNumber, constantValue, type GNode, type GraphIndex } from '../onnx/graphIndex';

export interface ShapeInfo {
  dtype?: string;
  shape?: Dim[];
  /** Values of a small integer tensor (shape arithmetic), flattened. */
  value?: Dim[];
}

const UNARY = new Set([
  'Identity',
  'Neg',
  'Sqrt',
  'Reciprocal',
  'Sigmoid',
  'Tanh',
  'Relu',
  'Gelu',
  'FastGelu',
  'BiasGelu',
  'QuickGelu',
  'Erf',
  'Exp',
  'Log',
  'Abs',
  'Softmax',
  'LogSoftmax',
  'Not',
  'Cos',
  'Sin',
  'Dropout',
  'CumSum',
  'Trilu',
  'LayerNormalization',
  'SimplifiedLayerNormalization',
  'RMSNormalization',
  'SkipLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'RotaryEmbedding',
  'Floor',
  'Ceil',
  'Round',
  'HardSigmoid',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Softplus',
  'IsNaN',
  'Sign',
]);
const BINARY = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Where',
  'Max',
  'Min',
  'Mod',
  'BiasAdd',
]);
const BOOL_OUT = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
]);
const DTYPE_BY_CODE: Record<number, string> = {
  1: 'float32',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  16: 'bfloat16',
  2: 'uint8',
  3: 'int8',
};

function addDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${a} + ${b}`;
}

function broadcast(shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i];
      if (v === undefined || v === 1) continue;
      if (d === 1 || typeof d === 'string') d = v; // a number wins over a name; names are kept otherwise
    }
    out.push(d);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function elementwise(op: string, a: Dim[], b: Dim[]): Dim[] | undefined {
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) return undefined;
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i];
    const y = b[b.length === 1 ? 0 : i];
    if (typeof x !== 'number' || typeof y !== 'number') {
      if (op === 'Add') out.push(addDim(x, y));
      else if (op === 'Mul' && (x === 1 || y === 1)) out.push(x === 1 ? y : x);
      else return undefined;
      continue;
    }
    const r =
      op === 'Add'
        ? x + y
        : op === 'Sub'
          ? x - y
          : op === 'Mul'
            ? x * y
            : op === 'Div' && y !== 0
              ? Math.trunc(x / y)
              : undefined;
    if (r === undefined) return undefined;
    out.push(r);
  }
  return out;
}

/** Output shapes (and small values) for every tensor it can work out. */
export function inferShapes(g: GraphIndex): Map<string, ShapeInfo> {
  const known = new Map<string, ShapeInfo>();
  for (const t of [...g.inputs, ...g.valueInfo.values(), ...g.outputs]) {
    if (t.shape) known.set(t.name, { dtype: t.dtype, shape: t.shape });
  }
  for (const init of g.inits.values()) {
    const isInt = init.dtype === 'int64' || init.dtype === 'int32';
    known.set(init.name, {
      dtype: init.dtype,
      shape: init.dims,
      value: isInt && init.values ? init.values : undefined,
    });
  }
  for (const n of g.nodes) {
    let outs: (ShapeInfo | undefined)[] = [];
    try {
      outs = infer(n, g, known);
    } catch {
      outs = [];
    }
    n.outputs.forEach((name, i) => {
      const o = outs[i];
      if (!name || !o) return;
      const prior = known.get(name);
      // value_info from the file wins for the shape; the computed value is kept for later nodes
      known.set(name, prior?.shape ? { ...o, ...prior, value: o.value ?? prior.value } : o);
    });
  }
  return known;
}

function infer(n: GNode, g: GraphIndex, known: Map<string, ShapeInfo>): (ShapeInfo | undefined)[] {
  const inp = (i: number): ShapeInfo | undefined => (n.inputs[i] ? known.get(n.inputs[i]) : undefined);
  const value = (i: number): Dim[] | undefined =>
    inp(i)?.value ?? (n.inputs[i] ? (constantValue(g, n.inputs[i]) ?? undefined) : undefined);
  const a = inp(0);
  const intsAttr = (k: string) => (Array.isArray(n.attrs[k]) ? (n.attrs[k] as number[]) : undefined);
  switch (n.op) {
    case 'Constant': {
      const v = n.attrs.value;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const isInt = v.dtype === 'int64' || v.dtype === 'int32';
        return [{ dtype: v.dtype, shape: v.dims, value: isInt && v.values ? v.values : undefined }];
      }
      if (typeof n.attrs.value_int === 'number') return [{ dtype: 'int64', shape: [], value: [n.attrs.value_int] }];
      if (Array.isArray(n.attrs.value_ints))
        return [{ dtype: 'int64', shape: [n.attrs.value_ints.length], value: n.attrs.value_ints as number[] }];
      if (typeof n.attrs.value_float === 'number') return [{ dtype: 'float32', shape: [] }];
      return [];
    }
    case 'Cast': {
      const to = DTYPE_BY_CODE[attrNumber(n, 'to') ?? 0];
      return [a ? { ...a, dtype: to ?? a.dtype } : undefined];
    }
    case 'Shape': {
      if (!a?.shape) return [{ dtype: 'int64' }];
      const r = a.shape.length;
      const start = normAxis(attrNumber(n, 'start') ?? 0, r);
      const end = normAxis(attrNumber(n, 'end') ?? r, r);
      const v = a.shape.slice(start, end);
      return [{ dtype: 'int64', shape: [v.length], value: v }];
    }
    case 'Size':
      return [{ dtype: 'int64', shape: [] }];
    case 'ConstantOfShape': {
      const v = value(0);
      const t = n.attrs.value;
      const tensor = t && typeof t === 'object' && !Array.isArray(t) ? t : null;
      const dtype = tensor ? tensor.dtype : 'float32';
      const out: ShapeInfo = { dtype, shape: v };
      // a filled shape-sized vector (torch's expand bookkeeping): keep its value
      if (v && v.length === 1 && typeof v[0] === 'number' && v[0] <= 64 && (dtype === 'int64' || dtype === 'int32'))
        out.value = Array(v[0]).fill(tensor?.values?.[0] ?? 0);
      return [out];
    }
    case 'Gather':
    case 'GatherBlockQuantized': {
      const idx = inp(1);
      if (!a?.shape || !idx?.shape) return [];
      const axis = normAxis(attrNumber(n, n.op === 'Gather' ? 'axis' : 'gather_axis') ?? 0, a.shape.length);
      const shape = [...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)];
      const iv = value(1);
      const out: ShapeInfo = { dtype: n.op === 'Gather' ? a.dtype : 'float32', shape };
      if (a.value && iv && a.shape.length === 1 && iv.every((x) => typeof x === 'number')) {
        out.value = (iv as number[]).map((i) => a.value![normAxis(i, a.value!.length)]);
      }
      return [out];
    }
    case 'Unsqueeze': {
      const axes = value(1) ?? intsAttr('axes');
      if (!a?.shape || !axes) return [];
      const rank = a.shape.length + axes.length;
      const set = new Set((axes as number[]).map((x) => normAxis(x, rank)));
      const shape: Dim[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : a.shape[j++]);
      return [{ ...a, shape }];
    }
    case 'Squeeze': {
      const axes = value(1) ?? intsAttr('axes');
      if (!a?.shape) return [];
      const set = axes ? new Set((axes as number[]).map((x) => normAxis(x, a.shape!.length))) : null;
      return [{ ...a, shape: a.shape.filter((d, i) => (set ? !set.has(i) : d !== 1)) }];
    }
    case 'Concat': {
      const parts = n.inputs.map((_, i) => inp(i));
      if (parts.some((p) => !p?.shape)) return [];
      const rank = parts[0]!.shape!.length;
      const axis = normAxis(attrNumber(n, 'axis') ?? 0, rank);
      const shape = [...parts[0]!.shape!];
      shape[axis] = parts.slice(1).reduce((acc, p) => addDim(acc, p!.shape![axis]), parts[0]!.shape![axis]);
      const vals = n.inputs.map((_, i) => value(i));
      const out: ShapeInfo = { dtype: parts[0]!.dtype, shape };
      if (rank === 1 && vals.every((v) => v !== undefined)) out.value = vals.flat() as Dim[];
      return [out];
    }
    case 'Reshape': {
      const target = value(1);
      if (!a?.shape || !target) return [{ dtype: a?.dtype }];
      const shape: Dim[] = target.map((d, i) => (d === 0 ? a.shape![i] : d));
      const minus = shape.indexOf(-1);
      if (minus >= 0) {
        const total = a.shape.reduce<number | null>((p, d) => (p !== null && typeof d === 'number' ? p * d : null), 1);
        const rest = shape.reduce<number | null>(
          (p, d, i) => (i === minus ? p : p !== null && typeof d === 'number' ? p * d : null),
          1,
        );
        shape[minus] = total !== null && rest ? total / rest : '?';
      }
      return [{ dtype: a.dtype, shape, value: a.value }];
    }
    case 'Transpose': {
      if (!a?.shape) return [];
      const perm = intsAttr('perm') ?? a.shape.map((_, i) => a.shape!.length - 1 - i);
      return [{ dtype: a.dtype, shape: perm.map((p) => a.shape![p]) }];
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'DynamicQuantizeMatMul':
    case 'FusedMatMul': {
      const b = inp(1);
      if (!a?.shape || !b?.shape) return [];
      const x = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
      const y = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
      const batch = broadcast([x.slice(0, -2), y.slice(0, -2)]);
      const shape = [
        ...batch,
        ...(a.shape.length === 1 ? [] : [x[x.length - 2]]),
        ...(b.shape.length === 1 ? [] : [y[y.length - 1]]),
      ];
      const dtype = n.op === 'MatMulInteger' ? 'int32' : n.op === 'DynamicQuantizeMatMul' ? 'float32' : a.dtype;
      return [{ dtype, shape }];
    }
    case 'MatMulNBits': {
      const N = attrNumber(n, 'N');
      return [a?.shape && N ? { dtype: a.dtype, shape: [...a.shape.slice(0, -1), N] } : undefined];
    }
    case 'Gemm': {
      const b = inp(1);
      if (!a?.shape || !b?.shape || a.shape.length !== 2 || b.shape.length !== 2) return [];
      const m = attrNumber(n, 'transA') ? a.shape[1] : a.shape[0];
      const k = attrNumber(n, 'transB') ? b.shape[0] : b.shape[1];
      return [{ dtype: a.dtype, shape: [m, k] }];
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2': {
      if (!a?.shape) return [];
      const axes = intsAttr('axes') ?? value(1);
      const keep = (attrNumber(n, 'keepdims') ?? 1) === 1;
      const set = axes
        ? new Set((axes as number[]).map((x) => normAxis(x, a.shape!.length)))
        : new Set(a.shape.map((_, i) => i));
      const shape = a.shape.flatMap((d, i) => (set.has(i) ? (keep ? [1] : []) : [d]));
      return [{ dtype: a.dtype, shape }];
    }
    case 'Slice': {
      if (!a?.shape) return [];
      const starts = value(1),
        ends = value(2),
        axesV = value(3),
        steps = value(4);
      const shape = [...a.shape];
      const axes = axesV ?? starts?.map((_, i) => i) ?? [];
      axes.forEach((ax, k) => {
        const i = normAxis(Number(ax), shape.length);
        const d = shape[i],
          s = starts?.[k],
          e = ends?.[k],
          st = steps?.[k] ?? 1;
        if (
          typeof d === 'number' &&
          typeof s === 'number' &&
          typeof e === 'number' &&
          typeof st === 'number' &&
          st > 0
        ) {
          const lo = Math.min(Math.max(s < 0 ? s + d : s, 0), d);
          const hi = Math.min(Math.max(e < 0 ? e + d : e, 0), d);
          shape[i] = Math.max(0, Math.ceil((hi - lo) / st));
        } else {
          shape[i] = '?';
        }
      });
      const out: ShapeInfo = { dtype: a.dtype, shape };
      if (a.value && a.shape.length === 1 && typeof starts?.[0] === 'number' && typeof ends?.[0] === 'number') {
        const len = a.value.length;
        const s = starts[0] as number,
          e = ends[0] as number;
        out.value = a.value.slice(s < 0 ? s + len : s, e < 0 ? e + len : Math.min(e, len));
      }
      return [out];
    }
    case 'Expand': {
      const target = value(1);
      if (!a?.shape || !target) return [];
      return [{ dtype: a.dtype, shape: broadcast([a.shape, target]) }];
    }
    case 'Range':
      return [{ dtype: a?.dtype, shape: ['?'] }];
    case 'Split': {
      if (!a?.shape) return [];
      const axis = normAxis(attrNumber(n, 'axis') ?? 0, a.shape.length);
      const sizes = value(1) ?? intsAttr('split');
      return n.outputs.map((_, i) => {
        const shape = [...a.shape!];
        const d = shape[axis];
        shape[axis] = sizes?.[i] ?? (typeof d === 'number' ? d / n.outputs.length : '?');
        return { dtype: a.dtype, shape };
      });
    }
    case 'GroupQueryAttention':
    case 'MultiHeadAttention':
    case 'Attention': {
      if (!a?.shape) return [];
      const heads = attrNumber(n, 'num_heads');
      const q = a.shape;
      // packed QKV input: the output has num_heads × head_size of the hidden width
      const kvHeads = attrNumber(n, 'kv_num_heads');
      let hidden = q[q.length - 1];
      if (n.op === 'GroupQueryAttention' && !n.inputs[1] && heads && kvHeads && typeof hidden === 'number')
        hidden = (hidden / (heads + 2 * kvHeads)) * heads;
      return [{ dtype: a.dtype, shape: [...q.slice(0, -1), hidden] }];
    }
    case 'DequantizeLinear':
      return [a?.shape ? { dtype: inp(1)?.dtype ?? 'float32', shape: a.shape } : undefined];
    case 'DynamicQuantizeLinear':
      return [
        a?.shape ? { dtype: 'uint8', shape: a.shape } : undefined,
        { dtype: 'float32', shape: [] },
        { dtype: 'uint8', shape: [] },
      ];
  }
  if (UNARY.has(n.op)) {
    if (!a) return [];
    const outs: (ShapeInfo | undefined)[] = [{ dtype: BOOL_OUT.has(n.op) ? 'bool' : a.dtype, shape: a.shape }];
    // Skip*LayerNormalization's 4th output is the residual sum, same shape
    if (n.op.startsWith('Skip')) outs[3] = { dtype: a.dtype, shape: a.shape };
    return outs;
  }
  if (BINARY.has(n.op)) {
    const ins = n.inputs.map((_, i) => inp(i));
    if (ins.some((x) => !x?.shape)) return [];
    const shape = broadcast(ins.map((x) => x!.shape!));
    const dtype = BOOL_OUT.has(n.op) ? 'bool' : n.op === 'Where' ? ins[1]!.dtype : ins[0]!.dtype;
    const out: ShapeInfo = { dtype, shape };
    const va = value(0),
      vb = value(1);
    if (va && vb && ['Add', 'Sub', 'Mul', 'Div'].includes(n.op)) out.value = elementwise(n.op, va, vb);
    if (va && vb && n.op === 'Equal' && (va.length === vb.length || vb.length === 1))
      out.value = va.map((x, i) => (x === vb[vb.length === 1 ? 0 : i] ? 1 : 0));
    const vc = value(2);
    if (n.op === 'Where' && va && vb && vc && va.length === vb.length && vb.length === vc.length)
      out.value = va.map((c, i) => (c ? vb[i] : vc[i]));
    return [out];
  }
  return [];
}
