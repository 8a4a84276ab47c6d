"""Rebuild the random-weights test models, deterministically.

    nice -n 5 /usr/bin/python3 models/recipe/make_test_models.py [--skip-checks]

Writes (paths from the repository root):
  models/test-tiny/                        HF/Optimum/transformers.js layout, fp32 (the engine's default model)
  test/fixtures/models/tiny-genai/         same weights, ONNX Runtime GenAI layout (int32 ids, past_N)
  test/fixtures/models/tiny-fp16/          same weights rounded to fp16, fp16 caches and logits
  test/fixtures/models/bad-unexpected-input/  a graph with required inputs no engine feeds

Steps: train the byte-level BPE tokenizer (512 tokens) on 60 files of Debian's Python 3.11
standard library; build a Llama decoder with seeded random weights; export each layout; write
golden.json from PyTorch; then (unless --skip-checks) check with node that both JS tokenizers
agree with bpe.py, and that onnxruntime-node reproduces PyTorch's logits and greedy tokens.
"""
import argparse
import json
import math
import os
import shutil
import sys

import torch

import bpe
import golden
from export_onnx import export, round_weights_to_fp16
from model import LlamaConfig, LlamaForCausalLM

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RECIPE_DIR))
TINY = os.path.join(ROOT, "models", "test-tiny")
FIXTURES = os.path.join(ROOT, "test", "fixtures", "models")

STDLIB = "/usr/lib/python3.11"
TRAIN_FILES = sorted([  # from Debian's libpython3.11-stdlib (3.11.2)
    "abc", "argparse", "ast", "base64", "bisect", "calendar", "cmd", "code", "codecs", "colorsys",
    "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime", "difflib", "dis",
    "enum", "filecmp", "fileinput", "fnmatch", "fractions", "functools", "genericpath", "getopt",
    "gettext", "glob", "graphlib", "gzip", "hashlib", "heapq", "hmac", "inspect", "ipaddress",
    "keyword", "linecache", "locale", "mimetypes", "numbers", "operator", "os", "pathlib",
    "pprint", "queue", "random", "reprlib", "sched", "secrets", "shlex", "shutil", "statistics",
    "string", "tempfile", "textwrap", "threading", "tokenize", "traceback", "types", "typing",
])
CHECK_FILES = [os.path.join(STDLIB, "json/encoder.py"), os.path.join(STDLIB, "zipfile.py"),
               os.path.join(STDLIB, "email/_header_value_parser.py"),
               os.path.join(RECIPE_DIR, "check_onnx.mjs"), os.path.join(RECIPE_DIR, "check_tokenizer.mjs")]

VOCAB_SIZE = 512
CONFIG = LlamaConfig(vocab_size=VOCAB_SIZE, hidden_size=64, intermediate_size=176,
                     num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                     head_dim=16, max_position_embeddings=512, rms_norm_eps=1e-5,
                     rope_theta=10000.0, bos_token_id=0, eos_token_id=0, pad_token_id=0)
SEED = 1234
WEIGHT_STD, EMBED_STD = 0.2, 0.5   # large: peaky logits, and layers outweigh the tied embedding,
                                   # so greedy output depends on context instead of repeating a token
FP32_ATOL = 1e-4
GENAI_SEARCH = {"do_sample": False, "max_length": CONFIG.max_position_embeddings, "min_length": 0,
                "num_beams": 1, "num_return_sequences": 1, "past_present_share_buffer": False,
                "repetition_penalty": 1.0, "temperature": 1.0, "top_k": 1, "top_p": 1.0}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def check_tokenizer(tok, tok_dir):
    texts = [p for _, p in golden.PROMPTS] + bpe.ROUND_TRIP_SAMPLES
    for path in CHECK_FILES:
        with open(path, encoding="utf-8", newline="") as f:
            texts.append(f.read())
    return bpe.check_with_node(tok, tok_dir, texts)


def check_export(path, cases, layout, dtype, atol, batch):
    report = golden.check_onnx(path, cases, CONFIG, layout, dtype, batch)
    assert report["greedy_match"], report
    assert report["max_diff"] <= atol, (path, report["max_diff"], atol)
    return report


def model_card(tok):
    specials = ", ".join(f"`{t}` = {tok.special_id(t)}" for t in bpe.SPECIAL_TOKENS)
    c = CONFIG
    return f"""# test-tiny

A Llama-architecture decoder with **random weights**, for tests only: its output is noise that
looks like tokens. It exists so the engine, its unit tests and the UI have a real model to run
before the trained model lands.

- {c.num_hidden_layers} layers, hidden {c.hidden_size}, {c.num_attention_heads} query / {c.num_key_value_heads} KV heads, head_dim {c.head_dim}, SwiGLU {c.intermediate_size}, RoPE theta {c.rope_theta:g}, tied embeddings, {sum(p.numel() for p in LlamaForCausalLM(c).parameters()):,} parameters.
- Weights: Normal(0, {WEIGHT_STD}) for linear layers, Normal(0, {EMBED_STD}) for the embedding, seed {SEED}.
- Tokenizer: byte-level BPE, {tok.vocab_size} tokens, trained on {len(TRAIN_FILES)} files of Python's standard library. Special tokens: {specials}.
- `onnx/model.onnx`: fp32, opset 17, inputs `input_ids`, `attention_mask`, `position_ids` (int64), `past_key_values.N.key/value`; outputs `logits`, `present.N.key/value`.
- `golden.json`: PyTorch reference logits, greedy tokens and attentions (`glassbox-golden/1`, see `models/README.md`).

Rebuild (with the other test models in `test/fixtures/models/`):

```
nice -n 5 /usr/bin/python3 models/recipe/make_test_models.py
```
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-checks", action="store_true", help="no node checks (tokenizer, ONNX)")
    args = ap.parse_args()
    torch.manual_seed(SEED)
    results = {}

    # 1. tokenizer
    texts = []
    for name in TRAIN_FILES:
        with open(os.path.join(STDLIB, name + ".py"), encoding="utf-8", newline="") as f:
            texts.append(f.read())
    tok = bpe.train(texts, VOCAB_SIZE)
    assert tok.vocab_size == VOCAB_SIZE, tok.vocab_size
    results["special_token_ids"] = {t: tok.special_id(t) for t in bpe.SPECIAL_TOKENS}

    # 2. model
    lm = LlamaForCausalLM(CONFIG)
    lm.init_weights(WEIGHT_STD, EMBED_STD, generator=torch.Generator().manual_seed(SEED))
    lm.eval()
    cases = golden.reference_cases(lm, tok, min_margin=1e-3)
    batch = golden.reference_batch(lm, tok)
    results["greedy_min_margin_fp32"] = min(c["min_margin"] for c in cases)
    generation_config = {"bos_token_id": CONFIG.bos_token_id, "eos_token_id": CONFIG.eos_token_id,
                         "pad_token_id": CONFIG.pad_token_id, "do_sample": False}

    # 3. models/test-tiny: HF / Optimum / transformers.js, fp32
    fresh_dir(TINY)
    tok.save(TINY, CONFIG.max_position_embeddings)
    CONFIG.save(os.path.join(TINY, "config.json"), **{"transformers.js_config": {"dtype": "fp32"}})
    write_json(os.path.join(TINY, "generation_config.json"), generation_config)
    export(lm, os.path.join(TINY, "onnx", "model.onnx"), "optimum")
    golden.write_golden(os.path.join(TINY, "golden.json"), "onnx/model.onnx", FP32_ATOL, cases)
    with open(os.path.join(TINY, "README.md"), "w") as f:
        f.write(model_card(tok))

    # 4. tiny-genai: ONNX Runtime GenAI layout, same weights
    genai = fresh_dir(os.path.join(FIXTURES, "tiny-genai"))
    tok.save(genai, CONFIG.max_position_embeddings)
    export(lm, os.path.join(genai, "model.onnx"), "genai")
    c = CONFIG
    write_json(os.path.join(genai, "genai_config.json"), {
        "model": {
            "bos_token_id": c.bos_token_id, "context_length": c.max_position_embeddings,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx", "head_size": c.head_dim, "hidden_size": c.hidden_size,
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                           "past_names": "past_%d"},
                "outputs": {"logits": "logits", "present_names": "present_%d"},
                "num_attention_heads": c.num_attention_heads,
                "num_hidden_layers": c.num_hidden_layers,
                "num_key_value_heads": c.num_key_value_heads,
            },
            "eos_token_id": c.eos_token_id, "pad_token_id": c.pad_token_id,
            "type": "llama", "vocab_size": c.vocab_size,
        },
        "search": GENAI_SEARCH,
    })
    golden.write_golden(os.path.join(genai, "golden.json"), "model.onnx", FP32_ATOL, cases)

    # 5. tiny-fp16: weights rounded to fp16; fp16 caches and logits
    fp16 = fresh_dir(os.path.join(FIXTURES, "tiny-fp16"))
    lm16 = LlamaForCausalLM(CONFIG)
    lm16.load_state_dict(lm.state_dict())
    round_weights_to_fp16(lm16).eval()
    # fp16 logits are rounded by up to half an ulp: 2^-12 * 2^floor(log2 |max logit|)
    cases16 = golden.reference_cases(lm16, tok, cache_round=torch.float16, min_margin=1e-3)
    max_logit = max(float(x["logits"].abs().max()) for x in cases16)
    max_logit = max(max_logit, max(float(x["step_logits"].abs().max()) for x in cases16))
    half_ulp = 2.0 ** (math.floor(math.log2(max_logit)) - 11)
    atol16 = 2 * half_ulp                           # rounding bound, doubled for the cache rounding
    min16 = min(x["min_margin"] for x in cases16)
    assert min16 > 2 * atol16, f"fp16 greedy margin {min16} too small for atol {atol16}; change seed"
    tok.save(fp16, CONFIG.max_position_embeddings)
    CONFIG.save(os.path.join(fp16, "config.json"), torch_dtype="float16",
                **{"transformers.js_config": {"dtype": "fp16"}})
    write_json(os.path.join(fp16, "generation_config.json"), generation_config)
    export(lm16, os.path.join(fp16, "onnx", "model_fp16.onnx"), "optimum", fp16=True)
    golden.write_golden(os.path.join(fp16, "golden.json"), "onnx/model_fp16.onnx", atol16, cases16)
    results["fp16"] = {"atol": atol16, "max_abs_logit": max_logit, "greedy_min_margin": min16}

    # 6. bad-unexpected-input: required inputs token_type_ids and speaker_embedding
    bad = fresh_dir(os.path.join(FIXTURES, "bad-unexpected-input"))
    tok.save(bad, CONFIG.max_position_embeddings)
    CONFIG.save(os.path.join(bad, "config.json"), **{"transformers.js_config": {"dtype": "fp32"}})
    export(lm, os.path.join(bad, "onnx", "model.onnx"), "unexpected-input")

    # 7. checks in node: tokenizers (JS and native) and onnxruntime-node
    if not args.skip_checks:
        results["tokenizer_check"] = check_tokenizer(tok, TINY)
        batch16 = golden.reference_batch(lm16, tok)
        for name, path, layout, dtype, atol, cs, b in [
            ("test-tiny", os.path.join(TINY, "onnx", "model.onnx"), "optimum", "fp32", FP32_ATOL, cases, batch),
            ("tiny-genai", os.path.join(genai, "model.onnx"), "genai", "fp32", FP32_ATOL, cases, batch),
            ("tiny-fp16", os.path.join(fp16, "onnx", "model_fp16.onnx"), "optimum", "fp16", atol16, cases16, batch16),
        ]:
            r = check_export(path, cs, layout, dtype, atol, b)
            results[name] = {"max_diff": r["max_diff"], "batch_max_diff": r["batch_max_diff"],
                             "greedy_match": r["greedy_match"]}

    for d in (TINY, genai, fp16, bad):
        size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
        results.setdefault("sizes", {})[os.path.relpath(d, ROOT)] = size
        assert size < 1.5e6, (d, size)
    json.dump(results, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
