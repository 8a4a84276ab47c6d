"""Llama-style decoder, state-dict compatible with Hugging Face `LlamaForCausalLM`.

    from model import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig.load("models/test-tiny/config.json")
    lm = LlamaForCausalLM(config)
    out = lm(input_ids, attention_mask, position_ids, past_key_values, output_attentions=True)

RMSNorm, rotary position embeddings (HF's rotate_half, non-interleaved), grouped-query attention
written out as matmul -> mask -> softmax -> matmul (torch 1.13 has no SDPA, and the ONNX graph
keeps one Softmax per layer, named `/model/layers.N/self_attn/Softmax`), SwiGLU MLP, and an
lm_head tied to the token embedding. The KV cache is a list of (key, value) per layer, each
(B, n_kv_heads, T_past, head_dim).

Export shapes the code: sizes are Python ints or ONNX Reshape codes (StaticReshape), never
`x.shape` values, so the traced graph has no Shape -> Gather -> Concat chains; in a decode step of
a model this small those cost about as much as the matmuls.
"""
import dataclasses
import json
import math
from typing import List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclasses.dataclass
class LlamaConfig:
    vocab_size: int = 512
    hidden_size: int = 64
    intermediate_size: int = 176
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    max_position_embeddings: int = 512
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    bos_token_id: int = 0
    eos_token_id: int = 0
    pad_token_id: int = 0
    initializer_range: float = 0.02

    def __post_init__(self):
        assert self.num_attention_heads % self.num_key_value_heads == 0
        assert self.head_dim % 2 == 0

    def to_hf(self, **extra):
        """The fields of a Hugging Face config.json for LlamaForCausalLM."""
        d = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
        d.update(dataclasses.asdict(self))
        d.update({"hidden_act": "silu", "tie_word_embeddings": True, "attention_bias": False,
                  "attention_dropout": 0.0, "mlp_bias": False, "pretraining_tp": 1,
                  "rope_scaling": None, "use_cache": True, "torch_dtype": "float32"})
        d.update(extra)
        return d

    @classmethod
    def from_hf(cls, d):
        assert d.get("model_type") == "llama", d.get("model_type")
        assert d.get("hidden_act", "silu") == "silu" and d.get("tie_word_embeddings", True)
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw.setdefault("head_dim", d["hidden_size"] // d["num_attention_heads"])
        return cls(**kw)

    def save(self, path, **extra):
        with open(path, "w") as f:
            json.dump(self.to_hf(**extra), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.from_hf(json.load(f))


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)          # (B, T, 1)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class RotaryEmbedding(nn.Module):
    def __init__(self, config):
        super().__init__()
        hd = config.head_dim
        inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.register_buffer("inv_freq", inv_freq, persistent=False)  # (hd/2,); not in HF's state dict

    def forward(self, position_ids):
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]  # (B, T, hd/2)
        emb = torch.cat([freqs, freqs], dim=-1)                                 # (B, T, hd)
        return emb.cos(), emb.sin()


class StaticReshape(torch.autograd.Function):
    """x.reshape(shape) with ONNX Reshape's rules: 0 keeps the input's size at that index, -1 is
    inferred. Exports as one Reshape with a constant shape. torch's own `view(B, T, H, hd)` exports
    the sizes as Shape -> Gather -> Unsqueeze -> Concat chains, and in a decode step of this small
    model those shape ops cost more than the matmuls (bench/README.md, "Optimisations")."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(shape)])

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None

    @staticmethod
    def symbolic(g, x, shape):
        return g.op("Reshape", x, g.op("Constant", value_t=torch.tensor(shape, dtype=torch.long)))


class ShapeTensorReshape(torch.autograd.Function):
    """x.reshape(shape) where `shape` is an int64 tensor (ONNX Reshape rules: 0 keeps, -1 infers),
    built once per forward and shared by every layer; exports as one Reshape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape([x.shape[i] if int(s) == 0 else int(s) for i, s in enumerate(shape)])

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None

    @staticmethod
    def symbolic(g, x, shape):
        return g.op("Reshape", x, shape)


def rotate_half(x, half):
    """(x1, x2) -> (-x2, x1) on the last dim, split at `half` (a Python int: constant slices)."""
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rotary(x, cos, sin, head_dim):
    # x (B, nh, T, hd); cos, sin (B, T, hd)
    return x * cos[:, None] + rotate_half(x, head_dim // 2) * sin[:, None]


class AttentionShapes(NamedTuple):
    """Reshape targets that depend on the total length S, computed once per forward (int64 (4,))."""
    heads: torch.Tensor       # (0, H, -1, S): scores grouped by KV head -> one row block per head
    kv_groups: torch.Tensor   # (0, KV, -1, S): and back

    @staticmethod
    def of(config, attention_mask):
        S = torch._shape_as_tensor(attention_mask)[1:2]                     # (1,) int64
        def target(n):
            return torch.cat([torch.tensor([0, n, -1], dtype=torch.long), S])
        return AttentionShapes(target(config.num_attention_heads), target(config.num_key_value_heads))


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config.num_attention_heads
        self.n_kv = config.num_key_value_heads
        self.hd = config.head_dim
        d = config.hidden_size
        self.q_proj = nn.Linear(d, self.n_head * self.hd, bias=False)
        self.k_proj = nn.Linear(d, self.n_kv * self.hd, bias=False)
        self.v_proj = nn.Linear(d, self.n_kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.n_head * self.hd, d, bias=False)

    def forward(self, x, cos, sin, mask_bias, shapes, past_k, past_v):
        # Sizes are Python ints or ONNX "keep"/"infer" codes (StaticReshape), so that the exported
        # graph has no shape arithmetic: B and T stay symbolic.
        H, KV, hd = self.n_head, self.n_kv, self.hd
        q = StaticReshape.apply(self.q_proj(x), (0, -1, H, hd)).transpose(1, 2)   # (B, H, T, hd)
        k = StaticReshape.apply(self.k_proj(x), (0, -1, KV, hd)).transpose(1, 2)  # (B, KV, T, hd)
        v = StaticReshape.apply(self.v_proj(x), (0, -1, KV, hd)).transpose(1, 2)  # (B, KV, T, hd)
        q, k = apply_rotary(q, cos, sin, hd), apply_rotary(k, cos, sin, hd)
        k = torch.cat([past_k, k], dim=2)                       # (B, KV, S, hd), S = past + T
        v = torch.cat([past_v, v], dim=2)                       # (B, KV, S, hd)
        # Grouped-query attention without copying K and V per query head: query heads are grouped
        # by the KV head they share (h = kv * G + g, the repeat_kv convention), so (B, H, T, hd)
        # viewed as (B, KV, G*T, hd) meets (B, KV, S, hd) in one batched matmul. The scores are
        # viewed back as (B, H, T, S) for the softmax, the tensor the attention explorer reads.
        G = H // KV
        qg = StaticReshape.apply(q, (0, KV, -1, hd))                          # (B, KV, G*T, hd)
        att = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(hd))    # (B, KV, G*T, S)
        att = ShapeTensorReshape.apply(att, shapes.heads)                     # (B, H, T, S)
        att = F.softmax(att + mask_bias, dim=-1)                              # (B, H, T, S)
        y = torch.matmul(ShapeTensorReshape.apply(att, shapes.kv_groups), v)  # (B, KV, G*T, hd)
        y = StaticReshape.apply(y, (0, H, -1, hd))                            # (B, H, T, hd)
        y = StaticReshape.apply(y.transpose(1, 2), (0, -1, H * hd))           # (B, T, H*hd)
        return self.o_proj(y), (k, v), att


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, f = config.hidden_size, config.intermediate_size
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = MLP(config)

    def forward(self, x, cos, sin, mask_bias, shapes, past_k, past_v):
        a, present, att = self.self_attn(self.input_layernorm(x), cos, sin, mask_bias, shapes, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present, att


class DecoderOutput(NamedTuple):
    hidden: torch.Tensor                              # (B, T, d) after the final norm
    presents: List[Tuple[torch.Tensor, torch.Tensor]]  # per layer (B, KV, past+T, hd) x2
    attentions: Optional[List[torch.Tensor]]          # per layer (B, H, T, past+T)
    hidden_states: Optional[List[torch.Tensor]]       # residual stream (B, T, d): embeddings, then each
                                                      # layer's output, before the final norm (logit lens:
                                                      # lm_head(model.norm(h)))


class LlamaModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(config) for _ in range(config.num_hidden_layers)])
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(config)

    def empty_cache(self, batch, dtype=torch.float32):
        c = self.config
        shape = (batch, c.num_key_value_heads, 0, c.head_dim)
        return [(torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype))
                for _ in range(c.num_hidden_layers)]

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                output_attentions=False, output_hidden_states=False, inputs_embeds=None):
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, d)
        B, T = input_ids.shape
        if past_key_values is None:
            past_key_values = self.empty_cache(B, x.dtype)
        assert len(past_key_values) == len(self.layers)
        S = past_key_values[0][0].shape[2] + T
        if attention_mask is None:
            attention_mask = torch.ones(B, S, dtype=torch.long)
        if position_ids is None:
            position_ids = torch.arange(S - T, S)[None, :].expand(B, T)
        if not torch.jit.is_tracing():  # eager only: under tracing these sizes are graph values
            assert attention_mask.shape == (B, S), (attention_mask.shape, B, S)
            assert position_ids.shape == (B, T), (position_ids.shape, B, T)
            assert all(k.shape == v.shape == (B, self.config.num_key_value_heads, S - T, self.config.head_dim)
                       for k, v in past_key_values)
        # causal: query t (absolute position past+t) sees keys 0..past+t; padding: mask == 0 hidden
        k_pos = torch.arange(S)                                # (S,)
        q_pos = k_pos[S - T:]                                  # (T,)
        causal = k_pos[None, :] <= q_pos[:, None]              # (T, S)
        mask = causal[None, None] & attention_mask[:, None, None, :].bool()  # (B, 1, T, S)
        # added to the scores: 0 where visible, the float minimum where hidden (softmax gives 0)
        mask_bias = torch.zeros(mask.shape, dtype=x.dtype).masked_fill(~mask, torch.finfo(x.dtype).min)
        shapes = AttentionShapes.of(self.config, attention_mask)
        cos, sin = self.rotary_emb(position_ids)               # (B, T, hd) each
        presents, attentions, hidden_states = [], [], [x]
        for layer, (pk, pv) in zip(self.layers, past_key_values):
            x, present, att = layer(x, cos, sin, mask_bias, shapes, pk, pv)
            presents.append(present)
            attentions.append(att)
            hidden_states.append(x)
        return DecoderOutput(self.norm(x), presents,
                             attentions if output_attentions else None,
                             hidden_states if output_hidden_states else None)


class CausalLMOutput(NamedTuple):
    logits: torch.Tensor                               # (B, T, vocab)
    presents: List[Tuple[torch.Tensor, torch.Tensor]]
    attentions: Optional[List[torch.Tensor]]
    hidden_states: Optional[List[torch.Tensor]]


class LlamaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.lm_head.weight = self.model.embed_tokens.weight  # tied
        self.init_weights(config.initializer_range)

    def init_weights(self, std, embed_std=None, generator=None):
        """Normal(0, std) for linear layers, Normal(0, embed_std or std) for the embedding."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("layernorm.weight") or name == "model.norm.weight":
                    p.fill_(1.0)
                elif name == "model.embed_tokens.weight":
                    p.normal_(0.0, embed_std or std, generator=generator)
                else:
                    p.normal_(0.0, std, generator=generator)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                output_attentions=False, output_hidden_states=False):
        out = self.model(input_ids, attention_mask, position_ids, past_key_values,
                         output_attentions, output_hidden_states)
        logits = self.lm_head(out.hidden)                     # (B, T, vocab)
        return CausalLMOutput(logits, out.presents, out.attentions, out.hidden_states)

    def load_hf_state_dict(self, sd):
        """Load a state dict with HF's key names. Tolerates what HF checkpoints of tied Llama
        models do: no lm_head.weight, and (older versions) rotary inv_freq buffers."""
        sd = {k: v for k, v in sd.items() if not k.endswith("rotary_emb.inv_freq")}
        emb = sd["model.embed_tokens.weight"]
        assert torch.equal(sd.setdefault("lm_head.weight", emb), emb), "lm_head must be tied"
        self.load_state_dict(sd)
        assert self.lm_head.weight is self.model.embed_tokens.weight
        return self


@torch.no_grad()
def greedy(lm, input_ids, max_new_tokens, cache_round=None):
    """Greedy continuation of one prompt (1, T) through the KV-cache path; EOS is not a stop.

    Returns (tokens, step_logits): step_logits[i] (vocab,) chose tokens[i]; step 0 is the last
    prefill position. cache_round, e.g. torch.float16, rounds the cache between steps the way a
    model with fp16 cache inputs/outputs does.
    """
    assert input_ids.dim() == 2 and input_ids.shape[0] == 1
    T = input_ids.shape[1]
    out = lm(input_ids, torch.ones(1, T, dtype=torch.long), torch.arange(T)[None])
    tokens, step_logits = [], []
    past, logits = out.presents, out.logits[0, -1]
    for i in range(max_new_tokens):
        nxt = int(torch.argmax(logits))
        tokens.append(nxt)
        step_logits.append(logits)
        if i == max_new_tokens - 1:
            break
        if cache_round is not None:
            past = [(k.to(cache_round).float(), v.to(cache_round).float()) for k, v in past]
        S = T + i + 1
        out = lm(torch.tensor([[nxt]]), torch.ones(1, S, dtype=torch.long), torch.tensor([[S - 1]]), past)
        past, logits = out.presents, out.logits[0, -1]
    return tokens, step_logits
