#!/usr/bin/env bash
# Stage here what training/device_run.sh needs and the GPU machine lacks, in .device/
# (git-ignored; it travels with `carry`): the training and evaluation data (../shared does
# not travel), the generated hard pairs (that machine has no spaCy) and the wheels of the
# Python packages missing there (datasets, its dill and multiprocess, and the
# sentence-transformers version this project trains with). About 14 MB; with the tree
# (48 MB) under the device tool's 64 MiB.
#
#   bash training/device_stage.sh            # once, here (a few minutes: spaCy parses)
#   run(command="bash training/device_run.sh", carry=[".device"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${FACTCHECK_DATA:-../shared/data}
SEED=${SEED:-13}
D=.device
rm -rf "$D"
mkdir -p "$D/data/nli/pool" "$D/data/nli/dev" "$D/data/eval" "$D/whl" "$D/hard"
cp "$DATA/nli/pool/train.jsonl.gz" "$D/data/nli/pool/"
cp "$DATA"/nli/dev/*.jsonl "$D/data/nli/dev/"
cp "$DATA/nli/SICK.txt" "$DATA"/nli/rte-*.tsv "$D/data/nli/"
cp "$DATA"/eval/climate-fever-*.jsonl "$D/data/eval/"
for split in train test; do
    FACTCHECK_HARD_CACHE="$D/hard" HF_HUB_OFFLINE=1 python -c \
        "from training.hard_negatives import pairs_for; print(len(pairs_for(12000, $SEED, '$split')), 'hard pairs ($split)')"
done
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$D/whl" \
    datasets==5.2.0 dill==0.4.0 multiprocess==0.70.18 sentence-transformers==6.2.0
du -sh "$D"
