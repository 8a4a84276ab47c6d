/**
 * The one module that imports onnxruntime-node. Everything else sees `OrtSession`, `Tensor` and
 * the helpers below, so session options, feed checking and error wording live in one place.
 */
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { GlassboxError } from '../errors';

export type Tensor = ort.Tensor;
type TensorType = ort.Tensor.Type;
type Feeds = Record<string, Tensor>;

/** Name, element type and (possibly symbolic) shape of one graph input or output. */
export interface IoInfo {
  name: string;
  type: TensorType | 'non-tensor';
  shape: ReadonlyArray<number | string>;
}

export interface SessionOptions {
  /** Intra-op threads; 0 lets ONNX Runtime decide (one per physical core). */
  threads?: number;
  /** Graph optimizations. The attention explorer lowers this so Softmax outputs survive. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Folder that external weight files resolve against when the model is given as bytes. */
  externalDataDir?: string;
  /** Let idle intra-op threads spin (ONNX Runtime's default); Glassbox's default is false. */
  spinning?: boolean;
  /**
   * Keep ONNX Runtime's CPU memory arena (default true). Without it each run's intermediate
   * tensors go back to the system when the run ends: for a session whose runs are rare and large
   * (attention capture), what it used does not stay resident.
   */
  memoryArena?: boolean;
}

interface CreateOptions extends SessionOptions {
  /** Save the graph as ONNX Runtime optimized it to this path (the graph cache, graphCache.ts). */
  saveOptimizedTo?: string;
}

/**
 * onnxruntime-node 1.30 (Linux) kills the whole process with SIGSEGV while creating a session when
 * the process's command line (/proc/self/cmdline) is about 28,950 bytes or longer, as when a CLI
 * is given a long text as one argument (measured: 28,937-byte argument fine, 28,944 crashes, with
 * `node script.js` before it). In the extension that would take down the extension host, since the
 * worker is a thread of it. So no session is created past this many bytes; the CLI takes long text
 * from a file or stdin instead.
 */
const MAX_COMMAND_LINE_BYTES = 24_000;

let commandLineBytes: number | undefined;

/** Throws before a session is created in a process whose command line would crash ONNX Runtime. */
function checkCommandLine(): void {
  if (commandLineBytes === undefined) {
    try {
      commandLineBytes = fs.readFileSync('/proc/self/cmdline').length;
    } catch {
      commandLineBytes = 0; // not Linux: the crash was seen only there
    }
  }
  if (commandLineBytes > MAX_COMMAND_LINE_BYTES) {
    throw new GlassboxError(
      'COMMAND_LINE_TOO_LONG',
      `This process's command line is ${commandLineBytes} bytes; ONNX Runtime ${ortVersion()} crashes when it is about 29,000 or more, so no model is loaded.`,
      'Pass long text in a file (--text-file, --prompt-file) or on stdin (-) instead of as an argument.',
    );
  }
}

/** The onnxruntime-node version: optimized graphs saved by one version are not reused by another. */
export function ortVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

export function makeTensor(
  type: TensorType,
  data: ort.Tensor.DataTypeMap[TensorType],
  dims: readonly number[],
): Tensor {
  return new ort.Tensor(type, data as never, dims);
}

function ioInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): IoInfo[] {
  return meta.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/** A loaded ONNX graph. `run` checks feeds against the graph before calling into native code. */
export class OrtSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly source: string,
    readonly inputs: IoInfo[],
    readonly outputs: IoInfo[],
  ) {}

  /** Load from a file path (external data resolves next to it) or from bytes (graph surgery). */
  static async create(model: string | Uint8Array, opts: CreateOptions = {}, label?: string): Promise<OrtSession> {
    checkCommandLine();
    const source = label ?? (typeof model === 'string' ? model : '<in-memory model>');
    if (typeof model === 'string') checkOnnxFile(model);
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: opts.optimization ?? 'all',
      intraOpNumThreads: opts.threads ?? 0,
      logSeverityLevel: 3,
      ...(opts.memoryArena === false ? { enableCpuMemArena: false, enableMemPattern: false } : {}),
      ...(opts.saveOptimizedTo ? { optimizedModelFilePath: opts.saveOptimizedTo } : {}),
    };
    // Idle intra-op threads sleep instead of spinning: inside an editor the cores belong to the
    // user, and spinning threads that compete with other work made decode steps twice as slow
    // (bench/README.md, "Optimisations").
    const extra: Record<string, unknown> = { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } };
    if (opts.externalDataDir) extra.model_external_initializers_file_folder_path = opts.externalDataDir;
    options.extra = { session: extra };
    let session: ort.InferenceSession;
    try {
      session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options);
    } catch (err) {
      throw new GlassboxError(
        'ONNX_INVALID',
        `ONNX Runtime could not load ${source}: ${firstLine(err)}.`,
        'The file may be truncated or corrupt, or use operators this ONNX Runtime does not have; re-download or re-export the model.',
      );
    }
    return new OrtSession(session, source, ioInfo(session.inputMetadata), ioInfo(session.outputMetadata));
  }

  get inputNames(): string[] {
    return (this.inputNameList ??= this.inputs.map((i) => i.name));
  }

  private inputNameList: string[] | undefined;

  get outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  /** Run the graph. Throws an error naming missing feeds, and logs dtypes and dims on failure. */
  async run(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    const missing = this.inputNames.filter((n) => !(n in feeds));
    if (missing.length > 0) {
      throw new GlassboxError('RUN_FAILED', `Missing inputs for ${this.source}: ${missing.join(', ')}.`);
    }
    try {
      return fetches ? await this.session.run(feeds, fetches as string[]) : await this.session.run(feeds);
    } catch (err) {
      const shapes = Object.entries(feeds)
        .map(([name, t]) => `${name}: ${t.type}[${t.dims.join(', ')}]`)
        .join('; ');
      throw new GlassboxError(
        'RUN_FAILED',
        `ONNX Runtime failed running ${this.source}: ${firstLine(err)}. Feeds: ${shapes}.`,
      );
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Cheap checks before handing a path to native code, so the message can say what is wrong. */
export function checkOnnxFile(file: string): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new GlassboxError(
      'ONNX_MISSING',
      `Model file not found: ${file}.`,
      'Check the model folder or select another model.',
    );
  }
  if (size === 0) {
    throw new GlassboxError(
      'ONNX_INVALID',
      `Model file is empty: ${file} (0 bytes, expected an ONNX protobuf).`,
      'Re-download or re-export the model.',
    );
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].replace(/\.$/, '');
}
