"""Reference outputs (`golden.json`) from PyTorch, for checking the TypeScript engine.

    /usr/bin/python3 models/recipe/golden.py --model-dir DIR --weights model.pt [--onnx onnx/model.onnx]

Format (models/README.md): {"format": "glassbox-golden/1", "onnx", "atol", "cases": [{name,
prompt, input_ids, logits [seq][vocab], greedy_tokens, attentions [layer][head][seq][seq] (first
case only)}]}. Prompts are tokenized with the model's tokenizer, no special tokens added. Greedy
decoding runs through the KV cache, 16 new tokens, EOS not a stop. Every greedy step must win by
a top-1 minus top-2 logit margin of more than `min_margin`, so float rounding differences
between ONNX Runtime and PyTorch cannot flip a token.

check_onnx() runs the ONNX file in onnxruntime-node (check_onnx.mjs) against the same reference,
plus the logits of every greedy step and one left-padded batch.
"""
import argparse
import json
import os
import subprocess
import tempfile

import torch

from bpe import Tokenizer
from model import LlamaConfig, LlamaForCausalLM, greedy

FORMAT = "glassbox-golden/1"
MAX_NEW_TOKENS = 16
RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))

# (name, prompt): Python, TypeScript, emoji + CJK, CRLF + tabs. The first also gets attentions.
PROMPTS = [
    ("python_def", "def add(a, b):\n    return"),
    ("typescript_fn", "function greet(name: string) {\n  return `Hi ${name}`;\n}\n"),
    ("unicode_emoji_cjk", "s = \"héllo 👋 你好\"  # 🌍\n"),
    ("crlf_tabs", "if (x) {\r\n\treturn y;\r\n}\r\n\t"),
]


def r7(t):
    """Nested lists of floats with 7 significant digits (smaller files; error < 1e-6 relative)."""
    if isinstance(t, torch.Tensor):
        t = t.tolist()
    if isinstance(t, list):
        return [r7(x) for x in t]
    return float("%.7g" % t)


def top2_margin(logits):
    v = torch.topk(logits, 2).values
    return float(v[0] - v[1])


@torch.no_grad()
def reference_cases(lm, tok, prompts=PROMPTS, max_new_tokens=MAX_NEW_TOKENS, cache_round=None,
                    min_margin=1e-3):
    """Cases for golden.json plus `step_logits` (for check_onnx); asserts greedy margins."""
    lm.eval()
    cases = []
    for i, (name, prompt) in enumerate(prompts):
        ids = tok.encode(prompt)
        assert tok.decode(ids) == prompt
        x = torch.tensor([ids])                                            # (1, T)
        T = x.shape[1]
        out = lm(x, torch.ones(1, T, dtype=torch.long), torch.arange(T)[None],
                 output_attentions=(i == 0))
        logits = out.logits[0]                                             # (T, vocab)
        assert logits.shape == (T, lm.config.vocab_size)
        tokens, step_logits = greedy(lm, x, max_new_tokens, cache_round)
        margins = [top2_margin(s) for s in step_logits]
        assert min(margins) > min_margin, \
            f"{name}: greedy step {margins.index(min(margins))} margin {min(margins):.2e} <= {min_margin}; change the prompt or seed"
        case = {"name": name, "prompt": prompt, "input_ids": ids, "logits": logits,
                "greedy_tokens": tokens, "step_logits": torch.stack(step_logits),
                "min_margin": min(margins)}
        if i == 0:
            att = torch.stack([a[0] for a in out.attentions])              # (layers, H, T, T)
            assert att.shape == (lm.config.num_hidden_layers, lm.config.num_attention_heads, T, T)
            case["attentions"] = att
        cases.append(case)
    return cases


@torch.no_grad()
def reference_batch(lm, tok, prompts=PROMPTS[:2]):
    """Two prompts, left-padded to one length, positions as HF generate makes them."""
    seqs = [tok.encode(p) for _, p in prompts]
    T = max(len(s) for s in seqs)
    ids = [[0] * (T - len(s)) + s for s in seqs]
    mask = [[0] * (T - len(s)) + [1] * len(s) for s in seqs]
    m = torch.tensor(mask)
    pos = (m.cumsum(-1) - 1).masked_fill(m == 0, 1)                        # (B, T)
    logits = lm(torch.tensor(ids), m, pos).logits                          # (B, T, vocab)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": pos.tolist(), "logits": r7(logits)}


def write_golden(path, onnx_rel, atol, cases):
    keys = ["name", "prompt", "input_ids", "logits", "greedy_tokens", "attentions"]
    doc = {"format": FORMAT, "onnx": onnx_rel, "atol": atol,
           "cases": [{k: (r7(c[k]) if k in ("logits", "attentions") else c[k])
                      for k in keys if k in c} for c in cases]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def check_onnx(onnx_path, cases, config, layout="optimum", dtype="fp32", batch=None):
    """Run check_onnx.mjs (onnxruntime-node) on onnx_path; returns its report (dict)."""
    check = {"layout": layout, "dtype": dtype, "num_layers": config.num_hidden_layers,
             "num_kv_heads": config.num_key_value_heads, "head_dim": config.head_dim,
             "cases": [{"name": c["name"], "input_ids": c["input_ids"], "logits": r7(c["logits"]),
                        "greedy_tokens": c["greedy_tokens"], "step_logits": r7(c["step_logits"])}
                       for c in cases],
             "batch": batch}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(check, f)
    try:
        res = subprocess.run(["node", os.path.join(RECIPE_DIR, "check_onnx.mjs"), onnx_path, f.name],
                             capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", required=True, help="folder with config.json and tokenizer.json")
    ap.add_argument("--weights", required=True, help="state dict (.pt) with HF key names")
    ap.add_argument("--onnx", default="onnx/model.onnx", help="relative to --model-dir")
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    config = LlamaConfig.load(os.path.join(args.model_dir, "config.json"))
    lm = LlamaForCausalLM(config)
    lm.load_hf_state_dict(torch.load(args.weights, map_location="cpu"))
    tok = Tokenizer.load(args.model_dir)
    cases = reference_cases(lm, tok)
    write_golden(os.path.join(args.model_dir, "golden.json"), args.onnx, args.atol, cases)
    report = check_onnx(os.path.join(args.model_dir, args.onnx), cases, config,
                        batch=reference_batch(lm, tok))
    print(json.dumps({k: report[k] for k in ("max_diff", "greedy_match")}))
    assert report["max_diff"] <= args.atol and report["greedy_match"], report


if __name__ == "__main__":
    main()
