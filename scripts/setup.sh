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

# The panel's browser test drives Debian's Chromium through Playwright (never a browser
# download: Playwright is pointed at /usr/bin/chromium). apt-get needs root, as in CI.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: /usr/bin/chromium is missing; the browser test will be skipped" \
             "(install it with: sudo apt-get install chromium)" >&2
    fi
fi
