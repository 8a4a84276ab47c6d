"""Writes a model folder's fp32 weights as a GGUF file that llama.cpp (and Ollama, LM Studio) run.

    /usr/bin/python3 models/recipe/gguf_writer.py --type q8_0     # -> models/glassbox-code/glassbox-code-q8_0.gguf
    /usr/bin/python3 models/recipe/gguf_writer.py --type f32 --out /tmp/glassbox-code-f32.gguf

GGUF v3 (ggml's docs/gguf.md): a header, key-value metadata (the llama architecture's numbers and
the tokenizer: byte-level BPE tokens, their types and merges), tensor infos, then the tensors, each
aligned to 32 bytes. Tensors are named as llama.cpp's llama architecture names them; HF's q_proj
and k_proj rows are permuted into the order llama.cpp's rotary embedding reads (convert_hf_to_gguf
does the same). The tied LM head is not written: llama.cpp reads token_embd for it.

Quantizers are ggml's reference ones (ggml-quants.c, quantize_row_q8_0_ref and _q4_0_ref), bit for
bit: blocks of 32 values, one fp16 scale each; Q8_0 codes round(x / d) with d = amax / 127; Q4_0
codes min(15, trunc(x / d + 8.5)) with d = (the value of largest magnitude, signed) / -8, two
codes a byte, value j in the low nibble and value j + 16 in the high one. Norm weights stay F32.
The weights come from the exported fp32 graph (onnx_weights.py), so only the committed folder is
needed.
"""
import argparse
import json
import os
import struct

import numpy as np

from model import LlamaConfig
from onnx_weights import state_dict_from_onnx

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "..", "glassbox-code")

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32
QK = 32                                    # values per quantization block (Q4_0, Q8_0)

# gguf value types
U32, I32, F32V, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# ggml tensor types and llama file types
GGML = {"f32": 0, "q4_0": 2, "q8_0": 8}
FILE_TYPE = {"f32": 0, "q4_0": 2, "q8_0": 7}
TOKEN_NORMAL, TOKEN_CONTROL = 1, 3


def q8_0(x):
    """(rows, K) float32 -> ggml Q8_0 bytes: per block an fp16 d, then 32 int8 codes."""
    b = x.astype(np.float32).reshape(-1, QK)
    amax = np.abs(b).max(axis=1)
    d = amax / np.float32(127)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    v = b * inv[:, None]
    # C's roundf takes halves away from zero; numpy's round takes them to even
    q = np.round(v)
    half = np.abs(v - np.trunc(v)) == np.float32(0.5)
    q[half] = np.trunc(v[half]) + np.sign(v[half])
    q = q.astype(np.int8)
    out = np.empty((b.shape[0], 2 + QK), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def q4_0(x):
    """(rows, K) float32 -> ggml Q4_0 bytes: per block an fp16 d, then 16 bytes of 4-bit codes."""
    b = x.astype(np.float32).reshape(-1, QK)
    idx = np.abs(b).argmax(axis=1)                           # first of equal magnitudes, as ggml's loop
    m = b[np.arange(b.shape[0]), idx]
    d = m / np.float32(-8)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    v = b * inv[:, None] + np.float32(8.5)
    codes = np.minimum(15, np.trunc(v).astype(np.int8)).astype(np.uint8)
    packed = codes[:, : QK // 2] | (codes[:, QK // 2 :] << 4)
    out = np.empty((b.shape[0], 2 + QK // 2), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = packed
    return out.tobytes()


def permute_rows(w, heads):
    """HF's rotary layout (halves) -> llama.cpp's (interleaved pairs), as convert_hf_to_gguf."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def tensors(sd, config):
    """(gguf name, float32 array in PyTorch's (out, in) order) in llama.cpp's names."""
    t = lambda k: sd[k].numpy().astype(np.float32)
    yield "token_embd.weight", t("model.embed_tokens.weight")
    for i in range(config.num_hidden_layers):
        p = f"model.layers.{i}."
        yield f"blk.{i}.attn_norm.weight", t(p + "input_layernorm.weight")
        yield f"blk.{i}.attn_q.weight", permute_rows(t(p + "self_attn.q_proj.weight"), config.num_attention_heads)
        yield f"blk.{i}.attn_k.weight", permute_rows(t(p + "self_attn.k_proj.weight"), config.num_key_value_heads)
        yield f"blk.{i}.attn_v.weight", t(p + "self_attn.v_proj.weight")
        yield f"blk.{i}.attn_output.weight", t(p + "self_attn.o_proj.weight")
        yield f"blk.{i}.ffn_norm.weight", t(p + "post_attention_layernorm.weight")
        yield f"blk.{i}.ffn_gate.weight", t(p + "mlp.gate_proj.weight")
        yield f"blk.{i}.ffn_up.weight", t(p + "mlp.up_proj.weight")
        yield f"blk.{i}.ffn_down.weight", t(p + "mlp.down_proj.weight")
    yield "output_norm.weight", t("model.norm.weight")


class Writer:
    def __init__(self):
        self.kv = []

    def string(self, s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def add(self, key, vtype, value):
        self.kv.append((key, vtype, value))

    def value(self, vtype, v):
        if vtype == U32:
            return struct.pack("<I", v)
        if vtype == I32:
            return struct.pack("<i", v)
        if vtype == F32V:
            return struct.pack("<f", v)
        if vtype == BOOL:
            return struct.pack("<?", v)
        if vtype == STRING:
            return self.string(v)
        if vtype == ARRAY:
            etype, items = v
            return struct.pack("<IQ", etype, len(items)) + b"".join(self.value(etype, x) for x in items)
        raise ValueError(vtype)

    def write(self, path, named):
        """`named`: [(name, ggml type, shape ne (innermost first), bytes)]."""
        head = GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(named), len(self.kv))
        head += b"".join(self.string(k) + struct.pack("<I", t) + self.value(t, v) for k, t, v in self.kv)
        offset, infos = 0, []
        for name, gtype, ne, data in named:
            infos.append(self.string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
                         + struct.pack("<IQ", gtype, offset))
            offset += (len(data) + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        head += b"".join(infos)
        with open(path, "wb") as f:
            f.write(head + b"\0" * (-len(head) % ALIGNMENT))
            for _, _, _, data in named:
                f.write(data + b"\0" * (-len(data) % ALIGNMENT))


def tokenizer_kv(w, model_dir, config):
    tok = json.load(open(os.path.join(model_dir, "tokenizer.json")))
    vocab = tok["model"]["vocab"]
    special = {a["id"]: a["content"] for a in tok.get("added_tokens", []) if a.get("special")}
    by_id = {i: s for s, i in vocab.items()}
    by_id.update(special)
    n = config.vocab_size
    tokens = [by_id.get(i, f"[PAD{i}]") for i in range(n)]
    types = [TOKEN_CONTROL if i in special else TOKEN_NORMAL for i in range(n)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"].get("merges", [])]
    gen = json.load(open(os.path.join(model_dir, "generation_config.json")))
    w.add("tokenizer.ggml.model", STRING, "gpt2")            # byte-level BPE
    w.add("tokenizer.ggml.pre", STRING, "default")
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, tokens))
    w.add("tokenizer.ggml.token_type", ARRAY, (I32, types))
    w.add("tokenizer.ggml.merges", ARRAY, (STRING, merges))
    w.add("tokenizer.ggml.bos_token_id", U32, gen["bos_token_id"])
    w.add("tokenizer.ggml.eos_token_id", U32, gen["eos_token_id"])
    w.add("tokenizer.ggml.padding_token_id", U32, gen.get("pad_token_id", gen["eos_token_id"]))
    w.add("tokenizer.ggml.add_bos_token", BOOL, False)


def write_gguf(model_dir, out, qtype):
    config = LlamaConfig.load(os.path.join(model_dir, "config.json"))
    sd = state_dict_from_onnx(os.path.join(model_dir, "onnx", "model.onnx"), config)
    w = Writer()
    w.add("general.architecture", STRING, "llama")
    w.add("general.name", STRING, os.path.basename(os.path.normpath(model_dir)))
    w.add("general.file_type", U32, FILE_TYPE[qtype])
    w.add("general.alignment", U32, ALIGNMENT)
    w.add("llama.vocab_size", U32, config.vocab_size)
    w.add("llama.context_length", U32, config.max_position_embeddings)
    w.add("llama.embedding_length", U32, config.hidden_size)
    w.add("llama.block_count", U32, config.num_hidden_layers)
    w.add("llama.feed_forward_length", U32, config.intermediate_size)
    w.add("llama.attention.head_count", U32, config.num_attention_heads)
    w.add("llama.attention.head_count_kv", U32, config.num_key_value_heads)
    w.add("llama.attention.key_length", U32, config.head_dim)
    w.add("llama.attention.value_length", U32, config.head_dim)
    w.add("llama.rope.dimension_count", U32, config.head_dim)
    w.add("llama.rope.freq_base", F32V, float(config.rope_theta))
    w.add("llama.attention.layer_norm_rms_epsilon", F32V, float(config.rms_norm_eps))
    tokenizer_kv(w, model_dir, config)
    named = []
    for name, a in tensors(sd, config):
        ne = list(reversed(a.shape))                         # ggml: innermost dimension first
        if a.ndim == 1 or qtype == "f32":
            named.append((name, GGML["f32"], ne, a.astype("<f4").tobytes()))
        else:
            named.append((name, GGML[qtype], ne, (q8_0 if qtype == "q8_0" else q4_0)(a)))
    w.write(out, named)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=MODEL_DIR)
    ap.add_argument("--type", choices=sorted(GGML), default="q8_0")
    ap.add_argument("--out")
    a = ap.parse_args()
    name = os.path.basename(os.path.normpath(a.model_dir))
    out = a.out or os.path.join(a.model_dir, f"{name}-{a.type}.gguf")
    write_gguf(a.model_dir, out, a.type)
    print(json.dumps({"gguf": out, "bytes": os.path.getsize(out), "type": a.type}))


if __name__ == "__main__":
    main()
