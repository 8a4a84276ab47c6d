/**
 * The one module that imports onnx-proto: reading an .onnx file's protobuf (structure, node names,
 * initializer shapes and dtypes) without touching external weight files, and writing a modified
 * copy (graph surgery for the attention explorer). Shared by the architecture and attention
 * explorers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { GlassboxError } from '../errors';
import { halfToFloat } from './float16';

export { onnx };

/** Element type names as ONNX Runtime's JavaScript API spells them, by TensorProto.DataType. */
export const DTYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
  21: 'uint4',
  22: 'int4',
};

/** Bits per element by TensorProto.DataType (int4 packs two per byte). */
const DTYPE_BITS: Record<number, number> = {
  1: 32,
  2: 8,
  3: 8,
  4: 16,
  5: 16,
  6: 32,
  7: 64,
  9: 8,
  10: 16,
  11: 64,
  12: 32,
  13: 64,
  16: 16,
  21: 4,
  22: 4,
};

/** Decodes an .onnx file; a truncated or foreign file gives an error naming it. */
export function readModelProto(file: string): onnx.ModelProto {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new GlassboxError('ONNX_MISSING', `Cannot read ${file}: ${(err as Error).message}.`);
  }
  return decodeModelProto(bytes, file);
}

export function decodeModelProto(bytes: Uint8Array, label: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new GlassboxError(
      'ONNX_INVALID',
      `${label} is not a readable ONNX protobuf (${(err as Error).message}).`,
      'The file may be truncated or corrupt; re-download or re-export it.',
    );
  }
  if (!model.graph) throw new GlassboxError('ONNX_INVALID', `${label} holds no graph (expected an ONNX ModelProto).`);
  return model;
}

export function encodeModelProto(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Plain numbers for dims that protobufjs may hand back as Long. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function tensorDims(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

export function isExternal(t: onnx.ITensorProto): boolean {
  return t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
}

/** Stored size of an initializer in bytes, from its dims and dtype (works for external data too). */
export function tensorBytes(t: onnx.ITensorProto): number {
  const elements = tensorDims(t).reduce((a, b) => a * b, 1);
  return Math.ceil((elements * (DTYPE_BITS[t.dataType ?? 0] ?? 0)) / 8);
}

/** The external data file and byte range of an initializer stored outside the .onnx (null when inline). */
export function externalRef(t: onnx.ITensorProto): { location: string; offset: number; length: number | null } | null {
  if (!isExternal(t)) return null;
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) return null;
  const length = kv.get('length');
  return { location, offset: Number(kv.get('offset') ?? 0), length: length === undefined ? null : Number(length) };
}

/** Reads one attribute as a plain value (numbers, strings, lists; a tensor becomes its proto). */
export function attributeValue(
  a: onnx.IAttributeProto,
): number | string | number[] | string[] | onnx.ITensorProto | null {
  const T = onnx.AttributeProto.AttributeType;
  const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
  switch (a.type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return toNumber(a.i);
    case T.STRING:
      return text(a.s);
    case T.TENSOR:
      return a.t ?? null;
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.INTS:
      return (a.ints ?? []).map(toNumber);
    case T.STRINGS:
      return (a.strings ?? []).map(text);
    default:
      return null;
  }
}

/**
 * Reads elements of a numeric tensor: all of them when it holds at most `max` (default 64), or
 * the ones at `indices`. External data is read with positioned reads of just those elements,
 * never the whole file. Returns null for dtypes it can't decode or data it can't reach.
 */
export function tensorValues(
  t: onnx.ITensorProto,
  opts: { max?: number; indices?: number[]; baseDir?: string } = {},
): number[] | null {
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  const indices = opts.indices ?? (count <= (opts.max ?? 64) ? [...Array(count).keys()] : null);
  if (!indices || indices.some((i) => i >= count)) return null;
  const dtype = t.dataType ?? 0;
  // Typed repeated fields first (small constants are often stored this way).
  const typed =
    dtype === 1
      ? t.floatData
      : dtype === 7
        ? t.int64Data
        : dtype === 11
          ? t.doubleData
          : [6, 2, 3, 4, 5, 9].includes(dtype)
            ? t.int32Data
            : null;
  if (typed && typed.length === count) return indices.map((i) => toNumber(typed[i] as number));
  const bytesPer = (DTYPE_BITS[dtype] ?? 0) / 8;
  if (!ELEMENT_READERS[dtype] || bytesPer < 1) return null;
  const read = ELEMENT_READERS[dtype];
  const ext = externalRef(t);
  if (ext) {
    if (!opts.baseDir) return null;
    let fd: number;
    try {
      fd = fs.openSync(path.join(opts.baseDir, ext.location), 'r');
    } catch {
      return null;
    }
    try {
      const buf = Buffer.alloc(bytesPer);
      return indices.map((i) =>
        fs.readSync(fd, buf, 0, bytesPer, ext.offset + i * bytesPer) === bytesPer
          ? read(new DataView(buf.buffer, buf.byteOffset, bytesPer), 0)
          : NaN,
      );
    } finally {
      fs.closeSync(fd);
    }
  }
  const raw = t.rawData;
  if (!raw || raw.length < count * bytesPer) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return indices.map((i) => read(view, i * bytesPer));
}

const ELEMENT_READERS: Record<number, (v: DataView, offset: number) => number> = {
  1: (v, o) => v.getFloat32(o, true),
  2: (v, o) => v.getUint8(o),
  3: (v, o) => v.getInt8(o),
  5: (v, o) => v.getInt16(o, true),
  6: (v, o) => v.getInt32(o, true),
  7: (v, o) => Number(v.getBigInt64(o, true)),
  9: (v, o) => v.getUint8(o),
  10: (v, o) => halfToFloat(v.getUint16(o, true)),
  11: (v, o) => v.getFloat64(o, true),
  16: (v, o) => new Float32Array(new Uint32Array([v.getUint16(o, true) << 16]).buffer)[0],
};

/** Element type and shape of a graph input, output or value_info entry (dims as numbers or names). */
export function valueInfoType(v: onnx.IValueInfoProto): { dtype: string; shape: (number | string)[] | null } {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  return {
    dtype: DTYPE_NAMES[tt?.elemType ?? 0] ?? 'unknown',
    // A dim holds a name, a value, or neither (unknown).
    shape: dims
      ? dims.map((d) =>
          d.dimParam ? d.dimParam : (d as { value?: string }).value === 'dimValue' ? toNumber(d.dimValue) : '?',
        )
      : null,
  };
}
