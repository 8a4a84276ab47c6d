/** Graphs the architecture tests build in code: a GenAI-builder-style int4 decoder, an unknown structure, and 20,000-node graphs. */
import { DT, type GraphSpec, init, node, value } from './onnxBuild';
import type { onnx } from '../../src/engine/onnx/onnxFile';

export const GENAI_DIMS = {
  layers: 2,
  hidden: 64,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  inter: 128,
  vocab: 256,
  block: 32,
};
/** Qwen2.5-0.5B's shape (without its q/k/v biases). */
export const HALF_B_DIMS = {
  layers: 24,
  hidden: 896,
  heads: 14,
  kvHeads: 2,
  headDim: 64,
  inter: 4864,
  vocab: 151936,
  block: 32,
};

type Dims = typeof GENAI_DIMS;
const BYTES: Record<number, number> = { [DT.uint8]: 1, [DT.float16]: 2, [DT.float]: 4 };

/** Makes initializers: inline zeros, or (external) entries pointing into one data file, which the caller creates. */
class Store {
  offset = 0;
  constructor(readonly external: string | null) {}
  make(name: string, dims: number[], dataType: number): onnx.ITensorProto {
    if (!this.external) return init(name, dims, dataType);
    const length = dims.reduce((a, b) => a * b, 1) * BYTES[dataType];
    const t: onnx.ITensorProto = {
      name,
      dims,
      dataType,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: this.external },
        { key: 'offset', value: String(this.offset) },
        { key: 'length', value: String(length) },
      ],
    };
    this.offset += length;
    return t;
  }
}

/** An int4 MatMulNBits weight [K, N] as the model builder stores it: B [N, K/block, block/2] uint8, scales fp16 [N·K/block]. */
function nbits(
  scope: string,
  input: string,
  K: number,
  N: number,
  block: number,
  spec: GraphSpec,
  store: Store,
): string {
  const w = `${scope.slice(1).replace(/\//g, '.')}.MatMul.weight`;
  spec.inits.push(
    store.make(`${w}_Q4`, [N, K / block, block / 2], DT.uint8),
    store.make(`${w}_scales`, [(N * K) / block], DT.float16),
  );
  const out = `${scope}/MatMulNBits/output_0`;
  spec.nodes.push(
    node(
      'MatMulNBits',
      `${scope}/MatMulNBits`,
      [input, `${w}_Q4`, `${w}_scales`],
      [out],
      { K, N, bits: 4, block_size: block, accuracy_level: 4 },
      'com.microsoft',
    ),
  );
  return out;
}

/**
 * The naming and operators of ONNX Runtime GenAI's model builder (int4): SkipSimplifiedLayerNormalization
 * norms that also add the residual, MatMulNBits projections, GroupQueryAttention with rotary, and the final
 * norm at /model/layers.{N}/final_norm_layernorm. Expected parameters: see the test.
 */
export function genaiBuilderGraph(
  dims: Dims = GENAI_DIMS,
  externalData: string | null = null,
): GraphSpec & { dataBytes: number } {
  const { layers, hidden: d, heads, kvHeads, headDim, inter, vocab, block } = dims;
  const store = new Store(externalData);
  const spec: GraphSpec = {
    nodes: [],
    inits: [],
    inputs: [value('input_ids', DT.int64, ['batch_size', 'sequence_length'])],
    outputs: [],
  };
  spec.inits.push(
    store.make('model.embed_tokens.weight', [vocab, d], DT.float16),
    init('cos_cache', [512, headDim / 2], DT.float16),
    init('sin_cache', [512, headDim / 2], DT.float16),
  );
  spec.nodes.push(
    node(
      'Gather',
      '/model/embed_tokens/Gather',
      ['model.embed_tokens.weight', 'input_ids'],
      ['/model/embed_tokens/Gather/output_0'],
    ),
  );
  let x = '/model/embed_tokens/Gather/output_0';
  let skip = '';
  for (let i = 0; i < layers; i++) {
    const L = `/model/layers.${i}`;
    spec.inputs.push(
      value(`past_key_values.${i}.key`, DT.float16, ['batch_size', kvHeads, 'past_sequence_length', headDim]),
      value(`past_key_values.${i}.value`, DT.float16, ['batch_size', kvHeads, 'past_sequence_length', headDim]),
    );
    spec.inits.push(
      store.make(`model.layers.${i}.input_layernorm.weight`, [d], DT.float16),
      store.make(`model.layers.${i}.post_attention_layernorm.weight`, [d], DT.float16),
    );
    const n1 = `${L}/input_layernorm/output_0`;
    if (i === 0)
      spec.nodes.push(
        node(
          'SimplifiedLayerNormalization',
          `${L}/input_layernorm/LayerNorm`,
          [x, `model.layers.${i}.input_layernorm.weight`],
          [n1],
          { axis: -1, epsilon: 1e-5 },
        ),
      );
    else {
      spec.nodes.push(
        node(
          'SkipSimplifiedLayerNormalization',
          `${L}/input_layernorm/SkipLayerNorm`,
          [x, skip, `model.layers.${i}.input_layernorm.weight`],
          [n1, '', '', `${L}/input_layernorm/output_3`],
          { epsilon: 1e-5 },
          'com.microsoft',
        ),
      );
      x = `${L}/input_layernorm/output_3`;
    }
    const q = nbits(`${L}/attn/q_proj`, n1, d, heads * headDim, block, spec, store);
    const k = nbits(`${L}/attn/k_proj`, n1, d, kvHeads * headDim, block, spec, store);
    const v = nbits(`${L}/attn/v_proj`, n1, d, kvHeads * headDim, block, spec, store);
    const attn = `${L}/attn/GroupQueryAttention/output_0`;
    spec.nodes.push(
      node(
        'GroupQueryAttention',
        `${L}/attn/GroupQueryAttention`,
        [
          q,
          k,
          v,
          `past_key_values.${i}.key`,
          `past_key_values.${i}.value`,
          'seqlens_k',
          'total_seq_len',
          'cos_cache',
          'sin_cache',
        ],
        [attn, `present.${i}.key`, `present.${i}.value`],
        { num_heads: heads, kv_num_heads: kvHeads, do_rotary: 1, scale: 0.25 },
        'com.microsoft',
      ),
    );
    const o = nbits(`${L}/attn/o_proj`, attn, heads * headDim, d, block, spec, store);
    const n2 = `${L}/post_attention_layernorm/output_0`;
    spec.nodes.push(
      node(
        'SkipSimplifiedLayerNormalization',
        `${L}/post_attention_layernorm/SkipLayerNorm`,
        [x, o, `model.layers.${i}.post_attention_layernorm.weight`],
        [n2, '', '', `${L}/post_attention_layernorm/output_3`],
        { epsilon: 1e-5 },
        'com.microsoft',
      ),
    );
    x = `${L}/post_attention_layernorm/output_3`;
    const gate = nbits(`${L}/mlp/gate_proj`, n2, d, inter, block, spec, store);
    const up = nbits(`${L}/mlp/up_proj`, n2, d, inter, block, spec, store);
    spec.nodes.push(
      node('Sigmoid', `${L}/mlp/act_fn/Sigmoid`, [gate], [`${L}/mlp/act_fn/Sigmoid/output_0`]),
      node('Mul', `${L}/mlp/act_fn/Mul`, [gate, `${L}/mlp/act_fn/Sigmoid/output_0`], [`${L}/mlp/act_fn/Mul/output_0`]),
      node('Mul', `${L}/mlp/Mul`, [`${L}/mlp/act_fn/Mul/output_0`, up], [`${L}/mlp/Mul/output_0`]),
    );
    skip = nbits(`${L}/mlp/down_proj`, `${L}/mlp/Mul/output_0`, inter, d, block, spec, store);
  }
  const F = `/model/layers.${layers}/final_norm_layernorm`;
  spec.inits.push(store.make(`model.layers.${layers}.final_norm_layernorm.weight`, [d], DT.float16));
  spec.nodes.push(
    node(
      'SkipSimplifiedLayerNormalization',
      `${F}/SkipLayerNorm`,
      [x, skip, `model.layers.${layers}.final_norm_layernorm.weight`],
      [`${F}/output_0`],
      { epsilon: 1e-5 },
      'com.microsoft',
    ),
  );
  const logits = nbits('/lm_head', `${F}/output_0`, d, vocab, block, spec, store);
  spec.nodes.push(node('Cast', '/lm_head/Cast', [logits], ['logits'], { to: DT.float }));
  spec.outputs.push(value('logits', DT.float, ['batch_size', 'sequence_length', vocab]));
  return { ...spec, dataBytes: store.offset };
}

/** A small MLP classifier with TF-style names: not a decoder. */
export function unknownGraph(): GraphSpec {
  return {
    inputs: [value('features', DT.float, ['batch', 32])],
    outputs: [value('scores', DT.float, ['batch', 10])],
    inits: [
      init('dense_1/kernel', [32, 48]),
      init('dense_1/bias', [48]),
      init('dense_2/kernel', [48, 10]),
      init('dense_2/bias', [10]),
    ],
    nodes: [
      node('MatMul', 'dense_1/MatMul', ['features', 'dense_1/kernel'], ['h1']),
      node('Add', 'dense_1/BiasAdd', ['h1', 'dense_1/bias'], ['h1b']),
      node('Relu', 'dense_1/Relu', ['h1b'], ['a1']),
      node('MatMul', 'dense_2/MatMul', ['a1', 'dense_2/kernel'], ['h2']),
      node('Add', 'dense_2/BiasAdd', ['h2', 'dense_2/bias'], ['scores']),
    ],
  };
}

/** `layers` × `perLayer` nodes under /model/layers.N/part_K/ plus one weight per layer; or flat (no scopes) when layers is 0. */
export function bigGraph(total: number, layers: number): GraphSpec {
  const spec: GraphSpec = { nodes: [], inits: [], inputs: [value('x', DT.float, ['batch', 16])], outputs: [] };
  let cur = 'x';
  const perLayer = layers ? Math.floor(total / layers) : total;
  for (let l = 0; l < Math.max(1, layers); l++) {
    const L = layers ? `/model/layers.${l}` : '';
    if (layers) {
      spec.inits.push(init(`w${l}`, [16, 16]));
      spec.nodes.push(node('MatMul', `${L}/mlp/up_proj/MatMul`, [cur, `w${l}`], [`${L}/mm`]));
      cur = `${L}/mm`;
    }
    for (let k = 1; k < perLayer; k++) {
      const name = layers ? `${L}/part_${k % 10}/Relu_${k}` : `Relu_${k}`;
      spec.nodes.push(node('Relu', name, [cur], [`${name}:0`]));
      cur = `${name}:0`;
    }
  }
  spec.outputs.push(value(cur, DT.float, ['batch', 16]));
  return spec;
}
