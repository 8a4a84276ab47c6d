/**
 * An .onnx file's graph without its weights, read with positioned reads: every initializer whose
 * raw bytes are at least `minBytes` becomes an external-data reference to those same bytes in the
 * file itself (ONNX's external data: location, offset, length). A load-time rewrite of a model of
 * any size then decodes and encodes kilobytes, and ONNX Runtime reads the weights from the original
 * file: a 309 MB int4 model is never held in JavaScript, and a model whose weights already sit in
 * an external file (past protobuf's 2 GB) is rewritten the same way.
 *
 * Protobuf wire format (what this walks): each field is a varint tag (field number << 3 | wire
 * type) and a value: 0 varint, 1 eight bytes, 2 a varint length and that many bytes, 5 four bytes.
 * ModelProto.graph is field 7, GraphProto.initializer field 5, TensorProto.raw_data field 9.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GlassboxError } from '../errors';
import { onnx } from './onnxFile';

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const LENGTH_DELIMITED = 2;
/** Bytes read ahead for tags and lengths (a tag and a length are at most 20 bytes). */
const HEAD = 32;

interface Field {
  number: number;
  wireType: number;
  /** File offsets: the field's first byte (its tag), its value's first byte, and its end. */
  start: number;
  valueStart: number;
  end: number;
}

/** Positioned reads of one file, with the offsets checked against its size. */
class FileWindow {
  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly label: string,
  ) {}

  read(offset: number, length: number): Buffer {
    if (offset < 0 || offset + length > this.size) throw this.corrupt(`a field runs past the end at byte ${offset}`);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw this.corrupt(`the file ended at byte ${offset + done}`);
      done += n;
    }
    return buf;
  }

  corrupt(why: string): GlassboxError {
    return new GlassboxError(
      'ONNX_INVALID',
      `${this.label} is not a readable ONNX protobuf (${why}).`,
      'The file may be truncated or corrupt; re-download or re-export it.',
    );
  }

  /** The fields of the message in [start, end), in order. */
  *fields(start: number, end: number): Generator<Field> {
    let pos = start;
    while (pos < end) {
      const head = this.read(pos, Math.min(HEAD, end - pos));
      let at = 0;
      const varint = (): number => {
        let value = 0;
        for (let shift = 1; ; shift *= 128) {
          if (at >= head.length) throw this.corrupt(`a varint runs past byte ${pos + at}`);
          const b = head[at++];
          value += (b & 0x7f) * shift;
          if (b < 0x80) return value;
        }
      };
      const tag = varint();
      const wireType = tag % 8;
      let length: number;
      if (wireType === 0) {
        varint();
        length = 0;
      } else if (wireType === 1) length = 8;
      else if (wireType === 5) length = 4;
      else if (wireType === LENGTH_DELIMITED) length = varint();
      else throw this.corrupt(`wire type ${wireType} at byte ${pos}`);
      const valueStart = pos + at;
      const fieldEnd = valueStart + length;
      if (fieldEnd > end) throw this.corrupt(`a field at byte ${pos} runs past its message`);
      yield { number: Math.floor(tag / 8), wireType, start: pos, valueStart, end: fieldEnd };
      pos = fieldEnd;
    }
  }
}

/**
 * Reads `file` as a ModelProto whose large initializers point back into `file` (see above). The
 * result is for a session made from bytes with the model's folder as its external data folder.
 */
export function readModelSkeleton(file: string, minBytes = 1 << 16): onnx.ModelProto {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new GlassboxError('ONNX_MISSING', `Cannot read ${file}: ${(err as Error).message}.`);
  }
  try {
    const win = new FileWindow(fd, fs.fstatSync(fd).size, file);
    const location = path.basename(file);
    const rest: Buffer[] = [];
    let graph: onnx.GraphProto | undefined;
    for (const f of win.fields(0, win.size)) {
      if (f.number === MODEL_GRAPH && f.wireType === LENGTH_DELIMITED) graph = readGraph(win, f, location, minBytes);
      else rest.push(win.read(f.start, f.end - f.start));
    }
    const model = onnx.ModelProto.decode(Buffer.concat(rest));
    if (!graph) throw new GlassboxError('ONNX_INVALID', `${file} holds no graph (expected an ONNX ModelProto).`);
    model.graph = graph;
    return model;
  } catch (err) {
    if (err instanceof GlassboxError) throw err;
    throw new GlassboxError(
      'ONNX_INVALID',
      `${file} is not a readable ONNX protobuf (${(err as Error).message}).`,
      'The file may be truncated or corrupt; re-download or re-export it.',
    );
  } finally {
    fs.closeSync(fd);
  }
}

function readGraph(win: FileWindow, graphField: Field, location: string, minBytes: number): onnx.GraphProto {
  const rest: Buffer[] = [];
  const initializers: onnx.TensorProto[] = [];
  for (const f of win.fields(graphField.valueStart, graphField.end)) {
    if (f.number === GRAPH_INITIALIZER && f.wireType === LENGTH_DELIMITED) {
      initializers.push(
        f.end - f.valueStart >= minBytes
          ? readLargeTensor(win, f, location)
          : onnx.TensorProto.decode(win.read(f.valueStart, f.end - f.valueStart)),
      );
    } else rest.push(win.read(f.start, f.end - f.start));
  }
  // the initializers were taken out of `rest` in order, so the graph keeps their order
  const graph = onnx.GraphProto.decode(Buffer.concat(rest));
  graph.initializer = initializers;
  return graph;
}

/** A tensor whose raw_data stays in the file: the rest of its fields, and a reference to those bytes. */
function readLargeTensor(win: FileWindow, tensorField: Field, location: string): onnx.TensorProto {
  const rest: Buffer[] = [];
  let raw: Field | undefined;
  for (const f of win.fields(tensorField.valueStart, tensorField.end)) {
    if (f.number === TENSOR_RAW_DATA && f.wireType === LENGTH_DELIMITED) raw = f;
    else rest.push(win.read(f.start, f.end - f.start));
  }
  const tensor = onnx.TensorProto.decode(Buffer.concat(rest));
  if (!raw) return tensor; // already external, or stored in typed fields (small enough to have been read)
  tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  tensor.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: String(raw.valueStart) },
    { key: 'length', value: String(raw.end - raw.valueStart) },
  ].map((e) => onnx.StringStringEntryProto.create(e));
  return tensor;
}
