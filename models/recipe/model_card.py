"""The model card models/glassbox-code/README.md and its plots, from the records the stages wrote.

    /usr/bin/python3 models/recipe/model_card.py [--model-dir models/glassbox-code]

Reads  corpus_manifest.json (corpus.py), data/tokens/meta.json (prepare_data.py),
       runs/main/log.jsonl and runs/repo/log.jsonl (pretrain.py; when a run's log is not on this
       machine, its events and records as export_model.py kept them in training_log.json),
       runs/lora/report.json (lora.py), data/repo/train.json (repo_examples.ts), and in the model
       folder config.json, golden.json, training_log.json, scaling.json, quantization.json,
       copy_cache.json, eval.json. A missing record leaves its section saying which stage makes it.
Writes README.md, loss_curve.png (pre-training and LoRA losses), scaling.png (matplotlib).
"""
import argparse
import collections
import json
import os

RECIPE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(RECIPE_DIR))
MODEL_DIR = os.path.join(ROOT, "models", "glassbox-code")
RUNS = os.path.join(RECIPE_DIR, "runs")


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        if path.endswith(".jsonl"):
            return [json.loads(l) for l in f if l.strip()]
        return json.load(f)


def pending(stage):
    return f"_Not yet measured: run `models/recipe/build_all.sh {stage}`._\n"


def n(x):
    return f"{x:,}"


def mb(b):
    return f"{b / 1e6:.1f} MB"


def steps_after(log, record):
    """Whether training records follow `record` (a continued run)."""
    return any("loss" in r for r in log[log.index(record) + 1:])


def lr_at_old(a, tokens):
    """pretrain.lr_at under the run's original arguments."""
    import math
    if tokens < a["warmup_tokens"]:
        return a["lr"] * (tokens + 1) / a["warmup_tokens"]
    t = min(1.0, (tokens - a["warmup_tokens"]) / max(1, a["max_tokens"] - a["warmup_tokens"]))
    return a["lr"] * (a["min_lr_frac"] + (1 - a["min_lr_frac"]) * 0.5 * (1 + math.cos(math.pi * t)))


def log_from_record(tlog, run, phase):
    """A run's log.jsonl lines (events and training records) rebuilt from training_log.json."""
    if not tlog or run not in tlog.get("events", {}):
        return None
    recs = [{**{k: v for k, v in r.items() if k != "train_loss"}, "loss": r["train_loss"]} for r in tlog.get(phase, [])]
    ev = tlog["events"][run]
    out = [e for e in ev if e.get("event") == "start"]
    rest = sorted([e for e in ev if e.get("event") != "start"] + recs, key=lambda r: (r["step"], "event" in r))
    return out + rest


def plot_losses(log, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2 if log.get("lora") else 1, figsize=(11 if log.get("lora") else 7, 4), squeeze=False)
    pre = log["pretrain"]
    ax = axes[0][0]
    ax.plot([r["tokens"] / 1e6 for r in pre], [r["train_loss"] for r in pre], lw=0.8, alpha=0.6, label="train (10-step mean)")
    val = [r for r in pre if "val_loss" in r]
    ax.plot([r["tokens"] / 1e6 for r in val], [r["val_loss"] for r in val], "o-", ms=3, label="validation")
    repo = log.get("repo") or []
    if repo:
        base = pre[-1]["tokens"]
        ax.axvline(base / 1e6, color="grey", lw=0.8, ls="--")
        ax.plot([(base + r["tokens"]) / 1e6 for r in repo], [r["train_loss"] for r in repo], lw=0.8, alpha=0.6, label="train, repository rows mixed in")
        rv = [r for r in repo if "val_loss" in r]
        ax.plot([(base + r["tokens"]) / 1e6 for r in rv], [r["val_loss"] for r in rv], "s-", ms=3, label="validation (continued)")
        rr = [r for r in repo if "val_repo_loss" in r]
        ax.plot([(base + r["tokens"]) / 1e6 for r in rr], [r["val_repo_loss"] for r in rr], "^-", ms=3, label="validation, repository rows")
    long = [r["tokens"] / 1e6 for r in pre if r.get("seq_len", 0) > 512]
    if long:
        ax.axvspan(long[0], long[-1], color="grey", alpha=0.15, label="sequence 1,024")
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title("Pre-training (FIM 50%)" + (", then repository-level rows" if repo else ""))
    ax.set_ylim(top=min(9.2, max(r["train_loss"] for r in pre) + 0.2))
    ax.grid(alpha=0.3)
    ax.legend()
    if log.get("lora"):
        lo = log["lora"]
        ax = axes[0][1]
        ax.plot([r["step"] for r in lo], [r["train_loss"] for r in lo], lw=0.8, label="train (explain pairs)")
        rp = [r for r in lo if "replay_lm_loss" in r]
        if rp:
            ax.plot([r["step"] for r in rp], [r["replay_lm_loss"] for r in rp], lw=0.8, label="replayed pre-training rows")
        v = [r for r in lo if "val_loss" in r]
        ax.plot([r["step"] for r in v], [r["val_loss"] for r in v], "o-", ms=3, label="held-out explain pairs")
        ax.set_xlabel("LoRA step")
        ax.set_title("Explain fine-tune (LoRA)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_scaling(sc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pts, fit = sc["points"], sc["fit"]
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [p["params"] for p in pts]
    ax.plot(xs, [p["val_loss"] for p in pts], "o", label="final validation loss")
    lo, hi = min(xs) / 1.5, max(xs) * 1.5
    grid = [lo * (hi / lo) ** (i / 100) for i in range(101)]
    ax.plot(grid, [fit["a"] * x ** (-fit["alpha"]) + fit["c"] for x in grid], "-",
            label=f"L = {fit['a']:.3g}·N^(−{fit['alpha']:.3f}) + {fit['c']:.3f}")
    for p in pts:
        ax.annotate(p["name"], (p["params"], p["val_loss"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("non-embedding parameters N")
    ax.set_ylabel("validation loss (nats/token)")
    ax.set_title(f"Scaling at {pts[0]['tokens'] / 1e6:.1f}M training tokens")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=MODEL_DIR)
    args = ap.parse_args()
    d = args.model_dir
    cfg = load(os.path.join(d, "config.json"))
    manifest = load(os.path.join(RECIPE_DIR, "corpus_manifest.json"))
    meta = load(os.path.join(RECIPE_DIR, "data", "tokens", "meta.json"))
    tlog = load(os.path.join(d, "training_log.json"))
    log = load(os.path.join(RUNS, "main", "log.jsonl")) or log_from_record(tlog, "main", "pretrain") or []
    repo_log = load(os.path.join(RUNS, "repo", "log.jsonl")) or log_from_record(tlog, "repo", "repo") or []
    repo_data = load(os.path.join(RECIPE_DIR, "data", "repo", "train.json")) or (tlog or {}).get("repo_data")
    lora = load(os.path.join(RUNS, "lora", "report.json"))
    gold = load(os.path.join(d, "golden.json"))
    scaling = load(os.path.join(d, "scaling.json"))
    quant = load(os.path.join(d, "quantization.json"))
    ev = load(os.path.join(d, "eval.json"))
    copy_table = load(os.path.join(d, "copy_cache.json"))
    evmd = open(os.path.join(d, "eval.md")).read() if os.path.exists(os.path.join(d, "eval.md")) else None

    import torch  # noqa: F401  (model.py needs it)
    import sys
    sys.path.insert(0, RECIPE_DIR)
    from model import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig.from_hf(cfg)
    lm = LlamaForCausalLM(config)
    total = sum(p.numel() for p in lm.parameters())
    emb = lm.model.embed_tokens.weight.numel()
    start = next((r for r in log if r.get("event") == "start"), {})
    done = next((r for r in reversed(log) if r.get("event") == "done"), None)  # a continued run ends again
    if done and steps_after(log, done):
        done = None
    steps = [r for r in log if "loss" in r]
    last = steps[-1] if steps else {}
    a = start.get("args", {})
    threads = a.get("threads", 2)
    tokens = (done or last).get("tokens", 0)
    wall = (done or last).get("wall_s", 0)
    cpu = (done or last).get("cpu_s", 0)
    vals = [r for r in steps if "val_loss" in r]
    rsteps = [r for r in repo_log if "loss" in r]
    rstart = next((r for r in repo_log if r.get("event") == "start"), {})
    rdone = next((r for r in reversed(repo_log) if r.get("event") == "done"), None)
    rlast = rsteps[-1] if rsteps else {}
    rtokens = (rdone or rlast).get("tokens", 0)
    out = []
    w = out.append

    w("# glassbox-code\n")
    w("Glassbox's own code model: a small Llama-architecture decoder trained from scratch on permissively "
      "licensed Python, TypeScript and JavaScript, so the extension completes and explains code offline "
      "with nothing to download. It is also the model the architecture and attention explorers open first.\n")
    trained = (f"trained for {(tokens + rtokens) / 1e6:.1f}M tokens on 2 CPU cores ({tokens / 1e6:.1f}M of pre-training, "
               f"then {rtokens / 1e6:.1f}M with repository-level completion rows)" if rtokens else f"trained for {tokens / 1e6:.1f}M tokens on 2 CPU cores")
    w(f"- **{n(total)} parameters** ({n(total - emb)} without the tied {config.vocab_size} × {config.hidden_size} "
      f"embedding / LM head), {config.num_hidden_layers} layers, {trained}.")
    w("- Fill-in-the-middle completion (`<|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>`)"
      + (", with repository context laid out as the extension sends it (snippets from other files after `<|file_sep|>` and their path)" if rtokens else "")
      + ", and a LoRA explain fine-tune (`{code}<|explain|>` → one-paragraph summary), merged into the weights.")
    w(f"- Shipped ONNX variant: `{cfg.get('transformers.js_config', {}).get('dtype', 'fp32')}` "
      "(the smallest within 3% of fp32's validation perplexity; see Quantization).\n")
    w("It is tiny and was trained for hours, not weeks: expect plausible identifiers, brackets and "
      "line endings, short idiomatic completions, and summaries that are often generic or wrong. "
      "See Limitations.\n")

    # ---- data
    w("## Data\n")
    if manifest:
        t = manifest["totals"]
        w(f"Built by `models/recipe/corpus.py` (filters, deduplication and split rules in "
          f"[`models/recipe/CORPUS.md`](../recipe/CORPUS.md); every package and version in "
          f"[`models/recipe/corpus_manifest.json`](../recipe/corpus_manifest.json)): {n(t['packages'])} packages, "
          f"{n(t['files'])} files, {mb(t['bytes'])} after filtering and deduplication "
          f"({n(manifest['dedup']['exact'])} exact and {n(manifest['dedup']['near'])} near duplicates removed).\n")
        w("| split | packages | files | bytes | tokens |")
        w("|---|---|---|---|---|")
        for s in ("train", "valid", "test"):
            sp = manifest["splits"][s]
            tk = n(meta["splits"][s]["tokens"]) if meta else "–"
            w(f"| {s} | {sp['packages']} | {n(sp['files'])} | {mb(sp['bytes'])} | {tk} |")
        w("")
        w("| language | files | bytes |")
        w("|---|---|---|")
        for lang, v in t["by_lang"].items():
            w(f"| {lang} | {n(v['files'])} | {mb(v['bytes'])} |")
        w("")
        lic = collections.Counter()
        lic_bytes = collections.Counter()
        for p in manifest["packages"]:
            lic[p["licence"]] += 1
            lic_bytes[p["licence"]] += p["bytes"]
        w("Licences (packages kept only under these): " + ", ".join(
            f"{k} ({v} packages, {mb(lic_bytes[k])})" for k, v in lic.most_common()) + ".\n")
        w("Splits are by package (no package in two splits); the test split is only used by `npm run eval`.\n")
    else:
        w(pending("corpus"))

    # ---- tokenizer
    w("## Tokenizer\n")
    if meta:
        bpt = {s: meta["splits"][s]["bytes_per_token"] for s in ("train", "valid", "test")}
        w(f"Byte-level BPE (`models/recipe/bpe.py`, GPT-2 byte mapping, a pre-tokenizing regex with explicit "
          f"ASCII classes so Python, JavaScript and Oniguruma split alike), {config.vocab_size} tokens trained on "
          f"the train split: 7 special tokens, 256 byte tokens, {config.vocab_size - 263} merges. "
          f"decode(encode(x)) == x for every string (checked on random Unicode in the unit tests). "
          f"{bpt['train']:.2f} bytes per token on the train split, {bpt['test']:.2f} on test.\n")
        w("| id | token | use |")
        w("|---|---|---|")
        for i, (t, u) in enumerate([("<\\|endoftext\\|>", "end of file / EOS / padding"), ("<\\|fim_prefix\\|>", "FIM"),
                                    ("<\\|fim_middle\\|>", "FIM"), ("<\\|fim_suffix\\|>", "FIM"), ("<\\|fim_pad\\|>", "reserved"),
                                    ("<\\|file_sep\\|>", "repository context: starts each snippet from another file, and the file being completed, with its path"), ("<\\|explain\\|>", "explain task")]):
            w(f"| {i} | `{t}` | {u} |")
        w("")
    else:
        w(pending("data"))

    # ---- architecture
    w("## Architecture\n")
    w("| | |")
    w("|---|---|")
    rows = [("Parameters", n(total)), ("Non-embedding parameters", n(total - emb)),
            ("Type", "Llama (`LlamaForCausalLM`, `model_type: llama`): RMSNorm, RoPE, SwiGLU, grouped-query attention, tied embeddings"),
            ("Layers", config.num_hidden_layers), ("Hidden size", config.hidden_size),
            ("Attention heads (query / key-value)", f"{config.num_attention_heads} / {config.num_key_value_heads}"),
            ("Head size", config.head_dim), ("SwiGLU width", config.intermediate_size),
            ("Vocabulary", config.vocab_size), ("RoPE theta", f"{config.rope_theta:g}"),
            ("max_position_embeddings", f"{config.max_position_embeddings} (trained at 512, then 1,024; positions beyond 1,024 never seen in training)"),
            ("Norm epsilon", config.rms_norm_eps)]
    for k, v in rows:
        w(f"| {k} | {v} |")
    w("")
    w("Why this size: on this machine's 2 cores PyTorch trained the 4.0M-parameter model at about 525 "
      "tokens per CPU-second against 353 for the 6.5M suggestion (hidden 256, 6 layers, 8/4 heads) in "
      "the same 2-minute probe, and onnxruntime-node ran a cold 1,024-token prefill in about half the "
      "time (≈450 vs ≈800 ms on a loaded machine). With a budget of hours of CPU, the compute-optimal "
      "model is small (Chinchilla: about 20 tokens per parameter), so the smaller model sees 1.5× more "
      "tokens for the same time, and its completion latency meets the 400 ms target (cold p50 with "
      "int4: 361 ms on an Intel Xeon, 102 ms on an AMD EPYC, both 2 cores, in `bench/README.md`'s "
      "latest results).\n")

    # ---- training
    total_cpu = 0
    w("## Training\n")
    if steps:
        flops = 6 * total * tokens
        w(f"`models/recipe/pretrain.py` (run `main`): next-token prediction on the train split, packed "
          f"into rows with files separated by `<|endoftext|>`, a new file order every epoch. "
          f"Fill-in-the-middle on {100 * a.get('fim_rate', 0.5):.0f}% of the file pieces in each row "
          f"(context-level FIM, Bavarian et al. 2022): cut at two uniformly random characters, the three "
          f"parts tokenized separately exactly as the engine does, half in PSM order "
          f"`<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>M<|endoftext|>` (the engine's prompt) and half "
          f"SPM `<|fim_prefix|><|fim_suffix|>S<|fim_middle|>PM<|endoftext|>`; the suffix loses its end "
          f"tokens to fit, so every middle is followed by `<|endoftext|>`.\n")
        w("| | |")
        w("|---|---|")
        for k, v in [("Tokens", f"{n(tokens)} ({tokens / meta['splits']['train']['tokens']:.2f} epochs of the train split)" if meta else n(tokens)),
                     ("Training compute", f"{flops:.2e} FLOPs (6 · N · D, N = {n(total)})"),
                     ("Sequence length", f"{a.get('seq_len')} for the first {100 * (1 - a.get('long_frac', 0)):.0f}% of tokens, then {a.get('long_seq_len')}"),
                     ("Batch", f"{n(a.get('tokens_per_step', 0))} tokens per step, {n((done or last).get('step', 0))} steps"),
                     ("Optimizer", f"AdamW (β 0.9 / 0.95, weight decay {a.get('weight_decay')} on matrices), peak LR {a.get('lr')}, "
                                   f"linear warmup {n(a.get('warmup_tokens', 0))} tokens, cosine to {a.get('min_lr_frac')}× peak, gradient clipping {a.get('clip')}"),
                     ("Precision", "fp32 (CPU)"),
                     ("Hardware", "2 CPU cores shared with other work, 1 or 2 PyTorch threads (OpenBLAS; 1 while another training job shared the cores), niced"),
                     ("Wall time", f"{wall / 3600:.2f} h"),
                     ("CPU-hours", f"{cpu / 3600:.2f} (measured process CPU time of the run, all threads, over {wall / 3600:.2f} h of wall time)"),
                     ("Final validation loss", f"{vals[-1]['val_loss']:.3f} nats/token (fixed 65,536-token subset of the valid split)" if vals else "–")]:
            w(f"| {k} | {v} |")
        w("")
        budget = a.get("max_tokens", 0)
        for e in (r for r in log if r.get("event") == "extend"):
            w(f"At {e['tokens'] / 1e6:.2f}M tokens the token budget (the cosine schedule's horizon) changed from "
              f"{budget / 1e6:g}M to {e['max_tokens'] / 1e6:g}M; the learning rate went from "
              f"{lr_at_old({**a, 'max_tokens': budget}, e['tokens']):.2e} to {e['lr_now']:.2e}.")
            budget = e["max_tokens"]
        if any(r.get("event") == "extend" for r in log):
            w("(The first change extended the run while validation loss was still falling steeply; the "
              "later ones fitted it to the CPU time one working session had left, so that the schedule "
              "still ends with its low-learning-rate tail. A change made after the schedule had ended "
              "continues the run: the learning rate rises again to the cosine's value at the new horizon "
              "(a re-warm, as in warmup-stable-decay schedules) and decays to the same floor.)\n")
        runs = [("pre-training (`main`)", cpu)]
        if rtokens:
            runs.append(("repository-level training (`repo`)", (rdone or rlast).get("cpu_s", 0)))
        if scaling:
            runs.append((f"scaling study ({len(scaling['points'])} runs)", sum(p.get("cpu_s", 0) for p in scaling["points"])))
        if lora and "cpu_s" in lora:
            runs.append(("LoRA fine-tune", lora["cpu_s"]))
        total_cpu = sum(c for _, c in runs)
        w(f"Training compute across the runs that made this model and its scaling study, as measured process "
          f"CPU time: " + ", ".join(f"{k} {c / 3600:.2f} h" for k, c in runs) + f"; **{total_cpu / 3600:.2f} CPU-hours in all**"
          + ("." if total_cpu >= 6 * 3600 else " — short of the recipe's 6 CPU-hour target: `pretrain.py --run main --resume "
             "--extend --max-tokens N` continues the run (from its checkpoint, or from the committed weights on a fresh machine).") + "\n")
        if not done:
            w(f"**Training is not finished**: this card shows step {last.get('step')} of the run.\n")
        w("Loss curves (`training_log.json` holds every record: step, tokens, train and validation loss, LR, "
          "sequence length, tokens/s, wall and CPU seconds):\n")
        w("![loss curves](loss_curve.png)\n")
    else:
        w(pending("pretrain"))

    # ---- repository-level training
    if rsteps:
        ra = rstart.get("args", {})
        rv = [r for r in rsteps if "val_loss" in r]
        rr = [r for r in rsteps if "val_repo_loss" in r]
        w("## Repository-level training\n")
        w(f"`models/recipe/pretrain.py --run repo` continued from the pre-trained and explain-tuned weights, to teach "
          f"the model what the extension asks of it: complete a cursor using code from the rest of its file and "
          f"the repository. {100 * ra.get('repo_rate', 0):.0f}% of the rows come from `models/recipe/repo_examples.ts`, "
          f"which lays them out with the extension's own prompt builder (`src/engine/completion/fimPrompt.ts`): for a cursor in a "
          f"file of a package (the rest of a line, one to three lines after Enter, or a random span), its window, "
          f"snippets from the package's other files and from the file outside the window ranked by the extension's "
          f"index (`src/engine/context/`), the file's path after `<|file_sep|>`, the FIM part in SPM order with token "
          f"healing, then the middle and `<|endoftext|>`; each row's tail holds the package's files as one "
          f"`<|file_sep|>path` sequence (StarCoder2's and Qwen2.5-Coder's repository format). The other rows are the "
          f"pre-training stream, so the model keeps what it learned there.\n")
        if repo_data:
            w(f"Rows made: {n(repo_data['rows'])} of {n(repo_data['seq_len'] + 1)} tokens, {n(repo_data['examples'])} completion "
              f"examples ({', '.join(f'{k} {n(v)}' for k, v in repo_data['kinds'].items())}), {repo_data['snippets'] / max(1, repo_data['examples']):.1f} "
              f"snippets per example on average.\n")
        w("| | |")
        w("|---|---|")
        for k, v in [("Tokens", n(rtokens)),
                     ("Sequence length", f"{ra.get('seq_len')}"),
                     ("Optimizer", f"AdamW, peak LR {ra.get('lr')} after {n(ra.get('warmup_tokens', 0))} warmup tokens, cosine to {ra.get('min_lr_frac')}× peak"),
                     ("Wall time", f"{(rdone or rlast).get('wall_s', 0) / 3600:.2f} h"),
                     ("CPU-hours", f"{(rdone or rlast).get('cpu_s', 0) / 3600:.2f}"),
                     ("Validation loss (pre-training stream)", f"{rv[0]['val_loss']:.3f} → {rv[-1]['val_loss']:.3f}" if rv else "–"),
                     ("Validation loss (repository rows of the valid split)", f"{rr[0]['val_repo_loss']:.3f} → **{rr[-1]['val_repo_loss']:.3f}**" if rr else "–")]:
            w(f"| {k} | {v} |")
        w("")
        if not rdone:
            w(f"**This run is not finished**: the card shows step {rlast.get('step')}.\n")

    # ---- LoRA
    w("## Explain fine-tune (LoRA)\n")
    if lora:
        b, af = lora["before"], lora["after"]
        w(f"`models/recipe/lora.py` on pairs from `models/recipe/explain_pairs.py`: every Python function/class "
          f"with a docstring (the docstring removed from the code, its first paragraph the target) and every "
          f"JS/TS declaration under a `/** JSDoc */` block (the JSDoc prose before the first @tag). "
          f"{n(lora['train_pairs'])} training pairs; held-out pairs come from the valid split's packages. "
          f"Format `{{code}}<|explain|>{{summary}}<|endoftext|>`, loss on the summary only.\n")
        w("| | |")
        w("|---|---|")
        for k, v in [("Adapter rank / alpha", f"{lora['rank']} / {lora['alpha']:g}"),
                     ("Adapted projections", ", ".join(lora["targets"]) + " (every layer)"),
                     ("Trainable parameters", f"{n(lora['trainable_params'])} ({100 * lora['trainable_params'] / total:.1f}% of the model)"),
                     ("Steps", f"{lora['steps']} × {lora['batch_size']} pairs, plus {lora['replay_rows']} pre-training rows per step (replay, so completion does not regress)"),
                     ("Held-out explain loss", f"{b['explain_val_loss']:.3f} → **{af['explain_val_loss']:.3f}** nats/token ({lora['val_pairs']} pairs)"),
                     ("Validation LM loss (completion)", f"{b['lm_val_loss']:.3f} → {af['lm_val_loss']:.3f}"),
                     ("Merged", f"B·A·(alpha/r) added into each weight; merged vs adapted logits differ by {lora['merge_max_logit_diff']:.1e}")]:
            w(f"| {k} | {v} |")
        w("")
    else:
        w(pending("lora"))

    # ---- scaling
    w("## Scaling study\n")
    if scaling:
        f = scaling["fit"]
        w(f"`models/recipe/scaling.py`: {len(scaling['points'])} sizes on the same data and the same short budget "
          f"({scaling['points'][0]['tokens'] / 1e6:.1f}M tokens each, sequence 256, same schedule). "
          f"N counts non-embedding parameters; FLOPs = 6 · total parameters · tokens.\n")
        w("| size | non-embedding params | total params | tokens | FLOPs | final validation loss |")
        w("|---|---|---|---|---|---|")
        for p in scaling["points"]:
            w(f"| {p['name']} | {n(p['params'])} | {n(p['total_params'])} | {n(p['tokens'])} | {p['flops']:.2e} | {p['val_loss']:.3f} |")
        w("")
        ft = scaling.get("fit_total_params")
        w(f"Fit (least squares): **L(N) = {f['a']:.4g} · N^(−{f['alpha']:.3f}) + {f['c']:.3f}** "
          f"(RMS error {f['rmse']:.3f} nats)" + (f"; on total parameters: α = {ft['alpha']:.3f}, c = {ft['c']:.3f}" if ft else "") +
          ". With a few points over a narrow range and a short budget, α and c trade off against each other: "
          "read the fit as a description of these runs, not an extrapolation.\n")
        w("![scaling](scaling.png)\n")
    else:
        w(pending("scaling"))

    # ---- quantization
    w("## Quantization\n")
    if quant:
        w("Hand-written ONNX rewrites (`models/recipe/quantize.py`); speed and perplexity through Glassbox's engine "
          "(`npm run eval -- --quant`: prefill of 1,024 tokens, decode on a 256-token cache, perplexity on 64 × 512 "
          "validation tokens).\n")
        w("| variant | file | size | prefill tok/s | prefill 1,024 ms | decode tok/s | validation perplexity | vs fp32 | default |")
        w("|---|---|---|---|---|---|---|---|---|")
        for r in quant["variants"]:
            w(f"| {r['variant']} | `{r['file']}` | {mb(r['bytes'])} | {n(r['prefill_tok_s'])} | {r['prefill_1024_ms']} | "
              f"{n(r['decode_tok_s'])} | {r['val_ppl']:.3f} | {r['ppl_vs_fp32']} | {'**yes**' if r['default'] else ''} |")
        w("")
        w("- int8 (`model_quantized.onnx`): per-output-channel symmetric int8 weights, activations quantized per "
          "tensor at run time (DynamicQuantizeLinear → MatMulInteger → scale), every linear layer and the LM head; "
          "the embedding is the same int8 table with one scale per row.")
        w("- int4 (`model_q4.onnx`): `com.microsoft` MatMulNBits, 4 bits, block size 32, symmetric (zero point 8); "
          "the embedding reads rows of the LM head's packed table. Checked against PyTorch with the same "
          "dequantized weights (logits within 1e-5).\n")
    else:
        w(pending("quantize"))

    # ---- evaluation
    w("## Evaluation\n")
    if ev and evmd and ev.get("format") == "glassbox-eval/2":
        st = ev["settings"]
        w(f"`npm run eval` (`bench/eval.ts`), through Glassbox's engine with `{ev['onnx']}`, on the test split "
          f"(packages never trained on), {ev.get('cpu', 'CPU not recorded')}. Bits per byte and top-1 score every test token once, "
          f"in windows of {n(st['window'])} tokens that slide by {n(st['stride'])}, against an interpolated Kneser–Ney "
          f"4-gram on the train split's tokens.\n")
        w(f"Line completion is measured as the extension completes: {ev['test_split']['line_cases']} cases (seed "
          f"{ev['test_split']['seed']}), half cut at a random point inside a line, half at the start of a line after "
          f"Enter; the workspace is the package's other files in the test split (what an open folder gives the "
          f"extension); the window, snippets and copy sources come from the extension's own code "
          f"(`src/engine/context/`, through the entry point the extension and `glassbox complete` use), with the document "
          f"as the editor holds it (the rest of the cursor's line not typed yet) as the file's text in the index, a "
          f"{n(st['prompt_budget_tokens'])}-token prompt, greedy, the editor's shaping, the first line scored. "
          f"Baselines on the same cases: copying what followed the longest earlier match of the text before the cursor "
          f"(4–40 characters) in the file, then also in the workspace, and the 4-gram. Each completion stage switches on "
          f"one more part of the pipeline, so each part's gain is measured on its own"
          + (f"; the stages run on the model before its repository-level training too (`{ev['before']}`)" if ev.get("before") else "") + ".\n")
        w("**Earlier figures were inflated.** Cards before December 2026 reported the pipeline at edit similarity "
          "0.534 against the copy baseline's 0.486 (1.10×). That evaluation indexed each case's file as its original "
          "text, so a copy source (an excerpt from one line above a match to three below) could hold the target line "
          "as written, and the copy cache copied the answer, which no user's editor holds. The same excerpts in the "
          "product held the cursor's half-typed line, and the cache copied its end (an empty suggestion). Both are "
          "fixed; the figures below are measured on the document as the editor holds it.\n")
        w(evmd)
        lc = ev["line_completion"]
        base = {k: v["all"]["all"]["editSimilarity"] for k, v in lc.items() if ":" not in k}
        best = max(base, key=base.get)
        final = [k for k in lc if k.startswith(f"{ev['model']}:")][-1]
        es = lc[final]["all"]["all"]["editSimilarity"]
        em = lc[final]["all"]["all"]["exactMatch"]
        w(f"The full pipeline reaches edit similarity {es:.3f} against {base[best]:.3f} for the best baseline ({best}): "
          f"{es / base[best]:.2f}×; exact match {100 * em:.1f}%. "
          f"No output of the final stage repeats a token trigram three times ({lc[final]['all']['all']['repeated']} do).\n")
    elif ev and evmd:
        w(f"`npm run eval` (`bench/eval.ts`), through Glassbox's engine with `{ev['onnx']}`, on the test split.\n")
        w(evmd)
    else:
        w(pending("eval"))
    if copy_table:
        w(f"The copy cache's mixing weights (`copy_cache.json`, `bench/fitCopyCache.ts`) were fitted by EM on the valid "
          f"split: {copy_table.get('fitted_on', '')}.\n")

    # ---- files, limitations, rebuild
    w("## Files\n")
    w("| file | |")
    w("|---|---|")
    for f, what in [("config.json", "HF LlamaConfig; `transformers.js_config.dtype` names the default variant"),
                    ("generation_config.json", "EOS / padding ids"),
                    ("tokenizer.json, tokenizer_config.json", "Hugging Face tokenizers format"),
                    ("onnx/model.onnx", "fp32, opset 17, KV cache inputs/outputs, one Softmax per layer (`/model/layers.N/self_attn/Softmax`)"),
                    ("onnx/model_quantized.onnx", "int8"), ("onnx/model_q4.onnx", "int4"),
                    ("golden.json", f"PyTorch reference logits, greedy tokens, attentions (atol {gold['atol'] if gold else '–'})"),
                    ("training_log.json", "pre-training and LoRA records"), ("scaling.json", "scaling points and fit"),
                    ("quantization.json", "the quantization table"), ("copy_cache.json", "the copy cache's mixing weights (fitted on the valid split)"),
                    ("eval.json, eval.md", "the evaluation"),
                    ("glassbox-code-q8_0.gguf", "the same weights for llama.cpp, Ollama and LM Studio (Q8_0; see below)")]:
        if os.path.exists(os.path.join(d, f.split(",")[0])):
            w(f"| `{f}` | {what} |")
    w("")
    if os.path.exists(os.path.join(d, "glassbox-code-q8_0.gguf")):
        w("The GGUF is written by `models/recipe/gguf_writer.py` from `onnx/model.onnx` (ggml's Q8_0 quantizer; "
          "norms in F32; the LM head tied to `token_embd`). Run it with llama.cpp "
          "(`llama-cli -m glassbox-code-q8_0.gguf`) or import it into Ollama with a Modelfile "
          "(`FROM ./glassbox-code-q8_0.gguf`; not tried here). llama.cpp tokenizes text with its own pre-tokenizer, not this "
          "model's: feed it token ids where exact tokens matter. The F32 file the same script writes decodes, in "
          "llama.cpp, the greedy tokens Glassbox decodes from `onnx/model.onnx` (`test/unit/gguf.test.ts`); the "
          "Q8_0 file (8-bit weights, and llama.cpp's 8-bit activations) agreed with them on 65 of 96 greedy steps "
          "there. The `.vsix` leaves it out.\n")
    w("## Limitations\n")
    w("- Very small and briefly trained: completions are short-range pattern continuations; it does not "
      "reason, and knows only the APIs that were common in its corpus.")
    w("- Python, TypeScript and JavaScript only (other languages are tokenized byte-wise and completed poorly).")
    w("- Trained on sequences of at most 1,024 tokens: the graph accepts 2,048 positions, but quality beyond "
      "1,024 is untested.")
    w("- Explanations are one-paragraph docstring-style summaries learned from docstrings/JSDoc; they are "
      "often generic and can be confidently wrong.")
    w("- The corpus is permissively licensed open-source code; the model can reproduce fragments of it.")
    w("- The copy cache copies what followed a matching context elsewhere in the workspace. It is right most of the "
      "time (Evaluation), but a matching context is not a matching meaning: after `return ` in a new function it can "
      "propose the body of a function with the same signature. The confidence gate hides a suggestion whose least "
      "likely token is below the threshold, which removes many such copies, not all.\n")
    w("## Rebuild\n")
    w("```\nmodels/recipe/build_all.sh            # corpus, data, pretrain, explain, lora, export, quantize, scaling, eval, card\n"
      "models/recipe/build_all.sh STAGE...   # one or more stages\n```\n")
    w("See `models/recipe/README.md` for each stage's inputs and outputs.\n")

    if tlog:
        plot_losses(tlog, os.path.join(d, "loss_curve.png"))
    if scaling:
        plot_scaling(scaling, os.path.join(d, "scaling.png"))
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("\n".join(out))
    print(f"wrote {os.path.join(d, 'README.md')}")


if __name__ == "__main__":
    main()
