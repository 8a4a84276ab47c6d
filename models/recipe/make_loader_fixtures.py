"""Loader fixtures: tiny models in the weight formats real exports use, each with its fp32 reference.

    nice -n 5 /usr/bin/python3 models/recipe/make_loader_fixtures.py [--skip-checks]

Needs models/test-tiny (make_test_models.py) for the tokenizer, and quantize.py (the int8 and int4
graph rewrites, used as they are). Writes, under test/fixtures/models/:

  tiny-q4/             onnx/model_q4.onnx: every linear layer and the tied LM head as com.microsoft
                       MatMulNBits (quantize.quantize_q4: 4 bits, blocks of 32, symmetric). Same as
                       test-tiny but SwiGLU 192 instead of 176, because MatMulNBits blocks run along
                       K and quantize.py needs K % 32 == 0. Seeded like test-tiny.
  tiny-int8/           onnx/model_quantized.onnx: test-tiny through quantize.quantize_int8
                       (MatMulInteger with int8 per-channel weights, activations quantized at run time).
  tiny-external-data/  test-tiny's fp32 graph with every initializer in onnx/model.onnx_data (ONNX
                       external data, the way exports over 2 GB are stored).

golden.json in each (glassbox-golden/1) holds an fp32 PyTorch reference, prompt logits and 16
greedy tokens, and "quantization" for the quantized fixtures:
  tiny-q4    the reference is the same model in fp32 with each weight replaced by its int4 round
             trip (what MatMulNBits reads back), so `atol` is float rounding only (1e-3) and the
             greedy tokens must be identical. "quantization.original_fp32" records, for information,
             how far int4 moves these random weights' logits from the unquantized model (far:
             random-weight models are chaotic under 4-bit noise, so no tolerance is meaningful there).
  tiny-int8  the reference is test-tiny's fp32 model; activations are quantized at run time, so the
             stated tolerance is measured here with onnxruntime-node, with headroom:
             logit_atol (max |logit - fp32 logit| over every prompt position) and
             greedy_min_leading (greedy tokens matching the reference from the start, every case).
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
import torch

import golden
import quantize
from bpe import Tokenizer
from export_model import tie_lm_head
from export_onnx import export
from make_test_models import CONFIG, EMBED_STD, FIXTURES, FP32_ATOL, SEED, TINY, WEIGHT_STD
from model import LlamaConfig, LlamaForCausalLM

COPIED = ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]
Q4_CONFIG = LlamaConfig(**{**CONFIG.__dict__, "intermediate_size": 192})
DEQUANTIZED_ATOL = 1e-3      # int4 kernels vs PyTorch with the same dequantized weights (fp32 sums)
HEADROOM = 1.5               # stated logit tolerance = measured max × this


def seeded(config):
    lm = LlamaForCausalLM(config)
    lm.init_weights(WEIGHT_STD, EMBED_STD, generator=torch.Generator().manual_seed(SEED))
    return lm.eval()


def int4_round_trip(lm):
    """A copy of lm whose linear weights and tied embedding are what MatMulNBits reads back."""
    q = LlamaForCausalLM(lm.config)
    q.load_state_dict(lm.state_dict())
    with torch.no_grad():
        for name, mod in q.named_modules():
            if isinstance(mod, torch.nn.Linear) and name != "lm_head":
                w = mod.weight.detach().numpy().T.astype(np.float32)            # (K, N) as the MatMul's B
                mod.weight.copy_(torch.from_numpy(quantize.quantize_q4_blocks(w)[2].T.copy()))
        e = q.model.embed_tokens.weight.detach().numpy()                         # (V, d); the head is E^T
        q.model.embed_tokens.weight.copy_(torch.from_numpy(quantize.quantize_q4_blocks(e.T.astype(np.float32))[2].T.copy()))
    return q.eval()


def new_fixture(name, config, dtype):
    out = os.path.join(FIXTURES, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "onnx"))
    for f in COPIED:
        shutil.copy(os.path.join(TINY, f), os.path.join(out, f))
    config.save(os.path.join(out, "config.json"), **{"transformers.js_config": {"dtype": dtype}})
    return out


def measure(onnx_path, cases, config):
    """onnxruntime-node against the fp32 reference: worst logit difference, leading greedy matches."""
    r = golden.check_onnx(onnx_path, cases, config)
    leading = []
    for c, got in zip(cases, r["cases"]):
        n = 0
        while n < len(got["tokens"]) and got["tokens"][n] == c["greedy_tokens"][n]:
            n += 1
        leading.append(n)
    # prefill_max_diff covers every prompt position; step diffs are teacher-forced (greedy path).
    return {"prefill_max_diff": max(c["prefill_max_diff"] for c in r["cases"]), "leading": leading}


def stated(measured, atol_floor):
    return {"reference": "fp32", "logit_atol": max(atol_floor, float("%.2g" % (measured["prefill_max_diff"] * HEADROOM))),
            "greedy_min_leading": min(measured["leading"])}


def strip(cases):
    """Cases without attentions (the loader tests compare logits and greedy tokens)."""
    return [{k: v for k, v in c.items() if k != "attentions"} for c in cases]


def add_to_golden(path, extra):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    doc.update(extra)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def make_q4(tok, skip_checks):
    lm = seeded(Q4_CONFIG)
    grid = int4_round_trip(lm)                        # fp32, weights on the int4 grid
    cases = golden.reference_cases(grid, tok, min_margin=2 * DEQUANTIZED_ATOL)
    out = new_fixture("tiny-q4", Q4_CONFIG, "q4")
    fp32 = os.path.join(out, "onnx", "model.onnx")
    export(lm, fp32, "optimum")                       # the unquantized weights: quantize.py rounds them
    tie_lm_head(fp32)  # the head as Transpose(embedding), the graph shape quantize.py rewrites
    q4 = os.path.join(out, "onnx", "model_q4.onnx")
    onnx.save(quantize.quantize_q4(onnx.load(fp32)), q4)
    os.remove(fp32)
    golden.write_golden(os.path.join(out, "golden.json"), "onnx/model_q4.onnx", DEQUANTIZED_ATOL, strip(cases))
    report = {}
    if not skip_checks:
        d = golden.check_onnx(q4, cases, Q4_CONFIG)
        assert d["greedy_match"] and d["max_diff"] <= DEQUANTIZED_ATOL, ("int4 graph vs its fp32 grid reference", d["max_diff"])
        original = measure(q4, golden.reference_cases(lm, tok, min_margin=0), Q4_CONFIG)
        report = {"max_diff": d["max_diff"], "original_fp32": original}
        add_to_golden(os.path.join(out, "golden.json"), {"quantization": {
            "scheme": "int4 MatMulNBits, block 32, symmetric (quantize.quantize_q4)",
            "reference": "fp32 with int4 round-trip weights",
            "original_fp32": {"max_logit_diff": original["prefill_max_diff"], "greedy_leading": original["leading"]}}})
    return report


def make_int8(lm, tok, cases, skip_checks):
    out = new_fixture("tiny-int8", CONFIG, "q8")
    tied = os.path.join(out, "onnx", "model.onnx")
    shutil.copy(os.path.join(TINY, "onnx", "model.onnx"), tied)
    tie_lm_head(tied)  # the head as Transpose(embedding), the graph shape quantize.py rewrites
    q8 = os.path.join(out, "onnx", "model_quantized.onnx")
    onnx.save(quantize.quantize_int8(onnx.load(tied)), q8)
    os.remove(tied)
    golden.write_golden(os.path.join(out, "golden.json"), "onnx/model_quantized.onnx", FP32_ATOL, strip(cases))
    report = {}
    if not skip_checks:
        report = measure(q8, cases, CONFIG)
        add_to_golden(os.path.join(out, "golden.json"), {"quantization": {**stated(report, 1e-2), "scheme": "int8 MatMulInteger, per-channel weights, dynamic activations (quantize.quantize_int8)"}})
    return report


def make_external_data(lm, tok, cases, skip_checks):
    out = new_fixture("tiny-external-data", CONFIG, "fp32")
    proto = onnx.load(os.path.join(TINY, "onnx", "model.onnx"))
    onnx.save_model(proto, os.path.join(out, "onnx", "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=0)
    saved = onnx.load(os.path.join(out, "onnx", "model.onnx"), load_external_data=False)
    assert all(i.data_location == onnx.TensorProto.EXTERNAL for i in saved.graph.initializer), "every weight external"
    golden.write_golden(os.path.join(out, "golden.json"), "onnx/model.onnx", FP32_ATOL, strip(cases))
    report = {}
    if not skip_checks:
        r = golden.check_onnx(os.path.join(out, "onnx", "model.onnx"), cases, CONFIG)
        assert r["greedy_match"] and r["max_diff"] <= FP32_ATOL, r["max_diff"]
        report = {"max_diff": r["max_diff"]}
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-checks", action="store_true", help="no onnxruntime-node checks (then no stated tolerances)")
    args = ap.parse_args()
    tok = Tokenizer.load(TINY)
    lm = seeded(CONFIG)                               # test-tiny's weights
    cases = golden.reference_cases(lm, tok, min_margin=1e-3)
    results = {
        "tiny-q4": make_q4(tok, args.skip_checks),
        "tiny-int8": make_int8(lm, tok, cases, args.skip_checks),
        "tiny-external-data": make_external_data(lm, tok, cases, args.skip_checks),
    }
    for name in results:
        d = os.path.join(FIXTURES, name)
        results[name]["bytes"] = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
        assert results[name]["bytes"] < 1.5e6, (name, results[name]["bytes"])
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
