/**
 * What the architecture explorer knows about a model, read from its own ONNX graph: the decoder's
 * parts and blocks with their parameters, bytes and dtypes, the inputs of the cost figures, the
 * operator summary, and the drill-down graph views. Plain data with no imports: the engine worker
 * builds it, and the webview (webview/architecture/) reads the same types.
 */

/** A tensor dimension: a number, or a symbolic name such as `sequence_length`. */
export type Dim = number | string;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: Dim[] | null;
}

/** One learned tensor as the model uses it (an initializer, or an exporter's alias of one). */
export interface ParamTensor {
  /** Tensor name in the graph. */
  name: string;
  /** What it is, from its consumer: `q_proj`, `c_attn`, `norm`, `embedding`, … */
  role: string;
  /** The node that uses it. */
  consumer: string;
  /** Logical shape ([K, N] for a MatMulNBits weight, not its packed blob). */
  shape: number[];
  /** Learned values it holds (scales and zero points are not counted). */
  params: number;
  /** `fp32`, `fp16`, `bf16`, `int8`, `uint8`, `int4`. */
  dtype: string;
  /** Quantization, when the weight is quantized: `int4, block 32 (MatMulNBits)`. */
  quant?: string;
  /** Stored bytes with scales and zero points; 0 when it shares another tensor's storage; null when its external data is missing. */
  bytes: number | null;
  /** The exporter deduplicated it: it shares this tensor's storage (identical values at export). */
  sharedWith?: string;
  external?: boolean;
}

type PartKind = 'embedding' | 'position_embedding' | 'block' | 'final_norm' | 'lm_head' | 'other';

/** Parameters, bytes and dtype of one component (a norm, the attention, the MLP). */
export interface ComponentSize {
  params: number;
  bytes: number | null;
  dtype: string;
}

export interface NormInfo extends ComponentSize {
  kind: 'RMSNorm' | 'LayerNorm' | 'unknown';
  /** The operators it is made of (`SimplifiedLayerNormalization`, or `Pow, ReduceMean, Sqrt, Div, Mul`). */
  ops: string[];
  /** A Skip*LayerNormalization that also adds the residual. */
  fusedResidual: boolean;
}

export interface AttentionInfo extends ComponentSize {
  /** `MatMul + Softmax (unfused)`, `GroupQueryAttention`, `MultiHeadAttention`, `Attention`, `unknown`. */
  kind: string;
  fused: boolean;
  queryHeads: number | null;
  kvHeads: number | null;
  /** Query heads per KV head (1: multi-head attention; queryHeads: multi-query). */
  groupSize: number | null;
  headDim: number | null;
  /** Where the head numbers come from. */
  headsSource: 'config' | 'operator' | 'graph' | null;
  /** Rotary position embedding; null when none was found (e.g. GPT-2's learned positions). */
  rope: { theta: number | null; source: string } | null;
  /** Projection roles found: `q_proj`, `k_proj`, … or `c_attn (fused q,k,v)`. */
  projections: string[];
}

export interface MlpInfo extends ComponentSize {
  kind: 'SwiGLU' | 'GeGLU' | 'GELU' | 'ReLU' | 'SiLU' | 'unknown';
  hiddenSize: number | null;
  activation: string;
  projections: string[];
}

export interface BlockInfo {
  index: number;
  norm1: NormInfo;
  attention: AttentionInfo;
  norm2: NormInfo;
  mlp: MlpInfo;
  /** Residual additions found (Add nodes at the block's level, or fused into Skip*LayerNormalization). */
  residualAdds: number;
  /** Parameters in the block that belong to none of the four components. */
  otherParams: number;
}

/** One box of the diagram: the embedding, a decoder block, the final norm, the LM head. */
export interface Part {
  id: string;
  kind: PartKind;
  label: string;
  /** Name scope of its operators, for the drill-down (`/model/layers.0`); null when it has none. */
  scope: string | null;
  params: number;
  /** params / total, 0..1. */
  share: number;
  /** Stored bytes; null when some of its external data is missing. */
  bytes: number | null;
  /** Dtype or quantization of its weights: `fp32`, `int4 (block 32)`, `int8 + fp32`. */
  dtype: string;
  tensors: ParamTensor[];
  /** An LM head tied to the embedding: its parameters are counted there, once. */
  tiedTo?: string;
  note?: string;
  block?: BlockInfo;
}

export interface OpCount {
  op: string;
  domain: string;
  count: number;
}

/** Everything the derived figures are computed from (see figures.ts for the formulas). */
export interface CostInputs {
  totalParams: number;
  /** Parameters multiplied once per token: every linear layer and the LM head (tied or not). */
  matmulParams: number;
  /** Stored bytes of all weights, scales and zero points, as in the file(s). */
  weightBytes: number | null;
  /** Bytes of weights as ONNX Runtime holds them (fp16 weights that the graph casts to fp32 are folded to fp32 at load). */
  memoryBytes: number | null;
  /** The .onnx file and its external data files. */
  diskBytes: number | null;
  layers: number | null;
  queryHeads: number | null;
  kvHeads: number | null;
  headDim: number | null;
  kvDtype: string;
  kvBytesPerElement: number;
  /** The model's context length (config), caps the slider. */
  maxContext: number | null;
}

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export interface ScalingPoint {
  params: number;
  loss: number;
  tokens?: number;
  flops?: number;
  label?: string;
}

/** Training and scaling records committed beside the model (absent for most models). */
export interface TrainingInfo {
  loss: { xLabel: string; series: Series[]; source: string } | null;
  scaling: {
    points: ScalingPoint[];
    fit: { a: number; alpha: number; c: number; source: string } | null;
    source: string;
    /** What N counts, as the file says. */ note: string | null;
  } | null;
  quantization: { columns: string[]; rows: (string | number | boolean | null)[][]; source: string } | null;
  notes: string[];
}

export interface ArchitectureSummary {
  format: 'glassbox-architecture/1';
  model: {
    name: string;
    dir: string;
    /** The .onnx file, relative to dir. */
    onnxFile: string;
    modelType: string | null;
    /** `config.json`, `genai_config.json`, or null when the folder has neither. */
    configSource: string | null;
    producer: string;
    opset: number | null;
    irVersion: number | null;
  };
  /** The architecture numbers used, with where each came from. */
  config: { key: string; value: number | string | boolean; source: string }[];
  /** Whether the decoder's blocks were recognised. */
  recognized: boolean;
  family: string;
  /** What was not recognised, what is missing, and assumptions made. */
  notes: string[];
  parts: Part[];
  totals: {
    params: number;
    bytes: number | null;
    /** The parameter count the model card (README.md) states, when it states one. */
    cardParams: number | null;
    tensors: number;
    /** Initializers not counted as parameters (buffers, constants), with why. */
    excluded: { name: string; reason: string }[];
  };
  cost: CostInputs;
  ops: OpCount[];
  graph: { nodes: number; initializers: number; valueInfo: number; inputs: TensorInfo[]; outputs: TensorInfo[] };
  external: { file: string; bytes: number | null; missing: boolean }[];
  training: TrainingInfo;
  /** Time to read and analyse the graph, ms. */
  inspectMs: number;
}

/** Which part of the graph to lay out: the operators under `scope`, with `expanded` sub-scopes opened. */
export interface GraphViewRequest {
  modelDir: string;
  onnxFile?: string;
  scope: string;
  expanded: string[];
  /** Also draw shape arithmetic (Shape, Gather/Concat/Unsqueeze on shapes); hidden by default. */
  showShapeOps?: boolean;
}

export interface ViewTensor {
  name: string;
  dtype: string | null;
  shape: Dim[] | null;
  /** An initializer (weight or constant) rather than a computed value. */
  initializer: boolean;
}

export interface ViewNode {
  id: string;
  kind: 'op' | 'scope' | 'input' | 'output';
  /** Operator type, scope name, or tensor name. */
  label: string;
  /** Second line: initializer shapes for an op, operator count for a collapsed scope. */
  sublabel: string;
  /** Full node name or scope path. */
  name: string;
  /** The expanded scope it sits in (its cluster), or null at the view's top level. */
  parent: string | null;
  x: number;
  y: number;
  width: number;
  height: number;
  /** For ops: inputs, outputs and attributes. For scopes: how many nodes they hold. */
  inputs: ViewTensor[];
  outputs: ViewTensor[];
  attributes: [string, string][];
  nodeCount: number;
}

export interface ViewCluster {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ViewEdge {
  from: string;
  to: string;
  /** Shape of the tensor it carries, when known (`[batch, seq, 64]`). */
  label: string;
  points: { x: number; y: number }[];
}

export interface GraphView {
  scope: string;
  expanded: string[];
  /** Operators under the scope in the file. */
  totalNodes: number;
  nodes: ViewNode[];
  clusters: ViewCluster[];
  edges: ViewEdge[];
  width: number;
  height: number;
  /** Operators not drawn: constants, weight casts, and shape arithmetic unless asked for. */
  hiddenOps: number;
  note: string | null;
  layoutMs: number;
}
