/**
 * The one module that imports onnx-proto: reading an .onnx file's protobuf (structure, node names,
 * initializer shapes and dtypes) without touching external weight files, and writing a modified
 * copy (graph surgery for the attention explorer). Shared by the architecture and attention
 * explorers.
 */
import * as fs from 'node:fs';
import { onnx } from 'onnx-proto';
import { GlassboxError } from '../errors';

export { onnx };

/** Element type names as ONNX Runtime's JavaScript API spells them, by TensorProto.DataType. */
export const DTYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16', 21: 'uint4', 22: 'int4',
};

/** Bits per element by TensorProto.DataType (int4 packs two per byte). */
export const DTYPE_BITS: Record<number, number> = {
  1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 16: 16, 21: 4, 22: 4,
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
    throw new GlassboxError('ONNX_INVALID', `${label} is not a readable ONNX protobuf (${(err as Error).message}).`, 'The file may be truncated or corrupt; re-download or re-export it.');
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
