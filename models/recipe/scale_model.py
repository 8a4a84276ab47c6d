"""Build the real-scale test model: a random-weight decoder with Qwen2.5-Coder-0.5B's shapes.

    nice -n 10 /usr/bin/python3 models/recipe/scale_model.py [--out bench/.cache/scale-0.5b]

494M parameters: 24 layers, hidden 896, 14 query and 2 KV heads (head size 64), SwiGLU 4864,
vocab 151,936, tied embeddings, RoPE theta 1e6, built with the recipe's own model code (model.py,
so no attention biases: Qwen2's q/k/v biases are not part of it). Seeded, so every machine builds
the same weights. Written into a cache folder that is not committed (about 2.6 GB):

  config.json, generation_config.json, tokenizer.json, tokenizer_config.json
      glassbox-code's tokenizer (8,192 ids): the bench feeds token ids, and every id it feeds is
      below the model's vocab
  onnx/model.onnx + onnx/model.onnx.data    fp32, the weights as ONNX external data (1.98 GB)
  onnx/model_q4.onnx                        int4 MatMulNBits, blocks of 32 (quantize.py)
  scale-0.5b-q4_0.gguf, scale-0.5b-f32.gguf the same weights for llama.cpp (gguf_writer.py)
  build.json                                what was built, with sizes and seconds

`npm run bench -- --scale` runs the llama.cpp comparison on it (bench/llamaPeer.ts); it builds the
folder first when it is missing. A step already done (its file exists) is skipped, so a build
that was stopped resumes.
"""
import argparse
import json
import os
import shutil
import time

import onnx
import torch

from export_onnx import export
from gguf_writer import write_gguf
from model import LlamaConfig, LlamaForCausalLM
from quantize import quantize_q4

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RECIPE_DIR))
OUT_DIR = os.path.join(ROOT, "bench", ".cache", "scale-0.5b")
TOKENIZER_DIR = os.path.join(ROOT, "models", "glassbox-code")
SEED = 20261208

QWEN25_CODER_05B = LlamaConfig(
    vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
    num_attention_heads=14, num_key_value_heads=2, head_dim=64, max_position_embeddings=32768,
    rms_norm_eps=1e-6, rope_theta=1000000.0, bos_token_id=0, eos_token_id=0, pad_token_id=0,
    initializer_range=0.02)


def step(report, name, path, fn):
    """Runs fn unless `path` exists; records its seconds and the file's size."""
    t0 = time.time()
    if not os.path.exists(path):
        fn()
        report[name] = {"seconds": round(time.time() - t0, 1)}
    else:
        report[name] = {"seconds": 0, "cached": True}
    report[name]["bytes"] = os.path.getsize(path)
    print(json.dumps({name: report[name]}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--layers", type=int, default=QWEN25_CODER_05B.num_hidden_layers,
                    help="fewer layers for a quick check of the pipeline (default: 24)")
    args = ap.parse_args()
    out = args.out
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    config = LlamaConfig(**{**QWEN25_CODER_05B.__dict__, "num_hidden_layers": args.layers})
    config.save(os.path.join(out, "config.json"), **{"transformers.js_config": {"dtype": "q4"}})
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0, "do_sample": False}, f)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER_DIR, name), os.path.join(out, name))

    report = {"config": config.__dict__}
    fp32 = os.path.join(out, "onnx", "model.onnx")

    def build_fp32():
        torch.manual_seed(SEED)
        lm = LlamaForCausalLM(config).eval()
        report["parameters"] = sum(p.numel() for p in lm.parameters())
        export(lm, fp32, "optimum", tie_head=True, external_data=True)

    step(report, "model.onnx", fp32, build_fp32)
    report["model.onnx.data"] = os.path.getsize(fp32 + ".data")
    q4 = os.path.join(out, "onnx", "model_q4.onnx")
    step(report, "model_q4.onnx", q4, lambda: onnx.save(quantize_q4(onnx.load(fp32)), q4))
    name = os.path.basename(os.path.normpath(out))
    for qtype in ("q4_0", "f32"):
        gguf = os.path.join(out, f"{name}-{qtype}.gguf")
        step(report, os.path.basename(gguf), gguf, lambda: write_gguf(out, gguf, qtype))
    with open(os.path.join(out, "build.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
