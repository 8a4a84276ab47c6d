"""Export a LlamaForCausalLM to ONNX (opset 17) with a KV cache, in the layouts Glassbox reads.

    /usr/bin/python3 models/recipe/export_onnx.py --config DIR/config.json --weights model.pt \
        --out DIR/onnx/model.onnx [--layout optimum|genai] [--fp16]

Layouts (graph inputs -> outputs):
  optimum  input_ids, attention_mask, position_ids (int64), past_key_values.N.key/.value
           (B, KV, past, hd) -> logits (B, T, vocab), present.N.key/.value (B, KV, past+T, hd).
           What Optimum and transformers.js produce.
  genai    input_ids, attention_mask (int32), past_N (2, B, KV, past, hd) -> logits, present_N.
           No position_ids: positions come from the attention mask inside the graph, as
           ONNX Runtime GenAI expects.
  --fp16   (optimum) caches and logits in float16, weights stored as float16 initializers that
           are cast to float32 inside the graph (CPU torch 1.13 has no half matmul).
  unexpected-input (for tests) adds required inputs `token_type_ids` and `speaker_embedding`
           that no decoder engine feeds.

Traced with an empty cache (past length 0) and batch 2; every length axis is dynamic.
Check an export against PyTorch with check_onnx.mjs (onnxruntime-node); there is no onnxruntime
for Python here.
"""
import argparse
import os
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

from model import LlamaConfig, LlamaForCausalLM

OPSET = 17
# protobuf cannot serialize a message of 2 GiB or more
PROTOBUF_LIMIT = 2**31 - 2**20
PAST_KEY, PAST_VALUE = "past_key_values.%d.key", "past_key_values.%d.value"
PRESENT_KEY, PRESENT_VALUE = "present.%d.key", "present.%d.value"
PAST_COMBINED, PRESENT_COMBINED = "past_%d", "present_%d"


class OptimumDecoder(nn.Module):
    """Flat tensor signature. Borrows lm's children so ONNX node names keep the module paths
    (`/model/layers.0/self_attn/Softmax`)."""

    def __init__(self, lm):
        super().__init__()
        self.model = lm.model
        self.lm_head = lm.lm_head

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = list(zip(past_flat[0::2], past_flat[1::2]))          # [(k, v)] (B, KV, P, hd)
        out = self.model(input_ids, attention_mask, position_ids, past)
        logits = self.lm_head(out.hidden)                           # (B, T, vocab)
        return (logits, *[t for kv in out.presents for t in kv])


class GenaiDecoder(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.model = lm.model
        self.lm_head = lm.lm_head

    def forward(self, input_ids, attention_mask, *past):
        ids, mask = input_ids.long(), attention_mask.long()         # (B, T), (B, P+T)
        T = ids.shape[1]
        # HF generate's rule: position = number of real tokens before it; pads get 1
        pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)       # (B, P+T)
        pos = pos[:, pos.shape[1] - T:]                             # (B, T)
        out = self.model(ids, mask, pos, [(p[0], p[1]) for p in past])  # past_N (2, B, KV, P, hd)
        logits = self.lm_head(out.hidden)                           # (B, T, vocab)
        return (logits, *[torch.stack([k, v]) for k, v in out.presents])  # (2, B, KV, P+T, hd)


class UnexpectedInputDecoder(nn.Module):
    """A decoder with two extra required inputs, to test the engine's error path."""

    def __init__(self, lm):
        super().__init__()
        self.model = lm.model
        self.lm_head = lm.lm_head
        d = lm.config.hidden_size
        self.token_type_embeddings = nn.Embedding(2, d)
        with torch.no_grad():
            self.token_type_embeddings.weight.normal_(0.0, 0.02, generator=torch.Generator().manual_seed(0))

    def forward(self, input_ids, attention_mask, token_type_ids, position_ids, speaker_embedding, *past_flat):
        x = self.model.embed_tokens(input_ids) + self.token_type_embeddings(token_type_ids)  # (B, T, d)
        x = x + speaker_embedding[:, None, :]                                                # (B, d) -> (B, T, d)
        past = list(zip(past_flat[0::2], past_flat[1::2]))
        out = self.model(input_ids, attention_mask, position_ids, past, inputs_embeds=x)
        return (self.lm_head(out.hidden), *[t for kv in out.presents for t in kv])


def export(lm, path, layout="optimum", fp16=False, tie_head=False, external_data=False):
    """Write lm to path as ONNX; returns the path. `tie_head`: the LM head reads the embedding
    through a Transpose (tie_lm_head_proto). `external_data`: the weights go to `<path>.data`,
    as they always do when they pass protobuf's 2 GB."""
    assert layout in ("optimum", "genai", "unexpected-input")
    assert not (fp16 and layout != "optimum"), "fp16 is implemented for the optimum layout"
    c = lm.config
    L, KV, hd = c.num_hidden_layers, c.num_key_value_heads, c.head_dim
    B, T = 2, 3
    lm = lm.eval()
    ids = torch.randint(0, c.vocab_size, (B, T), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(B, T, dtype=torch.long)
    empty = torch.zeros(B, KV, 0, hd)                               # (B, KV, 0, hd)
    batch, seq, past, total = "batch_size", "sequence_length", "past_sequence_length", "total_sequence_length"
    dyn = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: total},
           "logits": {0: batch, 1: seq}}
    if layout == "genai":
        wrapper = GenaiDecoder(lm)
        past_names = [PAST_COMBINED % i for i in range(L)]
        present_names = [PRESENT_COMBINED % i for i in range(L)]
        args = (ids.int(), mask.int(), *[torch.zeros(2, B, KV, 0, hd) for _ in range(L)])
        names = ["input_ids", "attention_mask"] + past_names
        dyn.update({n: {1: batch, 3: past} for n in past_names})
        dyn.update({n: {1: batch, 3: total} for n in present_names})
    else:
        past_names = [n % i for i in range(L) for n in (PAST_KEY, PAST_VALUE)]
        present_names = [n % i for i in range(L) for n in (PRESENT_KEY, PRESENT_VALUE)]
        pos = torch.arange(T)[None].expand(B, T)
        dyn["position_ids"] = {0: batch, 1: seq}
        dyn.update({n: {0: batch, 2: past} for n in past_names})
        dyn.update({n: {0: batch, 2: total} for n in present_names})
        if layout == "optimum":
            wrapper = OptimumDecoder(lm)
            args = (ids, mask, pos, *[empty] * (2 * L))
            names = ["input_ids", "attention_mask", "position_ids"] + past_names
        else:
            wrapper = UnexpectedInputDecoder(lm)
            args = (ids, mask, torch.zeros_like(ids), pos, torch.zeros(B, c.hidden_size), *[empty] * (2 * L))
            names = ["input_ids", "attention_mask", "token_type_ids", "position_ids",
                     "speaker_embedding"] + past_names
            dyn["token_type_ids"] = {0: batch, 1: seq}
            dyn["speaker_embedding"] = {0: batch}
    out_dir = os.path.dirname(os.path.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    # torch writes a model over 2 GB as one external file per tensor next to the graph: export into
    # a scratch folder and load it back whole (a tied LM head is a transposed copy of the embedding
    # at this point, so a 494M-parameter model passes 2 GB here even when the final file does not)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        traced = os.path.join(scratch, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(wrapper, args, traced, opset_version=OPSET, do_constant_folding=True,
                              input_names=names, output_names=["logits"] + present_names,
                              dynamic_axes=dyn)
        proto = onnx.load(traced)
    if fp16:
        proto = to_fp16_io_and_weights(proto, past_names, ["logits"] + present_names,
                                       min_weight_size=c.hidden_size)
    if tie_head:
        tie_lm_head_proto(proto)
    softmax = [n.name for n in proto.graph.node if n.op_type == "Softmax"]
    assert softmax == [f"/model/layers.{i}/self_attn/Softmax" for i in range(L)], softmax
    weight_bytes = sum(len(t.raw_data) for t in proto.graph.initializer)
    if external_data or weight_bytes >= PROTOBUF_LIMIT:
        # the weights in one file beside the graph, `model.onnx.data` (ONNX's external data format)
        data = os.path.basename(path) + ".data"
        if os.path.exists(os.path.join(out_dir, data)):
            os.remove(os.path.join(out_dir, data))
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data, size_threshold=1024)
        onnx.checker.check_model(path)                              # by path: works past 2 GB
    else:
        onnx.checker.check_model(proto)
        onnx.save(proto, path)
    return path


def tie_lm_head_proto(proto):
    """Replace the LM head's transposed copy of the embedding with Transpose(embedding), in place.
    ORT folds the Transpose at load; the file loses vocab x hidden floats."""
    g = proto.graph
    head = next(n for n in g.node if n.name == "/lm_head/MatMul")
    gather = next(n for n in g.node if n.name == "/model/embed_tokens/Gather")
    old = head.input[1]
    inits = {i.name: i for i in g.initializer}
    assert old in inits and list(inits[old].dims) == list(inits[gather.input[0]].dims)[::-1]
    t = helper.make_node("Transpose", [gather.input[0]], ["/lm_head/weight_T"], perm=[1, 0],
                         name="/lm_head/Transpose")
    head.input[1] = "/lm_head/weight_T"
    idx = list(g.node).index(head)
    g.node.insert(idx, t)
    if not any(old in n.input for n in g.node):
        g.initializer.remove(inits[old])
    return proto


def to_fp16_io_and_weights(proto, fp16_inputs, fp16_outputs, min_weight_size):
    """Store float weights (>= min_weight_size elements) as fp16 initializers with a Cast to fp32,
    and make the named inputs/outputs fp16 with Casts at the graph boundary. Small float
    constants (RoPE frequencies, epsilons) stay fp32."""
    g = proto.graph
    casts = []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and int(np.prod(init.dims)) >= min_weight_size:
            w = numpy_helper.to_array(init).astype(np.float16)
            name = init.name
            init.CopyFrom(numpy_helper.from_array(w, name + "_fp16"))
            casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT,
                                          name=f"/fp16/{name}/Cast"))
    for inp in g.input:
        if inp.name in fp16_inputs:
            inp.type.tensor_type.elem_type = TensorProto.FLOAT16
            inner = inp.name + "_fp32"
            for node in g.node:
                node.input[:] = [inner if x == inp.name else x for x in node.input]
            casts.append(helper.make_node("Cast", [inp.name], [inner], to=TensorProto.FLOAT,
                                          name=f"/fp16/{inp.name}/Cast"))
    tail = []
    for out in g.output:
        if out.name in fp16_outputs:
            out.type.tensor_type.elem_type = TensorProto.FLOAT16
            inner = out.name + "_fp32"
            for node in g.node:
                node.output[:] = [inner if x == out.name else x for x in node.output]
                node.input[:] = [inner if x == out.name else x for x in node.input]
            tail.append(helper.make_node("Cast", [inner], [out.name], to=TensorProto.FLOAT16,
                                         name=f"/fp16/{out.name}/Cast"))
    nodes = casts + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    return proto


def round_weights_to_fp16(lm):
    """Round every parameter to the nearest fp16 value (kept fp32), so PyTorch computes what
    the fp16 export computes."""
    with torch.no_grad():
        for p in lm.parameters():
            p.copy_(p.half().float())
    return lm


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="HF config.json")
    ap.add_argument("--weights", required=True, help="state dict (.pt) with HF key names")
    ap.add_argument("--out", required=True)
    ap.add_argument("--layout", default="optimum", choices=["optimum", "genai", "unexpected-input"])
    ap.add_argument("--fp16", action="store_true")
    args = ap.parse_args()
    lm = LlamaForCausalLM(LlamaConfig.load(args.config))
    lm.load_hf_state_dict(torch.load(args.weights, map_location="cpu"))
    if args.fp16:
        round_weights_to_fp16(lm)
    print(export(lm, args.out, args.layout, args.fp16))


if __name__ == "__main__":
    main()
