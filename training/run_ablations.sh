#!/usr/bin/env bash
# Source/augmentation ablation: same seed, same fixed step budget, same recipe; only the mix changes.
#   bash training/run_ablations.sh [OUT_DIR] [STEPS]
# Each row writes OUT_DIR/ablation_<name>.json (held-out test metrics, fp32) and a log.
set -euo pipefail
OUT=${1:-/tmp/factcheck-ablations}
STEPS=${2:-100}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE
PY=${PYTHON:-.venv/bin/python}
run() {  # name sources aug
  echo "== ablation $1: sources=$2 aug=$3 steps=$STEPS"
  "$PY" -m training.train_stance --out "$OUT" --ablation "$1" --sources "$2" --aug "$3" \
    --max-steps "$STEPS" --eval-steps 0 --log-steps 25
}
run rte rte none
run rte_sick rte,sick none
run rte_sick_cf rte,sick,cf none
run all_aug rte,sick,cf contradiction,entailment,neutral
# run all_aug_contra_only rte,sick,cf contradiction  # (not run: time budget)
