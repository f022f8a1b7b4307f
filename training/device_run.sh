#!/usr/bin/env bash
# Continue the shipped stance model on the lent GPU machine: several passes over the same
# mix (pool, RTE, SICK, climate-fever train, the generated hard pairs), the first lever in
# the model card that a 2-core CPU cannot afford (one pass is ~2 hours there). Stage first
# (training/device_stage.sh), then, from the device tool:
#
#   run(command="bash training/device_run.sh", carry=[".device"], timeout_s=600)
#
# EPOCHS, LR and BATCH override the defaults (SEED too, staged with the same SEED: the hard
# pairs are cached per seed). The checkpoint is chosen on the dev sets
# as on the CPU; the held-out sets and the hard slice are scored at the end. What comes
# back in $OUT: the log, metrics.json / metrics.md and the float16 weights cut into 15 MB
# parts (the tool returns files of at most 16 MiB): rejoin them here with
#   cat model.safetensors.part-* > DIR/model.safetensors
# and copy the configs and tokenizer from models/factcheck-nli-minilm-l6-v2 beside it.
# Checked on the CPU on a tiny slice: DEVICE=cpu MAX_STEPS=4 OUT=/tmp/o bash training/device_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?the device tool sets OUT}
if [ -d .device/whl ] && [ "${DEVICE:-cuda}" = cuda ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .device/whl/*.whl
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    FACTCHECK_DATA=$PWD/.device/data FACTCHECK_HARD_CACHE=$PWD/.device/hard
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -m training.train_stance --out /tmp/run --init models/factcheck-nli-minilm-l6-v2 \
    --device "${DEVICE:-cuda}" $([ "${DEVICE:-cuda}" = cuda ] && echo --bf16) \
    --aug hard --repeat rte:2,cf:2,hard:antonym:3 --seed "${SEED:-13}" \
    --epochs "${EPOCHS:-6}" --max-steps "${MAX_STEPS:--1}" --batch-size "${BATCH:-128}" \
    --lr "${LR:-4e-5}" --warmup-ratio 0.05 --eval-steps "${EVAL_STEPS:-250}" \
    --threads "$(nproc)" 2>&1 | tee "$OUT/train.out"
cp /tmp/run/metrics.json /tmp/run/metrics.md /tmp/run/train_log.txt "$OUT/"
split -b 15M /tmp/run/model.safetensors "$OUT/model.safetensors.part-"
ls -la "$OUT"
