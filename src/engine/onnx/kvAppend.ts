/**
 * A decoder export hands back the whole KV cache every run: `present.N.key` is
 * Concat(past, new keys), and onnxruntime-node copies each fetched output into a new JavaScript
 * ArrayBuffer. At a 1,000-token cache that is 4.6 MB of fresh memory per decode step for the
 * embedded model (12 caches of [1, 3, 1,000, 32] floats): page faults, a copy, and a collection
 * every few steps. Fetching only the logits made a step at a 1,000-token cache 27% faster on a
 * 2-core EPYC (bench/README.md).
 *
 * So this rewrites an in-memory copy of the graph so the engine owns the cache as a buffer it
 * appends to (kvCache.ts's AppendKvCache):
 *
 *   past_key_values.N.*    [batch, kvHeads, capacity, headDim]   the engine's buffer, fed as is
 *   glassbox_past_length   int64 [1]                             positions of it in use
 *   present.N.*.glassbox_new   [batch, kvHeads, new, headDim]    only the run's own keys/values
 *
 * Inside, a Slice takes the first `past_length` positions of each buffer before the export's
 * Concat: ORT copies them in its own arena (reused every run), not into JavaScript. The present
 * outputs stay in the graph for whoever wants them; generation does not fetch them.
 */
import { indexGraph } from './graphIndex';
import { onnx } from './onnxFile';

/** The rewrite's input: how many positions of each past buffer hold keys and values. */
export const PAST_LENGTH = 'glassbox_past_length';
/** Suffix of the outputs that carry a run's new keys and values (the present's name + this). */
export const APPENDED_SUFFIX = '.glassbox_new';

const INT64 = onnx.TensorProto.DataType.INT64;

/**
 * Rewrites `model` (in place) for an appended cache; false (and the model untouched) unless every
 * present is a rank-4 Concat along the sequence axis whose first input is its past.
 * `pairs` are the [past, present] names (separate key and value caches).
 */
export function appendOnlyKv(model: onnx.ModelProto, pairs: readonly (readonly [string, string])[]): boolean {
  const graph = model.graph as onnx.GraphProto;
  const idx = indexGraph(model);
  const plan: { past: string; fresh: string; present: string }[] = [];
  for (const [past, present] of pairs) {
    const producer = idx.producer.get(present);
    const node = producer === undefined ? undefined : idx.nodes[producer];
    const rank = graph.input.find((i) => i.name === past)?.type?.tensorType?.shape?.dim?.length;
    const axis = node?.attrs.axis;
    if (!node || node.op !== 'Concat' || node.inputs.length !== 2 || node.inputs[0] !== past) return false;
    if (rank !== 4 || (axis !== 2 && axis !== -2)) return false;
    plan.push({ past, fresh: node.inputs[1], present });
  }
  if (plan.length === 0) return false;

  const at = (name: string) => `/glassbox/kv_append/${name}`;
  const int64 = (name: string, value: number) =>
    onnx.TensorProto.create({
      name,
      dims: [1],
      dataType: INT64,
      rawData: new Uint8Array(BigInt64Array.of(BigInt(value)).buffer),
    });
  graph.initializer.push(int64(at('zero'), 0), int64(at('axis'), 2));
  graph.input.push(
    onnx.ValueInfoProto.create({
      name: PAST_LENGTH,
      type: { tensorType: { elemType: INT64, shape: { dim: [{ dimValue: 1 }] } } },
    }),
  );
  const head: onnx.NodeProto[] = [];
  for (const { past, fresh, present } of plan) {
    const used = `${past}/glassbox_used`;
    // every reader of the past (the Concat, and Shape nodes that derive the mask's length) reads the used part
    for (const i of idx.consumers.get(past) ?? []) {
      const n = graph.node[i];
      n.input = (n.input ?? []).map((x) => (x === past ? used : x));
    }
    head.push(
      onnx.NodeProto.create({
        name: at(`${past}/Slice`),
        opType: 'Slice',
        input: [past, at('zero'), PAST_LENGTH, at('axis')],
        output: [used],
      }),
    );
    const dims = graph.input.find((i) => i.name === past)!.type!.tensorType!.shape!.dim!;
    dims[2] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'glassbox_capacity' });
    const out = present + APPENDED_SUFFIX;
    graph.node.push(
      onnx.NodeProto.create({ name: at(`${present}/Identity`), opType: 'Identity', input: [fresh], output: [out] }),
    );
    const elemType = graph.output.find((o) => o.name === present)?.type?.tensorType?.elemType;
    graph.output.push(
      onnx.ValueInfoProto.create({
        name: out,
        type: { tensorType: { elemType: elemType ?? onnx.TensorProto.DataType.FLOAT } },
      }),
    );
  }
  graph.node.unshift(...head); // they read graph inputs and initializers only
  return true;
}
