"""Three rewrites of the shipped int4 graph that were tried against the decode floor and NOT
landed (bench/README.md, "Tried and not landed"), kept so the figures can be reproduced:

    /usr/bin/python3 bench/experiments/graph_variants.py OUT_DIR
    node out/bench/graphs.js models/glassbox-code onnx/model_q4.onnx OUT_DIR/model_q4_gqa.onnx --rounds 6

  model_q4_gqa.onnx    each layer's attention (RoPE, KV concat, scores, mask, Softmax, weighted sum)
                       replaced by one com.microsoft GroupQueryAttention (do_rotary=1, cos/sin caches
                       from rope_theta): 641 -> 230 nodes. ONNX Runtime GenAI's builder emits this op.
  model_q4_qkv.onnx    q/k/v and gate/up MatMulNBits merged into one per group plus a Split (the
                       packed int4 rows and scales concatenate along N), as Phi-3 exports them.
  model_q4_acc4.onnx   MatMulNBits accuracy_level=4: int8 activations for the int4 matmuls.

Written for the glassbox-code export's node names (models/recipe/model.py); not a general tool.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP, helper, numpy_helper

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "models", "glassbox-code", "onnx", "model_q4.onnx")
L, H, KV, HD, THETA, MAXPOS = 6, 6, 3, 32, 10000.0, 2048


def prune(g, nodes):
    """Drops nodes (and initializers) nothing reads."""
    outs = {o.name for o in g.output}
    while True:
        used = {x for n in nodes for x in n.input} | outs
        alive = [n for n in nodes if any(o in used for o in n.output)]
        if len(alive) == len(nodes):
            break
        nodes = alive
    del g.node[:]
    g.node.extend(nodes)
    used = {x for n in nodes for x in n.input}
    inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)


def gqa(m):
    g = m.graph
    keep = ("q_proj", "k_proj", "v_proj", "o_proj")
    nodes = [n for n in g.node if not ("/self_attn/" in n.name and not any(k in n.name for k in keep))]
    inv = 1.0 / (THETA ** (np.arange(0, HD, 2, dtype=np.float32) / HD))
    freqs = np.arange(MAXPOS, dtype=np.float32)[:, None] * inv[None]              # (max_pos, hd/2)
    g.initializer.extend([numpy_helper.from_array(np.cos(freqs), "gqa_cos"), numpy_helper.from_array(np.sin(freqs), "gqa_sin"),
                          numpy_helper.from_array(np.array([1], np.int64), "gqa_axis1"),
                          numpy_helper.from_array(np.array(1, np.int64), "gqa_one")])
    # seqlens_k = valid tokens - 1 (int32 (B,)); total_sequence_length = mask length (int32 scalar)
    pre = [helper.make_node("ReduceSum", ["attention_mask", "gqa_axis1"], ["gqa_msum"], keepdims=0, name="/gqa/ReduceSum"),
           helper.make_node("Sub", ["gqa_msum", "gqa_one"], ["gqa_sm1"], name="/gqa/Sub"),
           helper.make_node("Cast", ["gqa_sm1"], ["gqa_seqlens_k"], to=TP.INT32, name="/gqa/Cast"),
           helper.make_node("Shape", ["attention_mask"], ["gqa_mshape"], name="/gqa/Shape"),
           helper.make_node("Gather", ["gqa_mshape", "gqa_one"], ["gqa_total64"], name="/gqa/Gather"),
           helper.make_node("Cast", ["gqa_total64"], ["gqa_total"], to=TP.INT32, name="/gqa/Cast_1")]
    out = list(pre)
    for n in nodes:
        out.append(n)
        if n.name.endswith("/v_proj/MatMulNBits"):
            i = int(n.name.split("layers.")[1].split("/")[0])
            p = f"/model/layers.{i}/self_attn"
            out.append(helper.make_node(
                "GroupQueryAttention",
                [f"{p}/q_proj/MatMul_output_0", f"{p}/k_proj/MatMul_output_0", f"{p}/v_proj/MatMul_output_0",
                 f"past_key_values.{i}.key", f"past_key_values.{i}.value", "gqa_seqlens_k", "gqa_total", "gqa_cos", "gqa_sin"],
                [f"{p}/Reshape_7_output_0", f"present.{i}.key", f"present.{i}.value"],   # o_proj's input, the caches
                name=f"{p}/GroupQueryAttention", domain="com.microsoft", num_heads=H, kv_num_heads=KV, do_rotary=1))
    prune(g, out)
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return m


def merged_projections(m):
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    by_name = {n.name: n for n in g.node}
    attrs = lambda n: {a.name: helper.get_attribute_value(a) for a in n.attribute}
    replace, drop = {}, set()
    for i in range(L):
        for scope, names, fused in (("self_attn", ("q_proj", "k_proj", "v_proj"), "qkv_proj"), ("mlp", ("gate_proj", "up_proj"), "gate_up_proj")):
            ns = [by_name[f"/model/layers.{i}/{scope}/{x}/MatMulNBits"] for x in names]
            w = np.concatenate([numpy_helper.to_array(inits[n.input[1]]) for n in ns], 0)   # (N, blocks, 16) uint8
            s = np.concatenate([numpy_helper.to_array(inits[n.input[2]]) for n in ns], 0)   # (N * blocks,)
            sizes = [attrs(n)["N"] for n in ns]
            base = f"/model/layers.{i}/{scope}/{fused}"
            g.initializer.extend([numpy_helper.from_array(w, base + ".weight_q4"), numpy_helper.from_array(s, base + ".weight_q4_scale"),
                                  numpy_helper.from_array(np.array(sizes, np.int64), base + "/split")])
            mm = helper.make_node("MatMulNBits", [ns[0].input[0], base + ".weight_q4", base + ".weight_q4_scale"], [base + "/out"],
                                  name=base + "/MatMulNBits", domain="com.microsoft", K=attrs(ns[0])["K"], N=sum(sizes), bits=4, block_size=32)
            sp = helper.make_node("Split", [base + "/out", base + "/split"], [n.output[0] for n in ns], name=base + "/Split", axis=-1)
            replace[ns[0].name] = [mm, sp]
            drop.update(n.name for n in ns)
    out = []
    for n in g.node:
        out.extend(replace.get(n.name, []))
        if n.name not in drop:
            out.append(n)
    prune(g, out)
    return m


def accuracy4(m):
    for n in m.graph.node:
        if n.op_type == "MatMulNBits":
            for a in [a for a in n.attribute if a.name == "accuracy_level"]:
                n.attribute.remove(a)
            n.attribute.append(helper.make_attribute("accuracy_level", 4))
    return m


if __name__ == "__main__":
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name, fn in (("gqa", gqa), ("qkv", merged_projections), ("acc4", accuracy4)):
        m = fn(onnx.load(SRC))
        onnx.checker.check_model(m)
        path = os.path.join(out_dir, f"model_q4_{name}.onnx")
        onnx.save(m, path)
        print(path, len(m.graph.node), "nodes")
