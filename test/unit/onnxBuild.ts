/**
 * Hand-built ONNX graphs for the architecture tests, written with onnx-proto through
 * src/engine/onnx/onnxFile.ts (the one module that imports it). Structure only: weights are zeros,
 * and the graphs are not meant to run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModelProto, onnx, readModelProto } from '../../src/engine/onnx/onnxFile';

const T = onnx.TensorProto.DataType;
export const DT = { float: T.FLOAT, float16: T.FLOAT16, int64: T.INT64, uint8: T.UINT8, int8: T.INT8, bool: T.BOOL };
const A = onnx.AttributeProto.AttributeType;

type AttrInput = number | number[] | string;

function attr(name: string, v: AttrInput): onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: A.STRING, s: Buffer.from(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
}

export function node(
  op: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrInput> = {},
  domain = '',
): onnx.INodeProto {
  return {
    opType: op,
    name,
    input: inputs,
    output: outputs,
    domain,
    attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
  };
}

const BYTES: Record<number, number> = {
  [T.FLOAT]: 4,
  [T.FLOAT16]: 2,
  [T.INT64]: 8,
  [T.UINT8]: 1,
  [T.INT8]: 1,
  [T.BOOL]: 1,
};

/** An initializer of zeros (or the given float32 values). */
export function init(name: string, dims: number[], dataType: number = T.FLOAT, values?: number[]): onnx.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = Buffer.alloc(count * BYTES[dataType]);
  if (values && dataType === T.FLOAT) values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  if (values && dataType === T.INT64) values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return { name, dims, dataType, rawData: raw };
}

export function value(name: string, elemType: number, shape: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface GraphSpec {
  nodes: onnx.INodeProto[];
  inits: onnx.ITensorProto[];
  inputs: onnx.IValueInfoProto[];
  outputs: onnx.IValueInfoProto[];
}

export function modelBytes(spec: GraphSpec): Uint8Array {
  return encodeModelProto({
    irVersion: 8,
    producerName: 'glassbox-test',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: 'test', node: spec.nodes, initializer: spec.inits, input: spec.inputs, output: spec.outputs },
  });
}

/** A scratch model folder with `files` (name → contents) written into it. */
export function scratchFolder(files: Record<string, string | Uint8Array>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-arch-'));
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

/** Copies a model folder, moving every initializer of its .onnx (`onnxRel`) into `model.onnx_data`, as exporters do above 2 GB. */
export function withExternalData(srcDir: string, onnxRel: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glassbox-ext-'));
  fs.cpSync(srcDir, dir, { recursive: true });
  const file = path.join(dir, onnxRel);
  const model = readModelProto(file);
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer ?? []) {
    const raw = Buffer.from(t.rawData ?? []);
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.rawData = new Uint8Array(0);
    chunks.push(raw);
    offset += raw.length;
  }
  fs.writeFileSync(path.join(path.dirname(file), 'model.onnx_data'), Buffer.concat(chunks));
  fs.writeFileSync(file, encodeModelProto(model));
  return dir;
}
