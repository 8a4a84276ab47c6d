/**
 * Generation needs the next-token logits of the last position only, yet decoder exports compute
 * the final norm and the LM head for every position: for a 1,024-token prompt of a small model
 * that is about a third of the prefill's FLOPs (8,192 × hidden × 2 per position). This rewrites an
 * in-memory copy of the graph so the last layer's output is sliced to its last position first:
 * logits become [batch, 1, vocab]. The file on disk is untouched; the engine keeps it for the
 * callers that want every position's logits (evaluation, golden checks).
 */
import { indexGraph } from './graphIndex';
import { onnx } from './onnxFile';
import { findLastResidual } from './residual';

const INT64_MAX = '9223372036854775807';

/**
 * The rewrite's one new graph input: how many of the last positions get logits (int64 [1]; 1 for
 * a decode step, k + 1 to verify a k-token draft, as Hugging Face's `logits_to_keep`).
 */
export const LOGITS_TO_KEEP = 'glassbox_logits_to_keep';

/**
 * Rewrites `model` (in place) so its `logits` output holds the last positions only, as many as the
 * input LOGITS_TO_KEEP says; false (and the model untouched) when the graph's final norm can't be
 * found.
 */
export function lastPositionLogits(model: onnx.ModelProto, logits: string): boolean {
  const graph = model.graph as onnx.GraphProto; // decoded: repeated fields are arrays
  const idx = indexGraph(model); // node i is graph.node[i] until the Slice goes in below
  const last = findLastResidual(idx, logits);
  const producer = last ? idx.producer.get(last) : undefined;
  if (!last || producer === undefined || idx.outputs.some((o) => o.name === last)) return false;
  const sliced = `${last}/glassbox_last_position`;
  const consts = { starts: `${sliced}/starts`, ends: `${sliced}/ends`, axes: `${sliced}/axes` };
  const int64 = (name: string, value: string) =>
    onnx.TensorProto.create({
      name,
      dims: [1],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(BigInt64Array.from([BigInt(value)]).buffer),
    });
  graph.initializer.push(int64(consts.ends, INT64_MAX), int64(consts.axes, '1'));
  graph.input.push(
    onnx.ValueInfoProto.create({
      name: LOGITS_TO_KEEP,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimValue: 1 }] } } },
    }),
  );
  for (const i of idx.consumers.get(last) ?? []) {
    const n = graph.node[i];
    n.input = (n.input ?? []).map((x) => (x === last ? sliced : x));
  }
  // [batch, seq, hidden] → [batch, keep, hidden], right after the node that computes it (topological order).
  const starts = onnx.NodeProto.create({
    name: '/glassbox/last_position/Neg',
    opType: 'Neg',
    input: [LOGITS_TO_KEEP],
    output: [consts.starts],
  });
  const slice = onnx.NodeProto.create({
    name: '/glassbox/last_position/Slice',
    opType: 'Slice',
    input: [last, consts.starts, consts.ends, consts.axes],
    output: [sliced],
  });
  graph.node.splice(producer + 1, 0, starts, slice);
  return true;
}
