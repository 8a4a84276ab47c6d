"""Read the weights back out of an exported fp32 graph (export_onnx.py), as an HF state dict.

    from onnx_weights import state_dict_from_onnx
    sd = state_dict_from_onnx("models/glassbox-code/onnx/model.onnx", config)

So a machine that has only the committed model folder (no checkpoints) can continue training
(pretrain.py --resume) or fine-tune (lora.py) from it. The exporter names nodes by module path
(`/model/layers.0/self_attn/q_proj/MatMul`); a Linear's weight is the MatMul's initializer,
transposed; RMSNorm weights feed `.../input_layernorm/Mul_1`, possibly through an Identity (the
exporter shares equal initializers); the embedding feeds `/model/embed_tokens/Gather`.
"""
import re

import onnx
import torch
from onnx import numpy_helper

LINEAR = re.compile(r"^/model/layers\.(\d+)/(self_attn|mlp)/(\w+_proj)/MatMul$")
NORM = re.compile(r"^/model/(layers\.(\d+)/(input_layernorm|post_attention_layernorm)|norm)/Mul_1$")


def state_dict_from_onnx(path, config):
    g = onnx.load(path).graph
    inits = {i.name: i for i in g.initializer}
    alias = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity" and n.input[0] in inits}

    def weight(name):
        name = alias.get(name, name)
        return torch.from_numpy(numpy_helper.to_array(inits[name]).copy()) if name in inits else None

    sd = {}
    for n in g.node:
        if n.op_type == "Gather" and n.name == "/model/embed_tokens/Gather":
            sd["model.embed_tokens.weight"] = weight(n.input[0])
        elif n.op_type == "MatMul" and LINEAR.match(n.name):
            i, block, proj = LINEAR.match(n.name).groups()
            sd[f"model.layers.{i}.{block}.{proj}.weight"] = weight(n.input[1]).t().contiguous()  # (out, in)
        elif n.op_type == "Mul" and NORM.match(n.name):
            m = NORM.match(n.name)
            key = f"model.layers.{m.group(2)}.{m.group(3)}.weight" if m.group(2) else "model.norm.weight"
            w = [weight(x) for x in n.input if weight(x) is not None and weight(x).dim() == 1]
            assert len(w) == 1, n.name
            sd[key] = w[0]
    L = config.num_hidden_layers
    expected = ["model.embed_tokens.weight", "model.norm.weight"] + [
        f"model.layers.{i}.{k}.weight" for i in range(L) for k in (
            "input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
            "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")]
    missing = [k for k in expected if sd.get(k) is None]
    assert not missing, f"{path}: weights not found for {missing}"
    return sd
