/**
 * Each generated token needs log Σ exp over the whole vocabulary (for its logprob) and the top
 * few ids (the greedy choice and the alternatives the explorers show). Done in JavaScript that is
 * one Math.exp per vocabulary entry, about 0.15 ms a step for 8,192 logits on a 2-core EPYC:
 * as much as a tenth of a decode step. ONNX Runtime does the same with vectorized kernels inside
 * the run, so this adds to an in-memory copy of the graph (after the last-position rewrite, when
 * logits are [batch, 1, vocab]):
 *
 *   glassbox_top_logits  [batch, 1, K] float32   the K largest logits, largest first
 *   glassbox_top_ids     [batch, 1, K] int64     their ids
 *   glassbox_logsumexp   [batch, 1]    float32   log Σ exp(logits)
 *
 * The full logits stay an output: sampling, the copy cache's candidates and token healing read them.
 */
import { onnx, toNumber } from './onnxFile';

export const SUMMARY_OUTPUTS = {
  topLogits: 'glassbox_top_logits',
  topIds: 'glassbox_top_ids',
  logSumExp: 'glassbox_logsumexp',
} as const;

/** Ids the graph ranks: the greedy choice plus the 5 alternatives a step reports, with room to spare. */
export const SUMMARY_TOP_K = 8;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT = onnx.AttributeProto.AttributeType.INT;

/**
 * Adds the summary outputs to `model` (in place); false (and the model untouched) when the graph's
 * opset predates TopK's K input (opset 10) or the logits are not a graph output.
 */
export function addLogitsSummary(model: onnx.ModelProto, logits: string): boolean {
  const graph = model.graph as onnx.GraphProto;
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? toNumber(opsetEntry.version) : 0;
  const out = graph.output.find((o) => o.name === logits);
  if (opset < 10 || !out) return false;
  const at = (name: string) => `/glassbox/logits_summary/${name}`;
  const int64 = (name: string, values: number[]) =>
    onnx.TensorProto.create({
      name,
      dims: [values.length],
      dataType: INT64,
      rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
    });
  const node = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []) =>
    onnx.NodeProto.create({ name: at(opType), opType, input, output, attribute });

  // float16 logits are summed in float32: log Σ exp over 8,192 terms needs the range
  const isFloat = out.type?.tensorType?.elemType === FLOAT;
  const source = isFloat ? logits : at('logits_f32');
  const nodes: onnx.NodeProto[] = [];
  if (!isFloat)
    nodes.push(node('Cast', [logits], [source], [onnx.AttributeProto.create({ name: 'to', type: INT, i: FLOAT })]));
  graph.initializer.push(int64(at('k'), [SUMMARY_TOP_K]));
  nodes.push(
    node(
      'TopK',
      [source, at('k')],
      [SUMMARY_OUTPUTS.topLogits, SUMMARY_OUTPUTS.topIds],
      [onnx.AttributeProto.create({ name: 'axis', type: INT, i: -1 })],
    ),
  );
  const keepdims = onnx.AttributeProto.create({ name: 'keepdims', type: INT, i: 0 });
  if (opset >= 18) {
    // axes became an input in opset 18
    graph.initializer.push(int64(at('axes'), [-1]));
    nodes.push(node('ReduceLogSumExp', [source, at('axes')], [SUMMARY_OUTPUTS.logSumExp], [keepdims]));
  } else {
    const axes = onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [-1] });
    nodes.push(node('ReduceLogSumExp', [source], [SUMMARY_OUTPUTS.logSumExp], [axes, keepdims]));
  }
  graph.node.push(...nodes); // logits is a graph output, so everything that computes it comes before
  const tensorOutput = (name: string, elemType: number) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } });
  graph.output.push(
    tensorOutput(SUMMARY_OUTPUTS.topLogits, FLOAT),
    tensorOutput(SUMMARY_OUTPUTS.topIds, INT64),
    tensorOutput(SUMMARY_OUTPUTS.logSumExp, FLOAT),
  );
  return true;
}
