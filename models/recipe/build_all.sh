#!/usr/bin/env bash
# Rebuild Glassbox's code model from scratch: corpus -> tokenizer and tokens -> pre-training ->
# explain pairs and LoRA -> export and goldens -> quantization -> scaling study -> evaluation ->
# model card. Hours on 2 CPU cores (pre-training alone: about 12M tokens at 500-1,000 tokens/s).
#
#   models/recipe/build_all.sh                 every stage, in order
#   models/recipe/build_all.sh STAGE...        only those stages (each one's inputs must exist)
#
# Stages: corpus data pretrain repo explain lora export quantize scaling fit eval card
#   repo   repository-level rows (repo_examples.ts) and the continued run `repo` on them
#   fit    the copy cache's mixing weights (bench/fitCopyCache.ts -> copy_cache.json)
# Every stage is resumable or idempotent: pretrain and scaling continue their checkpoints
# (models/recipe/runs/, git-ignored); rerunning `pretrain` after it finished does nothing.
# Run it niced on a shared machine; PYTHON overrides the interpreter (Debian's, with torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-/usr/bin/python3}"
NICE="nice -n ${NICE_LEVEL:-19}"
R=models/recipe
RUN=runs/repo
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(corpus data pretrain repo explain lora export quantize scaling fit eval card)

for stage in "${STAGES[@]}"; do
  echo "== $stage" >&2
  case "$stage" in
    corpus)   $NICE $PY $R/corpus.py ;;
    data)     $NICE $PY $R/prepare_data.py ;;
    pretrain) $NICE $PY $R/pretrain.py --run main --resume ;;
    repo)     npx tsc -p . && mkdir -p $R/data/repo
              $NICE node out/models/recipe/repo_examples.js --split valid --rows 48 --seed 7
              $NICE node out/models/recipe/repo_examples.js --split train --rows 14000 --seed 1
              # the shipped model was made from main's weights with the explain fine-tune merged in;
              # a rebuild from nothing starts from main's final weights
              init=$R/runs/main/final.pt; [ -f "$init" ] || init=models/glassbox-code
              $NICE $PY $R/pretrain.py --run repo --resume --init-from "$init" --seq-len 1024 --long-frac 0 \
                --repo-rate 0.7 --max-tokens 6e6 --lr 6e-4 --warmup-tokens 2e5 ;;
    explain)  $NICE $PY $R/explain_pairs.py ;;
    lora)     $NICE $PY $R/lora.py --base $R/$RUN/final.pt --base-run $R/$RUN ;;
    export)   $NICE $PY $R/export_model.py --weights $R/runs/lora/merged.pt --run-dir $R/$RUN \
                --lora-log $R/runs/lora/log.jsonl --prior-log models/glassbox-code/training_log.json ;;
    quantize) $NICE $PY $R/quantize.py
              npm run --silent eval -- --quant ;;
    scaling)  $NICE $PY $R/scaling.py ;;
    fit)      npx tsc -p . && $NICE node out/bench/fitCopyCache.js --cases 1000 ;;
    eval)     npm run --silent eval ;;
    card)     $NICE $PY $R/model_card.py ;;
    *) echo "unknown stage: $stage" >&2; exit 2 ;;
  esac
done
