#!/usr/bin/env bash
# Source/augmentation ablation: same seed, same fixed step budget, same recipe; only the mix changes.
#   bash training/run_ablations.sh [OUT_DIR] [STEPS] [ROW ...]
# Rows: rte, rte_sick, rte_sick_cf, all_aug, all_aug_contra_only (v1's mixes), and v2's:
# pool, pool_old (pool + rte,sick,cf), pool_old_hard (+ hard negatives: the v2 recipe),
# pool_old_hard_aug (+ v1's rule augmentation too). Default: the v2 rows.
# Each row writes OUT_DIR/ablation_<row>.json (held-out test metrics, fp32) and a log;
# `python -m training.summarize_ablations OUT_DIR` prints the table.
set -euo pipefail
OUT=${1:-/tmp/factcheck-ablations}
STEPS=${2:-100}
shift $(($# > 2 ? 2 : $#))
ROWS=("$@")
[ ${#ROWS[@]} -eq 0 ] && ROWS=(pool pool_old pool_old_hard)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE
PY=${PYTHON:-.venv/bin/python}
declare -A SOURCES=([rte]=rte [rte_sick]=rte,sick [rte_sick_cf]=rte,sick,cf [all_aug]=rte,sick,cf
                    [all_aug_contra_only]=rte,sick,cf [pool]=pool [pool_old]=pool,rte,sick,cf
                    [pool_old_hard]=pool,rte,sick,cf [pool_old_hard_aug]=pool,rte,sick,cf)
declare -A AUG=([rte]=none [rte_sick]=none [rte_sick_cf]=none
                [all_aug]=contradiction,entailment,neutral [all_aug_contra_only]=contradiction
                [pool]=none [pool_old]=none [pool_old_hard]=hard
                [pool_old_hard_aug]=contradiction,entailment,neutral,hard)
for row in "${ROWS[@]}"; do
  echo "== ablation $row: sources=${SOURCES[$row]} aug=${AUG[$row]} steps=$STEPS"
  "$PY" -m training.train_stance --out "$OUT" --ablation "$row" --sources "${SOURCES[$row]}" \
    --aug "${AUG[$row]}" --max-steps "$STEPS" --eval-steps 0 --log-steps 25 ${EXTRA:-}
done
