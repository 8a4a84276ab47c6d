"""Quantized variants of the exported fp32 graph, by hand-written ONNX rewrites (no onnxruntime
for Python here).

    nice -n 10 /usr/bin/python3 models/recipe/quantize.py [--model-dir models/glassbox-code]

Reads onnx/model.onnx (export_model.py); writes
  onnx/model_quantized.onnx   int8: every linear layer and the tied LM head as
        DynamicQuantizeLinear(x) -> MatMulInteger(x_u8, W_i8, x_zp, 0) -> Cast -> Mul(x_scale * w_scale)
        with symmetric per-output-channel int8 weights (ORT fuses the chain into
        MatMulIntegerToFloat on the CPU); activations are quantized per tensor at run time
  onnx/model_q4.onnx          int4: every linear layer and the LM head as com.microsoft MatMulNBits
        (bits 4, block_size 32, symmetric: zero point 8, one fp32 scale per block of 32 along K)
The LM head is tied to the token embedding (its output channels are the embedding's rows), and
each variant keeps one quantized copy of that matrix: in the int8 graph the embedding is int8 with
one scale per row (Gather the int8 rows and their scales, Cast, Mul) and the head is the Transpose
of that table; in the int4 graph the head is a MatMulNBits and the embedding gathers rows of its
packed 4-bit table and block scales and unpacks them with standard ops.

Then checks each variant in onnxruntime-node (check_onnx.mjs) against the fp32 graph's golden
prompts: the report's max |logit - fp32 logit| and greedy agreement are printed (quantization
changes logits, so there is no tolerance to meet here; perplexity and speed through the engine come
from `npm run eval -- --quant`, which also picks the default variant).
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RECIPE_DIR))
MODEL_DIR = os.path.join(ROOT, "models", "glassbox-code")
BLOCK = 32


def quantize_per_channel_int8(w):
    """w (K, N) float -> (int8 (K, N), scale (N,)): symmetric, one scale per output column."""
    scale = np.abs(w).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def quantize_rows_int8(e):
    """e (V, d) -> (int8 (V, d), scale (V, 1)): one scale per row."""
    q, s = quantize_per_channel_int8(e.T)
    return q.T.copy(), s[:, None]


def quantize_q4_blocks(w):
    """w (K, N) -> (packed uint8 (N, K/32, 16), scales (N * K/32,), dequantized (K, N)).
    MatMulNBits layout: row n of B is column n of w; each block of 32 consecutive K values has one
    scale; code = round(w / scale) + 8 in [0, 15] (symmetric: default zero point 8); two codes per
    byte, the lower K index in the low nibble."""
    K, N = w.shape
    assert K % BLOCK == 0, (K, BLOCK)
    wt = w.T.reshape(N, K // BLOCK, BLOCK)                          # (N, blocks, 32)
    amax = np.abs(wt).max(axis=-1, keepdims=True)                   # (N, blocks, 1)
    scale = amax / 7.0
    scale[scale == 0] = 1.0
    codes = np.clip(np.round(wt / scale), -8, 7).astype(np.int16) + 8   # (N, blocks, 32) in [0, 15]
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)  # (N, blocks, 16)
    deq = ((codes - 8) * scale).reshape(N, K).T                     # (K, N)
    return packed, scale.reshape(-1).astype(np.float32), deq.astype(np.float32)


class Rewriter:
    """Collects new nodes/initializers and splices them in place of the old MatMul/Gather nodes."""

    def __init__(self, proto):
        self.proto = proto
        self.g = proto.graph
        self.inits = {i.name: i for i in self.g.initializer}
        self.new_inits = []
        self.replace = {}         # old node name -> [new nodes]
        self.dql = {}             # activation name -> (x_q, x_scale, x_zp) (shared per input)

    def array(self, name):
        return numpy_helper.to_array(self.inits[name])

    def add_init(self, arr, name):
        self.new_inits.append(numpy_helper.from_array(arr, name))
        return name

    def dynamic_quantize(self, x, scope, nodes):
        if x not in self.dql:
            outs = [f"{scope}/x_q", f"{scope}/x_scale", f"{scope}/x_zp"]
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], outs, name=f"{scope}/DynamicQuantizeLinear"))
            self.dql[x] = outs
        return self.dql[x]

    def finish(self):
        g = self.g
        nodes = []
        for n in g.node:
            nodes.extend(self.replace.get(n.name, [n]))
        del g.node[:]
        g.node.extend(nodes)
        used = {x for n in g.node for x in n.input}
        keep = [i for i in g.initializer if i.name in used]
        del g.initializer[:]
        g.initializer.extend(keep + [i for i in self.new_inits if i.name in used])
        onnx.checker.check_model(self.proto)
        return self.proto


def linear_matmuls(g, inits):
    """MatMul nodes whose B is a weight initializer: (node, weight name)."""
    return [(n, n.input[1]) for n in g.node if n.op_type == "MatMul" and n.input[1] in inits]


def embedding_int8(rw, nodes_by_name):
    """Gather(E, ids) -> Mul(Cast(Gather(E_q, ids)), Gather(scale, ids)); returns E_q's name."""
    gather = nodes_by_name["/model/embed_tokens/Gather"]
    e = rw.array(gather.input[0])                                   # (V, d)
    q, s = quantize_rows_int8(e)
    eq = rw.add_init(q, "model.embed_tokens.weight_int8")
    es = rw.add_init(s, "model.embed_tokens.weight_scale")          # (V, 1)
    sc = "/model/embed_tokens"
    ids = gather.input[1]
    rw.replace[gather.name] = [
        helper.make_node("Gather", [eq, ids], [f"{sc}/rows_int8"], name=f"{sc}/Gather", axis=0),
        helper.make_node("Gather", [es, ids], [f"{sc}/row_scale"], name=f"{sc}/GatherScale", axis=0),
        helper.make_node("Cast", [f"{sc}/rows_int8"], [f"{sc}/rows"], name=f"{sc}/Cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", [f"{sc}/rows", f"{sc}/row_scale"], [gather.output[0]], name=f"{sc}/Mul"),
    ]
    return eq, s[:, 0], e


def lm_head_weight(rw, nodes_by_name):
    """The LM head's (d, V) weight: Transpose(embedding) in our exports, else an initializer."""
    head = nodes_by_name["/lm_head/MatMul"]
    t = nodes_by_name.get("/lm_head/Transpose")
    if t is not None and head.input[1] == t.output[0]:
        return head, rw.array(t.input[0]).T, t
    return head, rw.array(head.input[1]), None


def quantize_int8(proto):
    rw = Rewriter(proto)
    by_name = {n.name: n for n in rw.g.node}
    eq, escale, _ = embedding_int8(rw, by_name)
    head, _, transpose = lm_head_weight(rw, by_name)
    jobs = [(n, rw.array(w), None) for n, w in linear_matmuls(rw.g, rw.inits)]
    jobs.append((head, None, transpose))
    for node, w, transpose in jobs:
        sc = node.name.rsplit("/", 1)[0]                            # /model/layers.0/self_attn/q_proj
        nodes = []
        xq, xs, xzp = rw.dynamic_quantize(node.input[0], sc, nodes)
        if w is None:                                               # tied head: Transpose(E_q), scales per row of E
            nodes.append(helper.make_node("Transpose", [eq], [f"{sc}/weight_int8_T"], name=f"{sc}/Transpose", perm=[1, 0]))
            wq_name, ws = f"{sc}/weight_int8_T", escale.astype(np.float32)
        else:
            q, ws = quantize_per_channel_int8(w)
            wq_name = rw.add_init(q, f"{sc}.weight_int8")
        n_out = ws.shape[0]
        ws_name = rw.add_init(ws, f"{sc}.weight_scale")
        wzp_name = rw.add_init(np.zeros(n_out, dtype=np.int8), f"{sc}.weight_zero_point")
        nodes += [
            helper.make_node("Mul", [xs, ws_name], [f"{sc}/scale"], name=f"{sc}/ScaleMul"),
            helper.make_node("MatMulInteger", [xq, wq_name, xzp, wzp_name], [f"{sc}/acc_int32"], name=f"{sc}/MatMulInteger"),
            helper.make_node("Cast", [f"{sc}/acc_int32"], [f"{sc}/acc"], name=f"{sc}/Cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{sc}/acc", f"{sc}/scale"], [node.output[0]], name=f"{sc}/MatMul"),
        ]
        rw.replace[node.name] = nodes
        if transpose is not None:
            rw.replace[transpose.name] = []
    return rw.finish()


def embedding_from_q4(rw, gather, packed_name, scales_name, V, d):
    """The token embedding read from the tied LM head's MatMulNBits tables (one copy of the matrix):
    Gather the packed rows (B, T, d/32, 16) and their block scales (B, T, d/32, 1), split each byte
    into its low and high nibble (Cast, Div, Floor: opset 17 has no bitwise ops), interleave them
    back into K order, subtract the zero point 8 and scale."""
    sc, ids, nb = "/model/embed_tokens", gather.input[1], d // BLOCK
    c = lambda v, n: rw.add_init(np.asarray(v, dtype=np.float32), f"{sc}/{n}")
    shape = rw.add_init(np.asarray([0, 0, d], dtype=np.int64), f"{sc}/out_shape")
    scale_shape = rw.add_init(np.asarray([V, nb, 1], dtype=np.int64), f"{sc}/scale_shape")
    code_shape = rw.add_init(np.asarray([0, 0, nb, BLOCK], dtype=np.int64), f"{sc}/code_shape")
    axis = rw.add_init(np.asarray([-1], dtype=np.int64), f"{sc}/axis")
    n = helper.make_node
    rw.replace[gather.name] = [
        n("Gather", [packed_name, ids], [f"{sc}/packed"], name=f"{sc}/Gather", axis=0),          # (B, T, nb, 16) uint8
        n("Reshape", [scales_name, scale_shape], [f"{sc}/scales_v"], name=f"{sc}/ScaleReshape"),  # (V, nb, 1)
        n("Gather", [f"{sc}/scales_v", ids], [f"{sc}/scale"], name=f"{sc}/GatherScale", axis=0),  # (B, T, nb, 1)
        n("Cast", [f"{sc}/packed"], [f"{sc}/bytes"], name=f"{sc}/Cast", to=TensorProto.FLOAT),
        n("Div", [f"{sc}/bytes", c(16.0, "sixteen")], [f"{sc}/div"], name=f"{sc}/Div"),
        n("Floor", [f"{sc}/div"], [f"{sc}/high"], name=f"{sc}/Floor"),                            # (B, T, nb, 16)
        n("Mul", [f"{sc}/high", c(16.0, "sixteen_b")], [f"{sc}/high16"], name=f"{sc}/Mul16"),
        n("Sub", [f"{sc}/bytes", f"{sc}/high16"], [f"{sc}/low"], name=f"{sc}/Low"),
        n("Unsqueeze", [f"{sc}/low", axis], [f"{sc}/low1"], name=f"{sc}/UnsqueezeLow"),         # (B, T, nb, 16, 1)
        n("Unsqueeze", [f"{sc}/high", axis], [f"{sc}/high1"], name=f"{sc}/UnsqueezeHigh"),
        n("Concat", [f"{sc}/low1", f"{sc}/high1"], [f"{sc}/pairs"], name=f"{sc}/Concat", axis=-1),  # (B, T, nb, 16, 2)
        n("Reshape", [f"{sc}/pairs", code_shape], [f"{sc}/codes"], name=f"{sc}/CodeReshape"),    # (B, T, nb, 32)
        n("Sub", [f"{sc}/codes", c(8.0, "zero_point")], [f"{sc}/centred"], name=f"{sc}/SubZeroPoint"),
        n("Mul", [f"{sc}/centred", f"{sc}/scale"], [f"{sc}/blocks"], name=f"{sc}/Mul"),          # (B, T, nb, 32)
        n("Reshape", [f"{sc}/blocks", shape], [gather.output[0]], name=f"{sc}/Reshape"),         # (B, T, d)
    ]


def quantize_q4(proto):
    rw = Rewriter(proto)
    by_name = {n.name: n for n in rw.g.node}
    head, head_w, transpose = lm_head_weight(rw, by_name)
    jobs = [(n, rw.array(w)) for n, w in linear_matmuls(rw.g, rw.inits)] + [(head, head_w)]
    for node, w in jobs:
        sc = node.name.rsplit("/", 1)[0]
        K, N = w.shape
        packed, scales, _ = quantize_q4_blocks(w)
        b = rw.add_init(packed, f"{sc}.weight_q4")
        s = rw.add_init(scales, f"{sc}.weight_q4_scale")
        rw.replace[node.name] = [helper.make_node(
            "MatMulNBits", [node.input[0], b, s], [node.output[0]], name=f"{sc}/MatMulNBits",
            domain="com.microsoft", K=K, N=N, bits=4, block_size=BLOCK)]
        if node is head and transpose is not None:                  # tied: the embedding reads these tables
            embedding_from_q4(rw, by_name["/model/embed_tokens/Gather"], b, s, N, K)
            rw.replace[transpose.name] = []
    if transpose is None:
        embedding_int8(rw, by_name)
    if not any(o.domain == "com.microsoft" for o in proto.opset_import):
        proto.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return rw.finish()


def q4_reference_state_dict(sd):
    """The fp32 weights a correct int4 graph computes with: every linear weight and the tied
    embedding replaced by their block-dequantized values."""
    out = dict(sd)
    for k, w in sd.items():
        if w.dim() == 2:                                            # Linear (out, in) and embedding (V, d)
            _, _, deq = quantize_q4_blocks(w.t().numpy())           # as (K=in, N=out)
            out[k] = torch.from_numpy(deq.T.copy())
    return out


def check_variant(model_dir, onnx_rel, reference_sd=None):
    """check_onnx.mjs on a variant, with the golden prompts: against the fp32 golden logits, or
    against PyTorch run with `reference_sd` (then the graph must match to float precision)."""
    import golden
    from model import LlamaConfig, LlamaForCausalLM
    g = json.load(open(os.path.join(model_dir, "golden.json")))
    config = LlamaConfig.load(os.path.join(model_dir, "config.json"))
    if reference_sd is not None:
        lm = LlamaForCausalLM(config).load_hf_state_dict(reference_sd).eval()
        with torch.no_grad():
            logits = [lm(torch.tensor([c["input_ids"]])).logits[0] for c in g["cases"]]
    else:
        logits = [torch.tensor(c["logits"]) for c in g["cases"]]
    cases = [{"name": c["name"], "input_ids": c["input_ids"], "logits": l,
              "greedy_tokens": c["greedy_tokens"],
              "step_logits": torch.zeros(len(c["greedy_tokens"]), config.vocab_size)}
             for c, l in zip(g["cases"], logits)]
    r = golden.check_onnx(os.path.join(model_dir, onnx_rel), cases, config)
    return {"prefill_max_diff": max(c["prefill_max_diff"] for c in r["cases"]),
            "greedy_match_fp32": f'{sum(c["greedy_match"] for c in r["cases"])}/{len(r["cases"])}'}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=MODEL_DIR)
    ap.add_argument("--skip-checks", action="store_true")
    args = ap.parse_args()
    src = os.path.join(args.model_dir, "onnx", "model.onnx")
    report = {"model.onnx": os.path.getsize(src)}
    for name, fn in (("model_quantized.onnx", quantize_int8), ("model_q4.onnx", quantize_q4)):
        out = os.path.join(args.model_dir, "onnx", name)
        onnx.save(fn(onnx.load(src)), out)
        report[name] = os.path.getsize(out)
        if not args.skip_checks:
            report[name + " vs fp32"] = check_variant(args.model_dir, os.path.join("onnx", name))
    if not args.skip_checks:
        # the int4 graph must compute exactly what PyTorch computes with the dequantized weights
        # (MatMulNBits' packing, scales and zero point are right); int8 quantizes activations at run
        # time too, so it is only compared with fp32 above
        from model import LlamaConfig
        from onnx_weights import state_dict_from_onnx
        sd = state_dict_from_onnx(src, LlamaConfig.load(os.path.join(args.model_dir, "config.json")))
        r = check_variant(args.model_dir, os.path.join("onnx", "model_q4.onnx"), q4_reference_state_dict(sd))
        report["model_q4.onnx vs dequantized PyTorch"] = r
        assert r["prefill_max_diff"] < 1e-3, r
    print(json.dumps(report))


if __name__ == "__main__":
    main()
