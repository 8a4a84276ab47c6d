/**
 * Graph surgery for capture: an in-memory copy of the decoder with the attention probabilities
 * (or fused attention's Q and present K) and the residual stream added as graph outputs, and a
 * second small graph holding only the final norm and LM head (the logit lens). Both load from
 * bytes with lowered optimizations; the weights are never copied into JavaScript: the graph is read
 * as a skeleton (onnx/skeleton.ts) whose weights resolve against the model's folder.
 */
import * as path from 'node:path';
import { decodeModelProto, encodeModelProto, onnx, tensorDims, tensorValues } from '../onnx/onnxFile';
import { readModelSkeleton } from '../onnx/skeleton';
import { GlassboxError } from '../errors';
import { OrtSession } from '../runtime/ort';
import { indexGraph, initializerProtos } from '../onnx/graphIndex';
import {
  extractLensGraph,
  findFusedSites,
  findResidualStream,
  findSoftmaxSites,
  type AttentionSite,
  type FusedSite,
} from './graphScan';
import type { CaptureMethod } from './types';

export interface RotaryTables {
  cos: Float32Array;
  sin: Float32Array;
  /** Columns per position: half the rotated dimensions. */
  half: number;
}

interface CapturePlan {
  method: CaptureMethod;
  sites: AttentionSite[];
  /** Graph outputs to fetch per layer: probabilities, or Q and present K. */
  fetches: string[][];
  /** Residual stream entering each layer, then the last layer's output; null without a lens. */
  residuals: string[] | null;
  lensProblem?: string;
  /** RoPE caches read from the initializers for fused ops with do_rotary, by site. */
  rotary: (RotaryTables | undefined)[];
}

export interface InstrumentedModel {
  plan: CapturePlan;
  session: OrtSession;
  /** The final norm + LM head on its own, input = the residual stream; null when not found. */
  lens: { session: OrtSession; inputType: 'float32' | 'float16' } | null;
}

/** Loads the capture sessions for `onnxPath`, or throws GRAPH_UNSUPPORTED saying what was found. */
export async function instrumentModel(
  onnxPath: string,
  numLayers: number,
  logits: string,
  threads?: number,
): Promise<InstrumentedModel> {
  // the graph without its weights: they stay in the file, and the sessions read them from there
  const model = readModelSkeleton(onnxPath);
  const plan = planCapture(model, numLayers, logits, onnxPath);
  const externalDataDir = path.dirname(onnxPath);
  // capture runs are rare and large: what a run used goes back to the system when it ends
  const opts = { optimization: 'basic' as const, threads, externalDataDir, memoryArena: false };
  const session = await OrtSession.create(addOutputs(model, plan), opts, `${onnxPath} (attention capture)`);
  let lens: InstrumentedModel['lens'] = null;
  if (plan.residuals) {
    // Exports rarely declare the residual's element type: try float32, then float16.
    for (const type of ['float32', 'float16'] as const) {
      const bytes = lensModel(model, plan.residuals[plan.residuals.length - 1], logits, type);
      if (typeof bytes === 'string') {
        plan.lensProblem = bytes;
        break;
      }
      try {
        lens = { session: await OrtSession.create(bytes, opts, `${onnxPath} (logit lens)`), inputType: type };
        break;
      } catch (err) {
        plan.lensProblem = `the final norm and LM head did not load on their own (${(err as Error).message})`;
      }
    }
    if (lens) plan.lensProblem = undefined;
    else plan.residuals = null;
  }
  return { plan, session, lens };
}

/** Decides the capture path from the graph alone (exported for tests). */
export function planCapture(model: onnx.IModelProto, numLayers: number, logits: string, source: string): CapturePlan {
  const idx = indexGraph(model);
  const softmax = findSoftmaxSites(idx, model);
  const fused = findFusedSites(idx, model);
  let sites: AttentionSite[];
  let method: CaptureMethod;
  if (softmax.length === numLayers) {
    sites = softmax;
    method = { kind: 'softmax', nodes: softmax.map((s) => s.node.name || s.probs) };
  } else if (fused.sites.length === numLayers && fused.unsupported.length === 0) {
    sites = fused.sites;
    method = {
      kind: 'fused',
      op: [...new Set(fused.sites.map((s) => s.op))].join('+'),
      nodes: fused.sites.map((s) => s.node.name || s.op),
    };
  } else {
    const found = [
      `${softmax.length} attention Softmax node(s)`,
      `${fused.sites.length} fused attention node(s)`,
      ...fused.unsupported.map((u) => `unsupported: ${u}`),
    ].join(', ');
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source}: attention could be found by neither path (expected one per layer, ${numLayers} in all; found ${found}).`,
      'The attention explorer needs Softmax nodes or GroupQueryAttention / MultiHeadAttention / Attention operators; completions and the rest of Glassbox still work.',
    );
  }
  const fetches = sites.map((s) => (s.kind === 'softmax' ? [s.probs] : [s.query, s.presentKey]));
  const residuals = findResidualStream(idx, sites, logits);
  const inits = initializerProtos(model);
  const rotary = sites.map((s) => (s.kind === 'fused' && s.rotary ? rotaryTables(inits, s, source) : undefined));
  return typeof residuals === 'string'
    ? { method, sites, fetches, residuals: null, lensProblem: residuals, rotary }
    : { method, sites, fetches, residuals, rotary };
}

function rotaryTables(inits: Map<string, onnx.ITensorProto>, site: FusedSite, source: string): RotaryTables {
  const cos = inits.get(site.rotary!.cos);
  const sin = inits.get(site.rotary!.sin);
  if (!cos || !sin) {
    throw new GlassboxError(
      'GRAPH_UNSUPPORTED',
      `${source}: ${site.node.name}: RoPE caches ${site.rotary!.cos} / ${site.rotary!.sin} are computed in the graph; the attention explorer reads them only as initializers.`,
    );
  }
  const read = (t: onnx.ITensorProto) => {
    const values = tensorValues(t, { max: 1 << 22, baseDir: path.dirname(source) });
    if (!values)
      throw new GlassboxError(
        'GRAPH_UNSUPPORTED',
        `${source}: cannot read the RoPE cache ${t.name} (float32 or float16 expected).`,
      );
    return Float32Array.from(values);
  };
  const dims = tensorDims(cos);
  return { cos: read(cos), sin: read(sin), half: dims[dims.length - 1] };
}

/** A copy of the model with the plan's tensors as extra graph outputs. */
function addOutputs(model: onnx.IModelProto, plan: CapturePlan): Uint8Array {
  const copy = decodeModelProto(encodeModelProto(model), 'instrumented model');
  const g = copy.graph!;
  // Fused ops may leave their present-key output unnamed; name it so it can be fetched.
  plan.sites.forEach((s) => {
    if (s.kind !== 'fused') return;
    const node = g.node![(model.graph!.node ?? []).indexOf(s.node)];
    const outs = [...(node.output ?? [])];
    while (outs.length < 2) outs.push('');
    if (!outs[1]) outs[1] = s.presentKey;
    node.output = outs;
  });
  const existing = new Set((g.output ?? []).map((o) => o.name));
  const wanted = [...plan.fetches.flat(), ...(plan.residuals ?? [])];
  for (const name of new Set(wanted)) {
    if (!existing.has(name)) g.output!.push(onnx.ValueInfoProto.create({ name }));
  }
  return encodeModelProto(copy);
}

/** The final norm and LM head as a model of their own (input: the last residual), or why not. */
function lensModel(
  model: onnx.IModelProto,
  residual: string,
  logits: string,
  type: 'float32' | 'float16',
): Uint8Array | string {
  const sub = extractLensGraph(indexGraph(model), model, residual, logits);
  if (typeof sub === 'string') return sub;
  const logitsInfo = (model.graph!.output ?? []).find((o) => o.name === logits);
  const graph = onnx.GraphProto.create({
    name: 'logit_lens',
    node: sub.nodes as onnx.NodeProto[],
    initializer: sub.initializers as onnx.TensorProto[],
    input: [
      onnx.ValueInfoProto.create({
        name: residual,
        type: {
          tensorType: {
            elemType: type === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.FLOAT16,
          },
        },
      }),
    ],
    output: [onnx.ValueInfoProto.create({ name: logits, type: logitsInfo?.type ?? undefined })],
  });
  return encodeModelProto({
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: 'glassbox-logit-lens',
    graph,
  });
}
