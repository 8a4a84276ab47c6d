"""Explain fine-tune: LoRA on the pre-trained model, merged into the weights for export.

    nice -n 19 /usr/bin/python3 models/recipe/lora.py --base models/recipe/runs/main/final.pt \
        [--run lora] [--rank 16] [--steps 120]

Data: data/explain/{train,valid}.jsonl (explain_pairs.py), as
`{code}<|explain|>{summary}<|endoftext|>` with the loss on the summary and <|endoftext|> only (the
engine prompts with encode(code) + [<|explain|>] and stops at <|endoftext|>; prompts.ts). Code is
cut to its last --max-code-tokens tokens.

Adapters (Hu et al. 2021): W x + (alpha / r) B A x on q_proj, v_proj, gate_proj, up_proj and
down_proj of every layer; A ~ N(0, 1/r), B = 0; everything else frozen. Since merging changes the
model that also completes code, each step also trains on a replay batch of pre-training rows (the
same FIM stream) and the report gives the validation LM loss before and after, next to the explain
loss on held-out pairs (valid split: packages the model never trained on).

Writes runs/<run>/: log.jsonl (step, tokens = summary tokens trained, loss = explain training loss,
replay_lm_loss, val_loss = held-out explain loss), merged.pt (HF state dict
with B A folded into W), report.json {rank, alpha, targets, trainable_params, before/after losses}.
"""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import bpe
from data import EOT, IGNORE, PackedFimStream, TokenSplit, validation_rows
from model import LlamaConfig, LlamaForCausalLM
from pretrain import DATA_DIR, RUNS_DIR, evaluate, train_logits

EXPLAIN = bpe.SPECIAL_TOKENS.index("<|explain|>")
TARGETS = ("q_proj", "v_proj", "gate_proj", "up_proj", "down_proj")


class LoRALinear(nn.Module):
    """base(x) + (alpha / r) * B(A(x)); base frozen."""

    def __init__(self, base, rank, alpha, generator):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.A = nn.Parameter(torch.randn(rank, base.in_features, generator=generator) / rank)   # (r, in)
        self.B = nn.Parameter(torch.zeros(base.out_features, rank))                            # (out, r)

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.A), self.B) * self.scale

    def merged_weight(self):
        return self.base.weight + self.scale * (self.B @ self.A)                               # (out, in)


def add_lora(lm, rank, alpha, seed):
    g = torch.Generator().manual_seed(seed)
    for p in lm.parameters():
        p.requires_grad_(False)
    adapters = {}
    for i, layer in enumerate(lm.model.layers):
        for block in (layer.self_attn, layer.mlp):
            for name in TARGETS:
                if hasattr(block, name):
                    wrapped = LoRALinear(getattr(block, name), rank, alpha, g)
                    setattr(block, name, wrapped)
                    adapters[f"model.layers.{i}.{'self_attn' if block is layer.self_attn else 'mlp'}.{name}"] = wrapped
    return adapters


def merged_state_dict(lm, adapters):
    """HF-named state dict with every adapter folded into its base weight."""
    out = {k.replace(".base.weight", ".weight"): v.detach().clone() for k, v in lm.state_dict().items()
           if not (k.endswith(".A") or k.endswith(".B"))}
    with torch.no_grad():
        for name, a in adapters.items():
            out[f"{name}.weight"] = a.merged_weight().clone()
    return out


def load_pairs(path, tok, max_code_tokens, limit=None, seed=0):
    """[(ids, target_mask)] for `{code}<|explain|>{summary}<|endoftext|>`."""
    with open(path, encoding="utf-8") as f:
        pairs = [json.loads(l) for l in f]
    random.Random(seed).shuffle(pairs)
    if limit:
        pairs = pairs[:limit]
    out = []
    for p in pairs:
        code = tok.encode(p["code"])[-max_code_tokens:]
        summ = tok.encode(p["summary"]) + [EOT]
        out.append((code + [EXPLAIN] + summ, [False] * (len(code) + 1) + [True] * len(summ)))
    return out


def pair_batch(examples):
    """Right-padded (B, T) inputs and targets; targets IGNORE outside the summary."""
    T = max(len(ids) for ids, _ in examples) - 1
    x = torch.full((len(examples), T), EOT, dtype=torch.long)
    y = torch.full((len(examples), T), IGNORE, dtype=torch.long)
    for i, (ids, mask) in enumerate(examples):
        ids_t = torch.tensor(ids)
        x[i, :len(ids) - 1] = ids_t[:-1]
        tgt = ids_t[1:].clone()
        tgt[~torch.tensor(mask[1:])] = IGNORE
        y[i, :len(ids) - 1] = tgt
    return x, y


def batch_loss(lm, x, y, reduction="mean"):
    logits = train_logits(lm, x)                                 # (B, T, vocab)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE,
                           reduction=reduction)


@torch.no_grad()
def explain_loss(lm, pairs, batch_size=16):
    """Mean NLL (nats/token) of the summary tokens (and <|endoftext|>) of held-out pairs."""
    lm.eval()
    total, n = 0.0, 0
    for i in range(0, len(pairs), batch_size):
        x, y = pair_batch(pairs[i:i + batch_size])
        total += float(batch_loss(lm, x, y, "sum"))
        n += int((y != IGNORE).sum())
    lm.train()
    return total / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="pre-trained HF state dict (.pt)")
    ap.add_argument("--base-run", default=os.path.join(RUNS_DIR, "main"), help="for config.json")
    ap.add_argument("--run", default="lora")
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--batch-size", type=int, default=12)
    ap.add_argument("--replay-rows", type=int, default=2, help="pre-training rows per step (seq 512)")
    ap.add_argument("--max-code-tokens", type=int, default=384)
    ap.add_argument("--val-pairs", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    assert args.rank <= 16
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run_dir = os.path.join(RUNS_DIR, args.run)
    os.makedirs(run_dir, exist_ok=True)

    config = LlamaConfig.load(os.path.join(args.base_run, "config.json"))
    lm = LlamaForCausalLM(config)
    lm.load_hf_state_dict(torch.load(args.base, map_location="cpu"))
    tok = bpe.Tokenizer.load(os.path.join(args.data, "tokenizer"))
    ex_dir = os.path.join(args.data, "explain")
    train_pairs = load_pairs(os.path.join(ex_dir, "train.jsonl"), tok, args.max_code_tokens, seed=args.seed)
    val_pairs = load_pairs(os.path.join(ex_dir, "valid.jsonl"), tok, args.max_code_tokens, args.val_pairs, seed=0)
    tokens_dir = os.path.join(args.data, "tokens")
    lm_val = validation_rows(TokenSplit(tokens_dir, "valid"), 512, 32768)
    replay = PackedFimStream(TokenSplit(tokens_dir, "train"), tok, 0.5, 0.5, seed=args.seed + 7)

    before = {"explain_val_loss": explain_loss(lm, val_pairs), "lm_val_loss": evaluate(lm, lm_val)}
    print("before", before, flush=True)
    adapters = add_lora(lm, args.rank, args.alpha, args.seed)
    trainable = [p for p in lm.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in trainable)
    opt = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.9, 0.99), weight_decay=0.0)
    log = open(os.path.join(run_dir, "log.jsonl"), "w")
    log.write(json.dumps({"step": 0, "tokens": 0, "event": "start", "args": vars(args),
                          "trainable_params": n_trainable, **before}) + "\n")
    # batches of similar length (less padding): shuffle, then sort within windows of 50 batches
    order = list(range(len(train_pairs)))
    rng = random.Random(args.seed)
    t0, tokens, losses, replay_losses, step = time.time(), 0, [], [], 0
    while step < args.steps:
        rng.shuffle(order)
        win = args.batch_size * 50
        chunks = [sorted(order[i:i + win], key=lambda j: len(train_pairs[j][0])) for i in range(0, len(order), win)]
        batches = [c[i:i + args.batch_size] for c in chunks for i in range(0, len(c), args.batch_size)]
        rng.shuffle(batches)
        for b in batches:
            if step >= args.steps:
                break
            lr = args.lr * min(1.0, (step + 1) / 30) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = pair_batch([train_pairs[j] for j in b])
            ex_loss = batch_loss(lm, x, y)
            loss = ex_loss
            if args.replay_rows:
                rx, ry = replay.next_batch(args.replay_rows, 512)
                rp_loss = batch_loss(lm, rx, ry)
                loss = loss + rp_loss
                replay_losses.append(float(rp_loss))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            step += 1
            tokens += int((y != IGNORE).sum())
            losses.append(float(ex_loss))
            if step % 10 == 0 or step == args.steps:
                rec = {"step": step, "tokens": tokens, "loss": sum(losses) / len(losses), "lr": lr,
                       "wall_s": round(time.time() - t0, 1)}
                if replay_losses:
                    rec["replay_lm_loss"] = sum(replay_losses) / len(replay_losses)
                losses, replay_losses = [], []
                if step % args.eval_every == 0 or step == args.steps:
                    rec["val_loss"] = explain_loss(lm, val_pairs)
                log.write(json.dumps(rec) + "\n")
                log.flush()
                print(json.dumps(rec), flush=True)

    merged = merged_state_dict(lm, adapters)
    torch.save(merged, os.path.join(run_dir, "merged.pt"))
    check = LlamaForCausalLM(config).load_hf_state_dict(merged)
    after = {"explain_val_loss": explain_loss(check, val_pairs), "lm_val_loss": evaluate(check, lm_val)}
    with torch.no_grad():                                        # merged == adapted, to float precision
        x = torch.tensor([val_pairs[0][0]])
        diff = float((train_logits(check, x) - train_logits(lm, x)).abs().max())
    assert diff < 1e-3, diff
    report = {"rank": args.rank, "alpha": args.alpha, "targets": list(TARGETS),
              "trainable_params": n_trainable, "steps": args.steps, "batch_size": args.batch_size,
              "replay_rows": args.replay_rows, "train_pairs": len(train_pairs), "val_pairs": len(val_pairs),
              "summary_tokens_trained": tokens, "before": before, "after": after,
              "merge_max_logit_diff": diff, "wall_s": round(time.time() - t0, 1),
              "cpu_s": round(time.process_time(), 1)}
    log.write(json.dumps({"step": step, "tokens": tokens, "event": "done", **after}) + "\n")
    log.close()
    with open(os.path.join(run_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
