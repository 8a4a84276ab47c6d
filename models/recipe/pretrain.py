"""Pre-train Glassbox's code model: next-token prediction with FIM augmentation, on the CPU.

    setsid nohup nice -n 19 /usr/bin/python3 models/recipe/pretrain.py --run main --resume \
        > models/recipe/runs/main.out 2>&1 &

    --resume        continue runs/<run>/ckpt.pt exactly (weights, AdamW, data position, RNGs, log);
                    with no checkpoint there, the run `main` starts from the weights of the committed
                    export models/glassbox-code/onnx/model.onnx if it exists (new optimizer and schedule),
                    else from scratch
    --probe SECONDS train for that long, print tokens/s, write nothing (architecture choice)
    --preset NAME   a size from PRESETS (scaling.py adds more); --max-tokens the token budget
    --extend        with --resume, accept a different --max-tokens than the checkpoint's (the run
                    `main` was started with 12M and extended to 20M at 2.5M tokens; the log says so)

Reads data/tokens (prepare_data.py) and data/tokenizer. Writes runs/<run>/: ckpt.pt (every
--ckpt-minutes and on SIGTERM/SIGINT, atomically), log.jsonl (one JSON object per line: step,
tokens, loss, lr, seq_len, tok_per_s, wall_s, cpu_s; val_loss every --eval-every steps on a fixed
validation subset), config.json, and at the end final.pt (HF-named state dict).

Schedule: AdamW (betas 0.9/0.95, weight decay on matrices only), linear warmup then cosine decay to
--min-lr-frac of the peak, gradient clipping at 1.0, fp32. Sequence length --seq-len for the first
(1 - --long-frac) of the tokens, then --long-seq-len with the same tokens per step.
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import bpe
from data import IGNORE, MixedStream, PackedFimStream, RepoRows, TokenSplit, validation_rows
from model import LlamaConfig, LlamaForCausalLM, apply_rotary

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RECIPE_DIR))
DATA_DIR = os.path.join(RECIPE_DIR, "data")
RUNS_DIR = os.path.join(RECIPE_DIR, "runs")
SHIPPED_DIR = os.path.join(ROOT, "models", "glassbox-code")

# Llama-style sizes; vocab 8192, head_dim 32, SwiGLU width ~8/3 d (multiple of 64). See README.
PRESETS = {
    "glassbox-code": dict(hidden_size=192, num_hidden_layers=6, num_attention_heads=6,
                          num_key_value_heads=3, head_dim=32, intermediate_size=512),
    "d256-l6": dict(hidden_size=256, num_hidden_layers=6, num_attention_heads=8,
                    num_key_value_heads=4, head_dim=32, intermediate_size=704),
}
COMMON = dict(vocab_size=8192, max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=10000.0,
              bos_token_id=0, eos_token_id=0, pad_token_id=0, initializer_range=0.02)


def make_config(preset):
    return LlamaConfig(**COMMON, **PRESETS[preset])


def count_params(lm):
    """(total, embedding): the tied embedding / LM head matrix counted once."""
    total = sum(p.numel() for p in lm.parameters())
    return total, lm.model.embed_tokens.weight.numel()


# ---------------------------------------------------------------- model: training forward

def init_weights(lm, seed):
    """Normal(0, 0.02); residual output projections (o_proj, down_proj) scaled by 1/sqrt(2 L)
    (GPT-2); norms 1."""
    g = torch.Generator().manual_seed(seed)
    lm.init_weights(lm.config.initializer_range, generator=g)
    with torch.no_grad():
        for name, p in lm.named_parameters():
            if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                p.mul_(1.0 / math.sqrt(2 * lm.config.num_hidden_layers))


_CAUSAL = {}


def causal_bias(T):
    if T not in _CAUSAL:
        _CAUSAL[T] = torch.full((T, T), float("-inf")).triu(1)   # (T, T): 0 on and below the diagonal
    return _CAUSAL[T]


def train_logits(lm, x):
    """Logits (B, T, vocab) for full rows without cache or padding: the same function as
    lm(x).logits, with grouped-query attention done without copying K/V per query head and an
    additive causal bias (about 15% faster to train on 2 CPU cores). Checked by check_train_forward."""
    m = lm.model
    B, T = x.shape
    h = m.embed_tokens(x)                                         # (B, T, d)
    cos, sin = m.rotary_emb(torch.arange(T)[None])                # (1, T, hd)
    bias = causal_bias(T)
    for layer in m.layers:
        a = layer.self_attn
        H, KV, hd = a.n_head, a.n_kv, a.hd
        G = H // KV
        u = layer.input_layernorm(h)
        q = a.q_proj(u).view(B, T, H, hd).transpose(1, 2)         # (B, H, T, hd)
        k = a.k_proj(u).view(B, T, KV, hd).transpose(1, 2)        # (B, KV, T, hd)
        v = a.v_proj(u).view(B, T, KV, hd).transpose(1, 2)        # (B, KV, T, hd)
        q, k = apply_rotary(q, cos, sin, hd), apply_rotary(k, cos, sin, hd)
        # query head h uses KV head h // G: group the G query heads of each KV head
        qg = q.reshape(B, KV, G * T, hd)                          # (B, KV, G*T, hd)
        att = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(hd))  # (B, KV, G*T, T)
        att = F.softmax(att.view(B, KV, G, T, T) + bias, dim=-1)  # (B, KV, G, T, T)
        y = torch.matmul(att.view(B, KV, G * T, T), v)            # (B, KV, G*T, hd)
        y = y.view(B, H, T, hd).transpose(1, 2).reshape(B, T, H * hd)  # (B, T, H*hd)
        h = h + a.o_proj(y)
        h = h + layer.mlp(layer.post_attention_layernorm(h))
    return lm.lm_head(m.norm(h))                                  # (B, T, vocab)


@torch.no_grad()
def check_train_forward(lm):
    x = torch.randint(0, lm.config.vocab_size, (2, 37), generator=torch.Generator().manual_seed(0))
    ref = lm(x).logits
    got = train_logits(lm, x)
    assert got.shape == ref.shape and torch.allclose(got, ref, atol=1e-4), float((got - ref).abs().max())


def loss_fn(lm, x, y):
    logits = train_logits(lm, x)                                  # (B, T, vocab)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE)


@torch.no_grad()
def evaluate(lm, rows, batch_size=16):
    """Mean next-token loss (nats) over the fixed validation rows (N, T+1)."""
    lm.eval()
    total, n = 0.0, 0
    for i in range(0, len(rows), batch_size):
        r = rows[i:i + batch_size]
        logits = train_logits(lm, r[:, :-1])
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), r[:, 1:].reshape(-1),
                                       reduction="sum"))
        n += r[:, 1:].numel()
    lm.train()
    return total / n


# ---------------------------------------------------------------- optimizer and schedule

def make_optimizer(lm, lr, weight_decay):
    decay = [p for p in lm.parameters() if p.dim() >= 2]          # matrices (and the tied embedding)
    rest = [p for p in lm.parameters() if p.dim() < 2]            # norm weights
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95), eps=1e-8)


def lr_at(tokens, args):
    """Linear warmup over warmup_tokens, cosine from lr to lr * min_lr_frac at max_tokens."""
    if tokens < args.warmup_tokens:
        return args.lr * (tokens + 1) / args.warmup_tokens
    t = min(1.0, (tokens - args.warmup_tokens) / max(1, args.max_tokens - args.warmup_tokens))
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def phase(tokens, args):
    """(batch_size, seq_len) for the next step: short rows first, long rows for the last long_frac."""
    if args.long_frac > 0 and tokens >= (1 - args.long_frac) * args.max_tokens:
        return args.tokens_per_step // args.long_seq_len, args.long_seq_len
    return args.tokens_per_step // args.seq_len, args.seq_len


# ---------------------------------------------------------------- checkpoints

def save_checkpoint(path, lm, opt, stream, state):
    tmp = path + ".tmp"
    torch.save({"model": lm.state_dict(), "optimizer": opt.state_dict(), "stream": stream.state_dict(),
                "torch_rng": torch.get_rng_state(), "np_rng": np.random.get_state(), **state}, tmp)
    os.replace(tmp, path)                                         # atomic: never a half-written ckpt


def weights_from_export(folder):
    """HF state dict from a committed export (the fp32 ONNX), or None."""
    onnx_path = os.path.join(folder, "onnx", "model.onnx")
    if not os.path.exists(onnx_path):
        return None
    from onnx_weights import state_dict_from_onnx
    return state_dict_from_onnx(onnx_path, LlamaConfig.load(os.path.join(folder, "config.json")))


# ---------------------------------------------------------------- loop

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="main")
    ap.add_argument("--preset", default="glassbox-code")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-from", default=None, help="model folder whose onnx/model.onnx weights start the run, or an HF state dict (.pt)")
    ap.add_argument("--probe", type=float, default=0, help="seconds; print tokens/s only")
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--max-tokens", type=float, default=20e6, help="training tokens (targets)")
    ap.add_argument("--tokens-per-step", type=int, default=8192)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--long-seq-len", type=int, default=1024)
    ap.add_argument("--long-frac", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup-tokens", type=float, default=4e5)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--fim-rate", type=float, default=0.5)
    ap.add_argument("--spm-rate", type=float, default=0.5)
    ap.add_argument("--repo-rate", type=float, default=0.0,
                    help="share of rows from data/repo/train.bin (repo_examples.ts): repository-level completion examples")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--val-tokens", type=int, default=65536)
    ap.add_argument("--ckpt-minutes", type=float, default=10)
    ap.add_argument("--extend", action="store_true",
                    help="with --resume: accept a new --max-tokens (the cosine horizon moves; logged)")
    ap.add_argument("--stop-after-steps", type=int, default=0, help="checkpoint and stop there (tests resume)")
    args = ap.parse_args(argv)
    args.max_tokens = int(args.max_tokens)
    args.warmup_tokens = int(args.warmup_tokens)
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = make_config(args.preset)
    tok = bpe.Tokenizer.load(os.path.join(args.data, "tokenizer"))
    assert tok.vocab_size == config.vocab_size, (tok.vocab_size, config.vocab_size)
    tokens_dir = os.path.join(args.data, "tokens")
    train = TokenSplit(tokens_dir, "train")
    val_rows = validation_rows(TokenSplit(tokens_dir, "valid"), args.seq_len, args.val_tokens)  # (N, T+1)
    run_dir = os.path.join(RUNS_DIR, args.run)
    ckpt_path = os.path.join(run_dir, "ckpt.pt")
    log_path = os.path.join(run_dir, "log.jsonl")

    lm = LlamaForCausalLM(config)
    init_weights(lm, args.seed)
    check_train_forward(lm)
    opt = make_optimizer(lm, args.lr, args.weight_decay)
    stream = PackedFimStream(train, tok, args.fim_rate, args.spm_rate, args.seed)
    repo_val = None
    if args.repo_rate > 0:
        assert args.long_frac == 0, "repository rows have one length: pass --long-frac 0 and --seq-len to match them"
        repo_dir = os.path.join(args.data, "repo")
        stream = MixedStream(stream, RepoRows(repo_dir, "train", args.seq_len, args.seed), args.repo_rate, args.seed)
        repo_val = torch.from_numpy(np.asarray(RepoRows(repo_dir, "valid", args.seq_len).rows, dtype=np.int64))  # (N, T+1)
    st = {"step": 0, "tokens": 0, "wall_s": 0.0, "cpu_s": 0.0, "init": "scratch"}
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        assert ck["args"]["preset"] == args.preset, "resume with the run's own --preset"
        assert ck["args"]["max_tokens"] == args.max_tokens or args.extend, \
            f"the run's budget is --max-tokens {ck['args']['max_tokens']:.0f}; pass --extend to change it"
        lm.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        stream.load_state_dict(ck["stream"])
        torch.set_rng_state(ck["torch_rng"])
        np.random.set_state(ck["np_rng"])
        st = {k: ck[k] for k in st}
        print(f"resumed {ckpt_path} at step {st['step']}, {st['tokens']:,} tokens", flush=True)
        if st["tokens"] >= args.max_tokens and os.path.exists(os.path.join(run_dir, "final.pt")):
            print(f"{args.run} already finished: {run_dir}/final.pt", flush=True)
            return
    elif (args.init_from or (args.resume and args.preset == "glassbox-code" and args.run in ("main", "repo"))) and not args.probe:
        # only the shipped model's own run falls back to the committed weights (not the scaling runs)
        src = args.init_from or SHIPPED_DIR
        sd = torch.load(src, map_location="cpu") if src.endswith(".pt") else weights_from_export(src)
        if sd is not None:
            lm.load_hf_state_dict(sd)
            st["init"] = f"weights of {os.path.relpath(args.init_from or SHIPPED_DIR, ROOT)}"
            print(f"no checkpoint: starting from the {st['init']}", flush=True)
    total, emb = count_params(lm)
    print(f"{args.preset}: {total:,} parameters ({emb:,} in the tied embedding); "
          f"{train.meta['tokens']:,} train tokens; budget {args.max_tokens:,}", flush=True)

    if not args.probe:
        os.makedirs(run_dir, exist_ok=True)
        config.save(os.path.join(run_dir, "config.json"))
        # keep the log consistent with the checkpoint: drop lines written after it
        lines = []
        if os.path.exists(log_path):
            with open(log_path) as f:
                lines = [l for l in f if json.loads(l)["step"] <= st["step"]]
        with open(log_path, "w") as f:
            f.writelines(lines)
            # the budget in force: the start's, or the last change's (a run can return to an earlier one)
            budgets = [r["max_tokens"] for r in map(json.loads, lines) if r.get("event") == "extend"]
            budget = budgets[-1] if budgets else (json.loads(lines[0]).get("args", {}).get("max_tokens") if lines else None)
            if budget not in (None, args.max_tokens):
                f.write(json.dumps({"step": st["step"], "tokens": st["tokens"], "event": "extend",
                                    "max_tokens": args.max_tokens, "lr_now": lr_at(st["tokens"], args)}) + "\n")
            if st["step"] == 0:
                f.write(json.dumps({"step": 0, "tokens": 0, "event": "start", "preset": args.preset,
                                    "params": total, "embedding_params": emb, "init": st["init"],
                                    "corpus_sha256": json.load(open(os.path.join(tokens_dir, "meta.json"))).get("corpus_sha256"),
                                    "args": vars(args)}) + "\n")

    stop = {"flag": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(flag=True))
    t_wall, t_cpu = time.time() - st["wall_s"], time.process_time() - st["cpu_s"]
    last_ckpt, last_log = time.time(), (time.time(), st["tokens"])
    probe_start, losses = time.time(), []

    def snapshot():
        st["wall_s"], st["cpu_s"] = time.time() - t_wall, time.process_time() - t_cpu
        save_checkpoint(ckpt_path, lm, opt, stream, {**st, "args": vars(args)})

    lm.train()
    while st["tokens"] < args.max_tokens and not stop["flag"]:
        B, T = phase(st["tokens"], args)
        lr = lr_at(st["tokens"], args)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = stream.next_batch(B, T)                            # (B, T) each
        loss = loss_fn(lm, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(lm.parameters(), args.clip))
        opt.step()
        st["step"] += 1
        st["tokens"] += int((y != IGNORE).sum())
        losses.append(float(loss))
        if args.probe:
            if time.time() - probe_start > args.probe:
                break
            continue
        if st["step"] % args.log_every == 0 or st["tokens"] >= args.max_tokens:
            now = time.time()
            rec = {"step": st["step"], "tokens": st["tokens"], "loss": sum(losses) / len(losses),
                   "lr": lr, "seq_len": T, "grad_norm": gnorm,
                   "tok_per_s": (st["tokens"] - last_log[1]) / (now - last_log[0]),
                   "wall_s": round(now - t_wall, 1), "cpu_s": round(time.process_time() - t_cpu, 1)}
            losses, last_log = [], (now, st["tokens"])
            if st["step"] % args.eval_every == 0 or st["tokens"] >= args.max_tokens:
                rec["val_loss"] = evaluate(lm, val_rows)
                if repo_val is not None:
                    rec["val_repo_loss"] = evaluate(lm, repo_val)
                last_log = (time.time(), st["tokens"])                # eval time is not training time
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            print(json.dumps(rec), flush=True)
        if args.stop_after_steps and st["step"] >= args.stop_after_steps:
            break
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            snapshot()
            last_ckpt = time.time()

    if args.probe:
        dt = time.time() - probe_start
        print(json.dumps({"preset": args.preset, "params": total, "steps": st["step"],
                          "tokens": st["tokens"], "seconds": round(dt, 1),
                          "tok_per_s": round(st["tokens"] / dt, 1),
                          "cpu_s": round(time.process_time() - t_cpu, 1), "loss": losses[-1]}), flush=True)
        return
    snapshot()
    if st["tokens"] >= args.max_tokens:
        torch.save(lm.state_dict(), os.path.join(run_dir, "final.pt"))
        with open(log_path, "a") as f:
            f.write(json.dumps({"step": st["step"], "tokens": st["tokens"], "event": "done",
                                "wall_s": round(st["wall_s"], 1), "cpu_s": round(st["cpu_s"], 1)}) + "\n")
        print(f"done: {run_dir}/final.pt", flush=True)
    else:
        print(f"stopped at step {st['step']}; resume with --run {args.run} --resume", flush=True)


if __name__ == "__main__":
    sys.exit(main())
