/**
 * The architecture explorer's engine side: reads a model folder's ONNX graph (structure only:
 * external weight files are never loaded, only stat'ed) with its config, and describes the model
 * as a transformer: parts and blocks with parameters, bytes and dtypes, the inputs of the cost
 * figures, the operator summary, and the training records beside it. Runs in the engine worker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GlassboxError } from '../errors';
import { findOnnx, type ModelConfig, type ModelFiles, readModelConfig } from '../runtime/modelFolder';
import type {
  ArchitectureSummary,
  CostInputs,
  GraphView,
  GraphViewRequest,
  OpCount,
} from '../../common/architectureTypes';
import { buildGraphView } from './graphView';
import { indexGraph, type GraphIndex } from '../onnx/graphIndex';
import { type onnx, readModelProto, tensorValues } from '../onnx/onnxFile';
import { assembleParts, type PartsInput } from './parts';
import { scanParams } from './params';
import { inferShapes, type ShapeInfo } from './shapes';
import { cardParameterCount, readTrainingInfo } from './trainingRecords';

interface InspectParams {
  modelDir: string;
  /** A file relative to the folder, when it holds several .onnx files. */
  onnxFile?: string;
}

const KV_BYTES: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int8: 1, uint8: 1 };

/** The model folder's files, without requiring a tokenizer (the explorer reads structure only). */
function locateForInspection(modelDir: string, onnxFile?: string): ModelFiles {
  const dir = path.resolve(modelDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new GlassboxError('MODEL_NOT_FOUND', `Model folder not found: ${dir}.`, 'Select a model folder that exists.');
  }
  const at = (name: string) => (fs.existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
  const files = {
    dir,
    configPath: at('config.json'),
    genaiConfigPath: at('genai_config.json'),
    generationConfigPath: at('generation_config.json'),
    tokenizerConfigPath: at('tokenizer_config.json'),
  };
  return { ...files, tokenizerPath: at('tokenizer.json') ?? '', onnxPath: findOnnx(dir, files, { onnxFile }) };
}

interface Cached {
  key: string;
  graph: GraphIndex;
  shapes: Map<string, ShapeInfo>;
  /** Blocks recognised by pattern (`#block.N` → node indices); null until an inspection ran on this graph. */
  patternScopes: Map<string, number[]> | null;
}

let cached: Cached | null = null;

function cacheKey(file: string): string {
  const s = fs.statSync(file);
  return `${file}:${s.size}:${s.mtimeMs}`;
}

/** The indexed graph and its shapes for a folder: from the last inspection when the file is unchanged. */
function graphFor(params: InspectParams): Cached {
  const files = locateForInspection(params.modelDir, params.onnxFile);
  const key = cacheKey(files.onnxPath);
  if (cached?.key === key) return cached;
  const proto = readModelProto(files.onnxPath);
  const graph = indexGraph(proto, files.onnxPath, path.dirname(files.onnxPath));
  cached = { key, graph, shapes: inferShapes(graph), patternScopes: null };
  return cached;
}

/** Forgets the cached graph (tests; a model switch replaces it anyway). */
export function clearArchitectureCache(): void {
  cached = null;
}

function readConfig(files: ModelFiles, notes: string[]): ModelConfig | null {
  if (!files.configPath && !files.genaiConfigPath) {
    notes.push(
      'No config.json or genai_config.json in the folder: every number below is read from the graph alone; RoPE θ and the context length are unknown.',
    );
    return null;
  }
  try {
    const config = readModelConfig(files);
    if (!files.genaiConfigPath || !files.configPath) return config;
    // GenAI folders often keep the Hugging Face config.json too: it has what genai_config.json lacks (RoPE θ, MLP size, tying)
    const hf = readModelConfig({ ...files, genaiConfigPath: undefined });
    const merged: ModelConfig = { ...config };
    for (const [k, v] of Object.entries(hf) as [keyof ModelConfig, unknown][])
      if (merged[k] === undefined) (merged as unknown as Record<string, unknown>)[k] = v;
    return { ...merged, raw: { ...hf.raw, ...config.raw } };
  } catch (err) {
    notes.push(`${(err as Error).message} Numbers are read from the graph alone.`);
    return null;
  }
}

function opSummary(g: GraphIndex): OpCount[] {
  const counts = new Map<string, OpCount>();
  for (const n of g.nodes) {
    const key = `${n.domain}:${n.op}`;
    const c = counts.get(key);
    if (c) c.count++;
    else counts.set(key, { op: n.op, domain: n.domain || 'ai.onnx', count: 1 });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

/** Reads a model folder's graph and describes it; throws a GlassboxError for a missing or corrupt file. */
export function inspectArchitecture(params: InspectParams): ArchitectureSummary {
  const start = performance.now();
  const notes: string[] = [];
  const files = locateForInspection(params.modelDir, params.onnxFile);
  const config = readConfig(files, notes);
  const onnxDir = path.dirname(files.onnxPath);
  const proto = readModelProto(files.onnxPath);
  const g = indexGraph(proto, files.onnxPath, onnxDir);
  const shapes = inferShapes(g);
  cached = { key: cacheKey(files.onnxPath), graph: g, shapes, patternScopes: null };

  // external data: stat'ed, never read
  const locations = [...new Set([...g.inits.values()].flatMap((i) => (i.external ? [i.external.location] : [])))];
  const external = locations.map((file) => {
    const p = path.join(onnxDir, file);
    return fs.existsSync(p)
      ? { file, bytes: fs.statSync(p).size, missing: false }
      : { file, bytes: null, missing: true };
  });
  const missing = new Set(external.filter((x) => x.missing).map((x) => x.file));
  for (const m of missing)
    notes.push(
      `External data file ${m} is missing: the structure and parameter counts are shown, the bytes of the weights stored there are unknown.`,
    );

  const scan = scanParams(g, missing);
  const raw = config?.raw ?? {};
  const act =
    typeof raw.hidden_act === 'string'
      ? raw.hidden_act
      : typeof raw.activation_function === 'string'
        ? raw.activation_function
        : undefined;
  const known: PartsInput = {
    numLayers: config?.numLayers,
    numHeads: config?.numHeads,
    numKvHeads: config?.numKvHeads,
    headDim: config?.headDim,
    hiddenSize: config?.hiddenSize,
    intermediateSize: config?.intermediateSize,
    ropeTheta: config?.ropeTheta,
    hiddenAct: act,
    vocabSize: config?.vocabSize,
    tiedEmbeddings: config?.tiedEmbeddings,
    modelType: config?.modelType,
  };
  const initProtos = new Map<string, onnx.ITensorProto>((proto.graph!.initializer ?? []).map((t) => [t.name ?? '', t]));
  const sample = (name: string, indices: number[]) => {
    const t = initProtos.get(name);
    return t ? tensorValues(t, { indices, baseDir: onnxDir }) : null;
  };
  const asm = assembleParts(g, scan.params, shapes, known, sample);
  cached.patternScopes = asm.patternScopes;
  notes.push(...asm.notes);

  const a0 = asm.blocks[0]?.attention;
  const kvInput = g.inputs.find((i) => /past|cache/i.test(i.name) && i.dtype in KV_BYTES);
  const kvDtype = kvInput?.dtype ?? 'float32';
  if (!kvInput) notes.push('The graph has no KV-cache inputs: KV-cache figures assume float32.');
  const weightBytes = scan.params.reduce<number | null>(
    (acc, p) => (acc === null || p.bytes === null ? null : acc + p.bytes),
    0,
  );
  const memoryBytes = scan.params.reduce<number | null>(
    (acc, p) => (acc === null || p.memoryBytes === null ? null : acc + p.memoryBytes),
    0,
  );
  const onnxSize = fs.statSync(files.onnxPath).size;
  const cost: CostInputs = {
    totalParams: asm.totalParams,
    matmulParams: asm.matmulParams,
    weightBytes,
    memoryBytes,
    diskBytes: missing.size ? null : onnxSize + external.reduce((acc, x) => acc + (x.bytes ?? 0), 0),
    layers: asm.blocks.length || config?.numLayers || null,
    queryHeads: a0?.queryHeads ?? config?.numHeads ?? null,
    kvHeads: a0?.kvHeads ?? config?.numKvHeads ?? null,
    headDim: a0?.headDim ?? config?.headDim ?? null,
    kvDtype,
    kvBytesPerElement: KV_BYTES[kvDtype] ?? 4,
    maxContext: config?.contextLength ?? null,
  };

  const configList: ArchitectureSummary['config'] = [];
  const source = files.genaiConfigPath ? 'genai_config.json' : files.configPath ? 'config.json' : null;
  const add = (key: string, value: number | string | boolean | null | undefined, from: string | null) => {
    if (value !== null && value !== undefined && from) configList.push({ key, value, source: from });
  };
  add('layers', config?.numLayers ?? (asm.blocks.length || null), config?.numLayers !== undefined ? source : 'graph');
  add(
    'hidden size',
    config?.hiddenSize ?? asm.parts.find((p) => p.kind === 'embedding')?.tensors[0]?.shape[1],
    config?.hiddenSize !== undefined ? source : 'graph',
  );
  add('query heads', cost.queryHeads, a0?.headsSource === 'config' ? source : (a0?.headsSource ?? source));
  add('KV heads', cost.kvHeads, a0?.headsSource === 'config' ? source : (a0?.headsSource ?? source));
  add('head dim', cost.headDim, config?.headDim !== undefined ? source : 'graph');
  add('MLP hidden size', asm.blocks[0]?.mlp.hiddenSize ?? config?.intermediateSize, 'graph');
  add(
    'vocabulary',
    config?.vocabSize ?? asm.parts.find((p) => p.kind === 'embedding')?.tensors[0]?.shape[0],
    config?.vocabSize !== undefined ? source : 'graph',
  );
  add('context length', config?.contextLength, source);
  add('RoPE θ', a0?.rope?.theta ?? null, a0?.rope?.source === 'config' ? source : 'graph');
  add('tied embeddings', asm.tiedBy !== null, asm.tiedBy ?? 'graph');
  add('activation', act, source);

  if (scan.smallConstants > 0 || scan.excluded.length > 0) {
    const buffers = scan.excluded.filter((x) => x.reason.startsWith('buffer'));
    if (buffers.length)
      notes.push(
        `Not counted as parameters: ${buffers.length} buffer(s) that are not learned (${buffers
          .slice(0, 3)
          .map((b) => b.name)
          .join(', ')}${buffers.length > 3 ? ', …' : ''}).`,
      );
  }
  const cardParams = cardParameterCount(files.dir);
  if (cardParams !== null && cardParams !== asm.totalParams) {
    notes.push(
      `The model card states ${cardParams.toLocaleString('en-US')} parameters; the graph holds ${asm.totalParams.toLocaleString('en-US')}.`,
    );
  }

  return {
    format: 'glassbox-architecture/1',
    model: {
      name: path.basename(files.dir),
      dir: files.dir,
      onnxFile: path.relative(files.dir, files.onnxPath),
      modelType: config?.modelType ?? null,
      configSource: source,
      producer: g.producerName,
      opset: g.opset,
      irVersion: g.irVersion,
    },
    config: configList,
    recognized: asm.recognized,
    family: asm.family,
    notes,
    parts: asm.parts,
    totals: {
      params: asm.totalParams,
      bytes: weightBytes,
      cardParams,
      tensors: scan.params.length,
      excluded: scan.excluded,
    },
    cost,
    ops: opSummary(g),
    graph: {
      nodes: g.nodes.length,
      initializers: g.inits.size,
      valueInfo: g.valueInfo.size,
      inputs: g.inputs,
      outputs: g.outputs,
    },
    external,
    training: readTrainingInfo(files.dir),
    inspectMs: performance.now() - start,
  };
}

/** The drill-down view of one scope (the graph is re-read only when the file changed since the last call). */
export function architectureGraph(req: GraphViewRequest): GraphView {
  let c = graphFor(req);
  if (req.scope.startsWith('#') && !c.patternScopes) {
    inspectArchitecture(req); // pattern blocks are found by the analysis
    c = graphFor(req);
  }
  const members = req.scope.startsWith('#') ? c.patternScopes?.get(req.scope) : undefined;
  if (req.scope.startsWith('#') && !members)
    throw new GlassboxError('GRAPH_UNSUPPORTED', `No block ${req.scope} in ${req.modelDir}.`);
  return buildGraphView(c.graph, c.shapes, req.scope, req.expanded, req.showShapeOps ?? false, members);
}
