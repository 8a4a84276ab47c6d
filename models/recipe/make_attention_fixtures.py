"""Test models for the attention explorer: test-tiny's weights in two other graph shapes.

    nice -n 5 /usr/bin/python3 models/recipe/make_attention_fixtures.py [--skip-checks]

Needs models/test-tiny (make_test_models.py) for the tokenizer and config. Writes:
  test/fixtures/models/tiny-renamed/  torch.onnx.export of the same decoder with GPT-2 style module
                                      names (transformer.wte, transformer.h.N.ln_1/attn/ln_2/mlp,
                                      transformer.ln_f), so Softmax nodes are
                                      `/transformer/h.N/attn/Softmax`: the graph-surgery path must
                                      not rely on Optimum's `model.layers.N.self_attn` names.
  test/fixtures/models/tiny-gqa/      a graph written node by node with onnx.helper around
                                      com.microsoft GroupQueryAttention (no Softmax anywhere, node
                                      names without scopes). Layer 0 uses do_rotary=1 (RoPE inside
                                      the op, from cos/sin caches); layer 1 applies RoPE with plain
                                      ops before the op (do_rotary=0). Both are what ONNX Runtime
                                      GenAI's model builder emits.

Each folder gets config.json and tokenizer files (copied from test-tiny), onnx/model.onnx and
golden.json (glassbox-golden/1, one case with `attentions` [layer][head][seq][seq] from PyTorch,
plus `lens_logits` [layer + 1][vocab]: lm_head(norm(h)) at the last position for the embedding
output and each layer's output, the logit lens reference). Unless --skip-checks, check_onnx.mjs
confirms onnxruntime-node reproduces PyTorch's logits and greedy tokens through the KV cache.
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto as TP, helper, numpy_helper

import golden
from bpe import Tokenizer
from export_onnx import OPSET, PAST_KEY, PAST_VALUE, PRESENT_KEY, PRESENT_VALUE
from make_test_models import CONFIG, EMBED_STD, FIXTURES, FP32_ATOL, SEED, TINY, WEIGHT_STD
from model import AttentionShapes, LlamaForCausalLM

RENAMED = os.path.join(FIXTURES, "tiny-renamed")
GQA = os.path.join(FIXTURES, "tiny-gqa")
COPIED = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]


# ---------------------------------------------------------------- 1. GPT-2 style module names

class Block(nn.Module):
    """One decoder layer under GPT-2's names; borrows the Llama layer's modules."""

    def __init__(self, layer):
        super().__init__()
        self.ln_1 = layer.input_layernorm
        self.attn = layer.self_attn
        self.ln_2 = layer.post_attention_layernorm
        self.mlp = layer.mlp

    def forward(self, x, cos, sin, mask_bias, shapes, past_k, past_v):
        a, present, _ = self.attn(self.ln_1(x), cos, sin, mask_bias, shapes, past_k, past_v)
        x = x + a                                                  # (B, T, d)
        return x + self.mlp(self.ln_2(x)), present


class Transformer(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.wte = lm.model.embed_tokens
        self.h = nn.ModuleList([Block(layer) for layer in lm.model.layers])
        self.ln_f = lm.model.norm
        self.rotary = lm.model.rotary_emb
        self.config = lm.config

    def forward(self, input_ids, attention_mask, position_ids, past):
        x = self.wte(input_ids)                                    # (B, T, d)
        T = input_ids.shape[1]
        S = past[0][0].shape[2] + T
        k_pos = torch.arange(S)                                    # (S,)
        causal = k_pos[None, :] <= k_pos[S - T:][:, None]          # (T, S)
        mask = causal[None, None] & attention_mask[:, None, None, :].bool()  # (B, 1, T, S)
        mask_bias = torch.zeros(mask.shape, dtype=x.dtype).masked_fill(~mask, torch.finfo(x.dtype).min)
        shapes = AttentionShapes.of(self.config, attention_mask)
        cos, sin = self.rotary(position_ids)                       # (B, T, hd)
        presents = []
        for block, (pk, pv) in zip(self.h, past):
            x, present = block(x, cos, sin, mask_bias, shapes, pk, pv)
            presents.append(present)
        return self.ln_f(x), presents


class RenamedDecoder(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.transformer = Transformer(lm)
        self.lm_head = lm.lm_head

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = list(zip(past_flat[0::2], past_flat[1::2]))        # [(k, v)] (B, KV, P, hd)
        hidden, presents = self.transformer(input_ids, attention_mask, position_ids, past)
        return (self.lm_head(hidden), *[t for kv in presents for t in kv])


def export_renamed(lm, path):
    c = lm.config
    L, KV, hd = c.num_hidden_layers, c.num_key_value_heads, c.head_dim
    B, T = 2, 3
    ids = torch.randint(0, c.vocab_size, (B, T), generator=torch.Generator().manual_seed(0))
    empty = torch.zeros(B, KV, 0, hd)                              # (B, KV, 0, hd)
    past_names = [n % i for i in range(L) for n in (PAST_KEY, PAST_VALUE)]
    present_names = [n % i for i in range(L) for n in (PRESENT_KEY, PRESENT_VALUE)]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    dyn.update({n: {0: "batch_size", 2: "past_sequence_length"} for n in past_names})
    dyn.update({n: {0: "batch_size", 2: "total_sequence_length"} for n in present_names})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(RenamedDecoder(lm).eval(), (ids, torch.ones(B, T, dtype=torch.long),
                          torch.arange(T)[None].expand(B, T), *[empty] * (2 * L)), path,
                          opset_version=OPSET, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask", "position_ids"] + past_names,
                          output_names=["logits"] + present_names, dynamic_axes=dyn)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    softmax = [n.name for n in proto.graph.node if n.op_type == "Softmax"]
    assert softmax == [f"/transformer/h.{i}/attn/Softmax" for i in range(L)], softmax


# ---------------------------------------------------------------- 2. GroupQueryAttention graph

class GraphBuilder:
    """Just enough of a graph writer: fresh tensor names, initializers, nodes."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, n_out=1, domain=None, **attrs):
        self.count += 1
        outs = [f"t{self.count}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{op_type.lower()}_{self.count}",
                                           domain=domain, **attrs))
        return outs[0] if n_out == 1 else outs


def weight_t(lm_param):
    """(out, in) Linear weight -> (in, out) for x @ W."""
    return lm_param.detach().numpy().T.astype(np.float32).copy()


def build_gqa(lm, path, rotary_in_op=(True, False)):
    """Decoder graph with one com.microsoft GroupQueryAttention per layer (layout optimum)."""
    c = lm.config
    L, H, KV, hd, d = c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads, c.head_dim, c.hidden_size
    assert len(rotary_in_op) == L
    g = GraphBuilder()
    f32 = lambda v: np.array(v, dtype=np.float32)
    i64 = lambda v: np.array(v, dtype=np.int64)
    two, eps, one = g.init("c_two", f32(2.0)), g.init("c_eps", f32(c.rms_norm_eps)), g.init("c_one", f32(1.0))
    sd = {k: v for k, v in lm.state_dict().items()}

    def rms(x, w_name, key):
        w = g.init(w_name, sd[key].numpy().astype(np.float32))
        var = g.op("ReduceMean", [g.op("Pow", [x, two])], axes=[-1], keepdims=1)   # (B, T, 1)
        inv = g.op("Div", [one, g.op("Sqrt", [g.op("Add", [var, eps])])])
        return g.op("Mul", [g.op("Mul", [x, inv]), w])

    # RoPE caches (max_pos, hd/2), HF's non-interleaved rotate_half convention
    inv_freq = 1.0 / (c.rope_theta ** (np.arange(0, hd, 2, dtype=np.float32) / hd))
    freqs = np.arange(c.max_position_embeddings, dtype=np.float32)[:, None] * inv_freq[None]
    cos_cache, sin_cache = g.init("cos_cache", np.cos(freqs).astype(np.float32)), g.init("sin_cache", np.sin(freqs).astype(np.float32))

    embed = g.init("embed_tokens", sd["model.embed_tokens.weight"].numpy())         # (V, d)
    x = g.op("Gather", [embed, "input_ids"])                                         # (B, T, d)
    # seqlens_k = valid tokens - 1 (int32, (B,)); total_sequence_length = mask length (int32 scalar)
    mask_sum = g.op("ReduceSum", ["attention_mask", g.init("c_axis1", i64([1]))], keepdims=0)
    seqlens_k = g.op("Cast", [g.op("Sub", [mask_sum, g.init("c_one_i64", i64(1))])], to=TP.INT32)
    total = g.op("Cast", [g.op("Gather", [g.op("Shape", ["attention_mask"]), g.init("c_idx1", i64(1))])], to=TP.INT32)
    # cos/sin for RoPE written as ops: (B, T, 1, hd)
    cos_bt = g.op("Gather", [cos_cache, "position_ids"])                           # (B, T, hd/2)
    sin_bt = g.op("Gather", [sin_cache, "position_ids"])
    axis2 = g.init("c_axis2", i64([2]))
    cos4 = g.op("Unsqueeze", [g.op("Concat", [cos_bt, cos_bt], axis=-1), axis2])   # (B, T, 1, hd)
    sin4 = g.op("Unsqueeze", [g.op("Concat", [sin_bt, sin_bt], axis=-1), axis2])
    half = [g.init("c_0", i64([0])), g.init("c_half", i64([hd // 2])), g.init("c_hd", i64([hd])), g.init("c_axis3", i64([3]))]

    def rope(t, n):
        t4 = g.op("Reshape", [t, g.init(f"c_shape_{n}_{g.count}", i64([0, 0, n, hd]))])       # (B, T, n, hd)
        x1 = g.op("Slice", [t4, half[0], half[1], half[3]])
        x2 = g.op("Slice", [t4, half[1], half[2], half[3]])
        rot = g.op("Concat", [g.op("Neg", [x2]), x1], axis=3)
        y = g.op("Add", [g.op("Mul", [t4, cos4]), g.op("Mul", [rot, sin4])])
        return g.op("Reshape", [y, g.init(f"c_flat_{n}_{g.count}", i64([0, 0, n * hd]))])    # (B, T, n*hd)

    presents = []
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms(x, f"ln1_{i}", p + "input_layernorm.weight")
        q = g.op("MatMul", [h, g.init(f"wq_{i}", weight_t(sd[p + "self_attn.q_proj.weight"]))])   # (B, T, H*hd)
        k = g.op("MatMul", [h, g.init(f"wk_{i}", weight_t(sd[p + "self_attn.k_proj.weight"]))])   # (B, T, KV*hd)
        v = g.op("MatMul", [h, g.init(f"wv_{i}", weight_t(sd[p + "self_attn.v_proj.weight"]))])
        inputs = [q, k, v, PAST_KEY % i, PAST_VALUE % i, seqlens_k, total]
        if rotary_in_op[i]:
            inputs += [cos_cache, sin_cache]
        else:
            inputs[0], inputs[1] = rope(q, H), rope(k, KV)
        g.count += 1
        attn = f"t{g.count}_attn"
        g.nodes.append(helper.make_node("GroupQueryAttention", inputs, [attn, PRESENT_KEY % i, PRESENT_VALUE % i],
                                        name=f"gqa_{g.count}", domain="com.microsoft", num_heads=H,
                                        kv_num_heads=KV, do_rotary=int(rotary_in_op[i]), rotary_interleaved=0))
        presents += [PRESENT_KEY % i, PRESENT_VALUE % i]
        x = g.op("Add", [x, g.op("MatMul", [attn, g.init(f"wo_{i}", weight_t(sd[p + "self_attn.o_proj.weight"]))])])
        h = rms(x, f"ln2_{i}", p + "post_attention_layernorm.weight")
        gate = g.op("MatMul", [h, g.init(f"wg_{i}", weight_t(sd[p + "mlp.gate_proj.weight"]))])
        up = g.op("MatMul", [h, g.init(f"wu_{i}", weight_t(sd[p + "mlp.up_proj.weight"]))])
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])            # SwiGLU (B, T, ffn)
        x = g.op("Add", [x, g.op("MatMul", [act, g.init(f"wd_{i}", weight_t(sd[p + "mlp.down_proj.weight"]))])])
    h = rms(x, "ln_f", "model.norm.weight")
    g.nodes.append(helper.make_node("MatMul", [h, g.init("lm_head_t", weight_t(sd["lm_head.weight"]))], ["logits"], name="lm_head"))

    dim = lambda *names: names
    inputs = [helper.make_tensor_value_info("input_ids", TP.INT64, dim("batch_size", "sequence_length")),
              helper.make_tensor_value_info("attention_mask", TP.INT64, dim("batch_size", "total_sequence_length")),
              helper.make_tensor_value_info("position_ids", TP.INT64, dim("batch_size", "sequence_length"))]
    for i in range(L):
        for n in (PAST_KEY % i, PAST_VALUE % i):
            inputs.append(helper.make_tensor_value_info(n, TP.FLOAT, ["batch_size", KV, "past_sequence_length", hd]))
    outputs = [helper.make_tensor_value_info("logits", TP.FLOAT, ["batch_size", "sequence_length", c.vocab_size])]
    outputs += [helper.make_tensor_value_info(n, TP.FLOAT, ["batch_size", KV, "total_sequence_length", hd]) for n in presents]
    graph = helper.make_graph(g.nodes, "tiny_gqa", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="glassbox-recipe")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    assert not any(n.op_type == "Softmax" for n in model.graph.node)


# ---------------------------------------------------------------- references and checks

@torch.no_grad()
def lens_logits(lm, ids):
    """lm_head(norm(h)) at the last position for each residual stream h: (L + 1, vocab)."""
    x = torch.tensor([ids])                                                          # (1, T)
    out = lm(x, output_hidden_states=True)
    return torch.stack([lm.lm_head(lm.model.norm(h[0, -1])) for h in out.hidden_states])


def write_fixture(out_dir, lm, tok, writer, skip_checks):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(os.path.join(out_dir, "onnx"))
    for f in COPIED:
        shutil.copy(os.path.join(TINY, f), os.path.join(out_dir, f))
    onnx_path = os.path.join(out_dir, "onnx", "model.onnx")
    writer(lm, onnx_path)
    cases = golden.reference_cases(lm, tok, prompts=golden.PROMPTS[:1], min_margin=1e-3)
    golden.write_golden(os.path.join(out_dir, "golden.json"), "onnx/model.onnx", FP32_ATOL, cases)
    with open(os.path.join(out_dir, "golden.json"), encoding="utf-8") as f:
        doc = json.load(f)
    doc["cases"][0]["lens_logits"] = golden.r7(lens_logits(lm, cases[0]["input_ids"]))
    with open(os.path.join(out_dir, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    report = {}
    if not skip_checks:
        report = golden.check_onnx(onnx_path, cases, CONFIG)
        assert report["greedy_match"] and report["max_diff"] <= FP32_ATOL, report
        report = {"max_diff": report["max_diff"], "greedy_match": report["greedy_match"]}
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out_dir) for f in fs)
    assert size <= 1_000_000, (out_dir, size)
    return {**report, "bytes": size}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-checks", action="store_true", help="no onnxruntime-node check")
    args = ap.parse_args()
    lm = LlamaForCausalLM(CONFIG)                     # test-tiny's weights: same config, std and seed
    lm.init_weights(WEIGHT_STD, EMBED_STD, generator=torch.Generator().manual_seed(SEED))
    lm.eval()
    tok = Tokenizer.load(TINY)
    results = {
        "tiny-renamed": write_fixture(RENAMED, lm, tok, export_renamed, args.skip_checks),
        "tiny-gqa": write_fixture(GQA, lm, tok, build_gqa, args.skip_checks),
    }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
