"""Build a tiny GPT-2-style decoder in the naming and cache layout of GPT-2 ONNX exports, for the
architecture explorer's tests (a second naming style next to the Llama exports).

    nice -n 5 /usr/bin/python3 models/recipe/make_gpt2_fixture.py

Writes test/fixtures/models/tiny-gpt2/ (under 1 MB):
  config.json       Hugging Face GPT-2 keys (n_embd, n_head, n_layer, n_positions, activation_function);
                    like HF's gpt2 config it has no tie_word_embeddings key (GPT-2 ties by default)
  model.onnx        opset 17, random weights. Inputs input_ids, position_ids, attention_mask (int64),
                    combined caches past_N (2, B, heads, past, head_dim); outputs logits, present_N.
                    Node names follow HF's module tree: /transformer/wte/Gather, /transformer/wpe/Gather,
                    /transformer/h.N/ln_1, /transformer/h.N/attn/c_attn/Gemm (fused q,k,v),
                    /transformer/h.N/attn/c_proj/Gemm, /transformer/h.N/mlp/c_fc/Gemm, .../mlp/c_proj/Gemm,
                    /transformer/ln_f, /lm_head/MatMul (tied to wte).
  tokenizer.json, tokenizer_config.json   copied from models/test-tiny (vocab 512)
  README.md         what the fixture is, and its parameter count

GPT-2's Conv1D stores weights [in, out] and computes addmm(bias, x, W), so linear layers export as
Gemm on [in, out] weights (not MatMul on [out, in]ᵀ). LayerNorm with bias, learned absolute
position embeddings, GELU (tanh approximation, "gelu_new"), and the causal-mask buffer `attn.bias`
that is not a learned parameter. No PyTorch reference goldens: the fixture tests graph reading,
not numerics.
"""
import json
import math
import os
import shutil

import onnx
import torch
import torch.nn as nn

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RECIPE_DIR))
OUT = os.path.join(ROOT, "test", "fixtures", "models", "tiny-gpt2")
TOKENIZER_FROM = os.path.join(ROOT, "models", "test-tiny")

CONFIG = {"vocab_size": 512, "n_embd": 64, "n_head": 4, "n_layer": 2, "n_positions": 128,
          "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
SEED = 4321


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight (in, out), y = x @ W + b via addmm (exports as Gemm)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.1)       # (in, out)
        self.bias = nn.Parameter(torch.randn(nf) * 0.01)            # (out,)

    def forward(self, x):                                           # (B, T, in)
        size_out = x.size()[:-1] + (self.weight.shape[1],)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)  # (B*T, out)
        return x.view(size_out)                                     # (B, T, out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.nh = c["n_embd"], c["n_head"]
        self.hd = d // self.nh
        n = c["n_positions"]
        # not learned: the causal mask buffer HF GPT-2 keeps (and exports) as `attn.bias`
        self.register_buffer("bias", torch.tril(torch.ones(n, n, dtype=torch.bool)).view(1, 1, n, n))
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)

    def split(self, x):                                             # (B, T, d) -> (B, nh, T, hd)
        B, T, _ = x.shape
        return x.view(B, T, self.nh, self.hd).transpose(1, 2)

    def forward(self, x, mask, past):                               # past (2, B, nh, P, hd)
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=2)          # 3 x (B, T, d)
        q, k, v = self.split(q), self.split(k), self.split(v)
        k = torch.cat([past[0], k], dim=-2)                         # (B, nh, P+T, hd)
        v = torch.cat([past[1], v], dim=-2)
        present = torch.stack([k, v])                               # (2, B, nh, P+T, hd)
        T, S = q.shape[-2], k.shape[-2]
        att = q @ k.transpose(-1, -2) / math.sqrt(self.hd)          # (B, nh, T, S)
        causal = self.bias[:, :, S - T:S, :S]                       # (1, 1, T, S)
        keep = causal & (mask[:, None, None, :] > 0)                # (B, 1, T, S)
        att = att.masked_fill(~keep, torch.finfo(att.dtype).min)
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(x.shape)              # (B, T, d)
        return self.c_proj(y), present


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["n_embd"]
        self.c_fc = Conv1D(4 * d, d)
        self.c_proj = Conv1D(d, 4 * d)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["n_embd"]
        self.ln_1 = nn.LayerNorm(d, eps=c["layer_norm_epsilon"])
        self.attn = Attention(c)
        self.ln_2 = nn.LayerNorm(d, eps=c["layer_norm_epsilon"])
        self.mlp = MLP(c)

    def forward(self, x, mask, past):
        a, present = self.attn(self.ln_1(x), mask, past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, present


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])

    def forward(self, input_ids, position_ids, attention_mask, past):
        x = self.wte(input_ids) + self.wpe(position_ids)            # (B, T, d)
        presents = []
        for block, p in zip(self.h, past):
            x, present = block(x, attention_mask, p)
            presents.append(present)
        return self.ln_f(x), presents


class GPT2Decoder(nn.Module):
    """Module tree as HF's GPT2LMHeadModel, so node names match its exports."""

    def __init__(self, c):
        super().__init__()
        self.transformer = Transformer(c)
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight            # tied

    def forward(self, input_ids, position_ids, attention_mask, *past):
        hidden, presents = self.transformer(input_ids, position_ids, attention_mask, past)
        return (self.lm_head(hidden), *presents)                    # (B, T, vocab), L x (2, B, nh, P+T, hd)


def unique_param_count(m):
    return sum(p.numel() for p in {id(p): p for p in m.parameters()}.values())


def main():
    torch.manual_seed(SEED)
    c = CONFIG
    lm = GPT2Decoder(c).eval()
    L, nh, hd = c["n_layer"], c["n_head"], c["n_embd"] // c["n_head"]
    B, T = 2, 3
    ids = torch.randint(0, c["vocab_size"], (B, T))
    pos = torch.arange(T)[None].expand(B, T)
    mask = torch.ones(B, T, dtype=torch.long)
    past = [torch.zeros(2, B, nh, 0, hd) for _ in range(L)]
    past_names = [f"past_{i}" for i in range(L)]
    present_names = [f"present_{i}" for i in range(L)]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "position_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    dyn.update({n: {1: "batch_size", 3: "past_sequence_length"} for n in past_names})
    dyn.update({n: {1: "batch_size", 3: "total_sequence_length"} for n in present_names})

    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    path = os.path.join(OUT, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(lm, (ids, pos, mask, *past), path, opset_version=17, do_constant_folding=True,
                          input_names=["input_ids", "position_ids", "attention_mask"] + past_names,
                          output_names=["logits"] + present_names, dynamic_axes=dyn)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    gemms = [n.name for n in proto.graph.node if n.op_type == "Gemm"]
    assert "/transformer/h.0/attn/c_attn/Gemm" in gemms, gemms
    assert any(n.name == "/transformer/wpe/Gather" for n in proto.graph.node)
    size = os.path.getsize(path)
    assert size <= 1_000_000, size

    n_params = unique_param_count(lm)
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", **c,
              "bos_token_id": 0, "eos_token_id": 0}
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER_FROM, name), os.path.join(OUT, name))
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(f"""# tiny-gpt2

A GPT-2-style decoder with random weights (seed {SEED}), for the architecture explorer's tests: HF
GPT-2 node names, Conv1D weights stored [in, out] and run as Gemm, fused q/k/v (`c_attn`), LayerNorm,
learned position embeddings, GELU (tanh), combined `past_N` caches, and an LM head tied to `wte`.

- {c['n_layer']} layers, n_embd {c['n_embd']}, {c['n_head']} heads, MLP {4 * c['n_embd']}, vocab {c['vocab_size']}, {c['n_positions']} positions, {n_params:,} parameters.
- Tokenizer copied from `models/test-tiny`.

Rebuild: `nice -n 5 /usr/bin/python3 models/recipe/make_gpt2_fixture.py`
""")
    print(f"{path}: {size:,} bytes, {len(proto.graph.node)} nodes, {n_params:,} parameters")


if __name__ == "__main__":
    main()
