#!/usr/bin/env bash
# Set up a fresh machine: a Python 3.11 virtual environment with the project and its
# test tools. Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# torch is pinned in pyproject (a CPU wheel of 2.13.0 is what this project is tested with).
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
