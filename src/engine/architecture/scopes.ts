/**
 * Reading meaning from names: which decoder layer a node or tensor belongs to, and which component
 * inside it (norm, attention, MLP). Covers the naming styles of the exporters Glassbox meets:
 *   torch.onnx / Optimum  /model/layers.3/self_attn/q_proj/MatMul, /model/layers.3/mlp/down_proj/MatMul
 *   GenAI model builder   /model/layers.3/attn/q_proj/MatMulNBits, /model/layers.3/input_layernorm/SkipLayerNorm,
 *                         /model/layers.{N}/final_norm_layernorm/SkipLayerNorm
 *   GPT-2 (HF / Optimum)  /transformer/h.3/attn/c_attn/Gemm, /transformer/h.3/mlp/c_fc/Gemm, /transformer/ln_f/...
 *   initializer names     model.layers.3.self_attn.q_proj.weight, transformer.h.3.attn.c_attn.weight
 */

/** A path split into segments, whether it uses `/` (node names) or `.` (parameter names). */
function segments(path: string): string[] {
  return path.split(/[/.]/).filter((s) => s.length > 0);
}

const LAYER_CONTAINERS = new Set(['layers', 'h', 'layer', 'blocks', 'block', 'decoder_layers']);

/** The decoder layer index a name refers to, or null. `/model/layers.3/...` and `model.layers.3.x` both give 3. */
export function layerIndex(path: string): number | null {
  // node names keep `layers.3` in one segment; parameter names split it in two
  const m = /(?:^|[/.])(layers|h|layer|blocks|block|decoder_layers)[./](\d+)(?=[/.]|$)/.exec(path);
  if (m && LAYER_CONTAINERS.has(m[1])) return Number(m[2]);
  return null;
}

/** The scope prefix of layer `i` as it appears in a node name (`/model/layers.3`), or null. */
export function layerScopePrefix(nodeName: string): string | null {
  const m = /^(.*?[/](?:layers|h|layer|blocks|block|decoder_layers)\.\d+)(?=\/)/.exec(nodeName);
  return m ? m[1] : null;
}

export type Component = 'norm1' | 'attention' | 'norm2' | 'mlp' | 'final_norm' | null;

const NORM1 = /^(input_layernorm|ln_1|ln1|attention_norm|attn_norm|norm1|pre_attention_layernorm|input_norm)$/;
const NORM2 = /^(post_attention_layernorm|ln_2|ln2|ffn_norm|norm2|pre_feedforward_layernorm|post_attention_norm)$/;
const FINAL_NORM = /^(final_norm_layernorm|final_layernorm|final_norm|norm_f|ln_f)$/;
const ATTENTION = /^(self_attn|attn|attention|self_attention|selfattention|mixer)$/;
const MLP = /^(mlp|feed_forward|ffn|feedforward|ff)$/;

/** Which component of a block a name's segments point to (the first one that says). */
export function componentOf(path: string): Component {
  for (const s of segments(path)) {
    if (FINAL_NORM.test(s)) return 'final_norm';
    if (NORM1.test(s)) return 'norm1';
    if (NORM2.test(s)) return 'norm2';
    if (ATTENTION.test(s)) return 'attention';
    if (MLP.test(s)) return 'mlp';
  }
  // projection names without a parent scope
  for (const s of segments(path)) {
    if (/^(q_proj|k_proj|v_proj|o_proj|qkv_proj|c_attn|query_key_value|out_proj|query|key|value)$/.test(s))
      return 'attention';
    if (
      /^(gate_proj|up_proj|down_proj|gate_up_proj|c_fc|fc1|fc2|fc_in|fc_out|w1|w2|w3|dense_h_to_4h|dense_4h_to_h)$/.test(
        s,
      )
    )
      return 'mlp';
  }
  return null;
}

/** The most specific role word in a path (`q_proj`, `c_attn`, `down_proj`, `embed_tokens`, …). */
export function roleOf(path: string): string | null {
  const segs = segments(path).filter(
    (s) =>
      !/^(weight|bias|MatMul|Gemm|MatMulNBits|Gather|Add|Mul|output|\d+)$/i.test(s) &&
      !/_(Q4|scales|zp|quantized|scale|zero_point)$/.test(s),
  );
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i];
    if (/^(onnx::|_v_|Constant|Identity)/.test(s)) continue;
    if (ROLE_WORDS.test(s)) return s;
  }
  return null;
}

const ROLE_WORDS =
  /^(q_proj|k_proj|v_proj|o_proj|qkv_proj|c_attn|c_proj|c_fc|query_key_value|out_proj|dense|query|key|value|gate_proj|up_proj|down_proj|gate_up_proj|fc1|fc2|fc_in|fc_out|w1|w2|w3|dense_h_to_4h|dense_4h_to_h|embed_tokens|wte|wpe|word_embeddings|embed_positions|position_embeddings|embed_in|lm_head|embed_out|input_layernorm|post_attention_layernorm|ln_1|ln_2|ln_f|norm|final_norm_layernorm|final_layernorm)$/;

export type OuterRole = 'embedding' | 'position_embedding' | 'final_norm' | 'lm_head' | null;

/** What a name outside the decoder layers is: the token or position embedding, the final norm, the LM head. */
export function outerRoleOf(path: string): OuterRole {
  const segs = segments(path);
  for (const s of segs) {
    if (/^(wpe|embed_positions|position_embeddings|pos_emb)$/.test(s)) return 'position_embedding';
    if (/^(embed_tokens|wte|word_embeddings|embed_in|tok_embeddings|token_embedding|embeddings)$/.test(s))
      return 'embedding';
    if (/^(lm_head|embed_out|output_layer)$/.test(s)) return 'lm_head';
    if (FINAL_NORM.test(s) || /^norm$/.test(s)) return 'final_norm';
  }
  return null;
}

/** Buffers that exporters store as initializers but are not learned (masks, RoPE tables). */
export const BUFFER_NAME =
  /(^|[./])(attn\.bias|masked_bias|inv_freq|cos_cached|sin_cached|cos_cache|sin_cache|causal_mask|position_ids|rotary_emb\.[a-z_]+)$/;
