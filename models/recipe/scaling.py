"""Scaling study: several model sizes, the same data and the same short token budget; fit
L(N) = a * N^(-alpha) + c.

    nice -n 19 /usr/bin/python3 models/recipe/scaling.py [--tokens 2e6] [--out models/glassbox-code/scaling.json]

Each size is a pretrain.py run (runs/scaling-<name>/, resumable: rerunning skips finished sizes and
resumes an interrupted one) with the same schedule: --tokens training tokens (FIM 50%), sequence
length 256 for all, 4,096 tokens per step, peak LR 2e-3 with 5% warmup and cosine decay to 10%,
seed 1234. Final loss = validation loss on the same fixed 65,536 validation tokens (rows of 256).

N is counted two ways: `params` = non-embedding parameters (the tied 8192 x d embedding / LM
head matrix excluded, as in Kaplan et al. 2020: it is what makes small models' laws straight), and
`total_params`. FLOPs = 6 * total_params * tokens (the tied matrix does real work as the LM head;
attention's own FLOPs are left out). The fit: a grid over c, log-log least squares for a and alpha
at each c, then Adam on (log a, alpha, c) from the best grid point (no scipy here).
"""
import argparse
import json
import math
import os

import torch

import pretrain
from model import LlamaForCausalLM

ROOT = pretrain.ROOT
# name -> Llama sizes (vocab 8192 and everything else as the shipped model)
SIZES = {
    "d48-l2": dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=3, num_key_value_heads=1,
                   head_dim=16, intermediate_size=128),
    "d96-l3": dict(hidden_size=96, num_hidden_layers=3, num_attention_heads=3, num_key_value_heads=1,
                   head_dim=32, intermediate_size=256),
    "d128-l4": dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                    head_dim=32, intermediate_size=352),
    "d192-l6": pretrain.PRESETS["glassbox-code"],
}
pretrain.PRESETS.update({f"scaling-{k}": v for k, v in SIZES.items()})


def run_args(name, tokens, threads):
    return ["--run", f"scaling-{name}", "--preset", f"scaling-{name}", "--resume",
            "--max-tokens", str(int(tokens)), "--tokens-per-step", "4096", "--seq-len", "256",
            "--long-frac", "0", "--lr", "2e-3", "--warmup-tokens", str(int(tokens * 0.05)),
            "--eval-every", "50", "--log-every", "10", "--val-tokens", "65536",
            "--threads", str(threads)]


def final_record(name):
    path = os.path.join(pretrain.RUNS_DIR, f"scaling-{name}", "log.jsonl")
    if not os.path.exists(path):
        return None
    recs = [json.loads(l) for l in open(path)]
    done = [r for r in recs if r.get("event") == "done"]
    vals = [r for r in recs if "val_loss" in r]
    return (done[-1], vals[-1], recs[0]) if done and vals else None


def fit_power_law(ns, losses):
    """(a, alpha, c) minimising sum (a N^-alpha + c - L)^2."""
    ns_t, ls_t = torch.tensor(ns, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64)
    best = None
    for i in range(400):
        c = min(losses) * 0.999 * i / 400
        x, y = ns_t.log(), (ls_t - c).log()
        slope = float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
        a = math.exp(float(y.mean()) - slope * float(x.mean()))
        sse = float(((a * ns_t ** slope + c - ls_t) ** 2).sum())
        if best is None or sse < best[3]:
            best = (a, -slope, c, sse)
    p = torch.tensor([math.log(best[0]), best[1], best[2]], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3)
    for _ in range(20000):
        opt.zero_grad()
        pred = p[0].exp() * ns_t ** (-p[1]) + p[2]
        loss = ((pred - ls_t) ** 2).sum()
        loss.backward()
        opt.step()
    a, alpha, c = math.exp(float(p[0])), float(p[1]), float(p[2])
    sse = float(((a * ns_t ** (-alpha) + c - ls_t) ** 2).sum())
    if sse > best[3]:
        a, alpha, c, sse = best
    return {"a": a, "alpha": alpha, "c": c, "sse": sse,
            "rmse": math.sqrt(sse / len(ns))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=float, default=2e6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default=",".join(SIZES))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "glassbox-code", "scaling.json"))
    args = ap.parse_args()
    points = []
    for name in args.sizes.split(","):
        if final_record(name) is None:
            pretrain.main(run_args(name, args.tokens, args.threads))
        if final_record(name) is None:
            raise SystemExit(f"scaling-{name} stopped before its budget; rerun scaling.py to resume it")
        done, last_val, start = final_record(name)
        config = pretrain.make_config(f"scaling-{name}")
        total, emb = pretrain.count_params(LlamaForCausalLM(config))
        points.append({"name": name, "params": total - emb, "total_params": total,
                       "embedding_params": emb, "tokens": done["tokens"],
                       "flops": 6 * total * done["tokens"], "val_loss": last_val["val_loss"],
                       "hidden_size": config.hidden_size, "layers": config.num_hidden_layers,
                       "wall_s": done["wall_s"], "cpu_s": done["cpu_s"]})
        print(json.dumps(points[-1]), flush=True)
    fit = fit_power_law([p["params"] for p in points], [p["val_loss"] for p in points])
    fit_total = fit_power_law([p["total_params"] for p in points], [p["val_loss"] for p in points])
    out = {"format": "glassbox-scaling/1",
           "params_counted": "non-embedding (tied embedding / LM head excluded); total_params counts it once",
           "loss": "validation cross-entropy, nats/token, fixed 65,536-token subset of the valid split",
           "schedule": " ".join(run_args("<size>", args.tokens, args.threads)),
           "points": points,
           "fit": {**fit, "law": "L(N) = a * N^(-alpha) + c, N = non-embedding params"},
           "fit_total_params": {**fit_total, "law": "L(N) = a * N^(-alpha) + c, N = total params"}}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out["fit"]), flush=True)


if __name__ == "__main__":
    main()
