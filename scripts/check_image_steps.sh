#!/usr/bin/env bash
# Prove the Dockerfile without a Docker engine: run its install script in a fresh virtual
# environment, then start the service from that environment with the image's ENV lines
# (read from the Dockerfile) and wait until the image's HEALTHCHECK command passes.
#   bash scripts/check_image_steps.sh [WORKDIR]
# Overrides for this machine: the service listens on loopback, the store goes to WORKDIR,
# and TORCH_INDEX may name a reachable index holding the CPU wheel (default: PyTorch's).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
PY=${PYTHON:-python3.11}

sh scripts/install_image.sh "$WORK/venv"

# The image's environment, from the Dockerfile's ENV instructions.
mapfile -t IMAGE_ENV < <("$PY" - <<'PY'
import re, shlex
text = re.sub(r"\\\n", " ", open("Dockerfile").read())
for line in text.splitlines():
    if line.startswith("ENV "):
        for pair in shlex.split(line[4:]):
            print(pair)
PY
)
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STANCE=${FACTCHECK_STANCE_MODEL:-$PWD/models/factcheck-nli-minilm-l6-v2}
HEALTHCHECK=$(grep -A1 '^HEALTHCHECK' Dockerfile | tail -1 | sed -e 's/.*"-c", "//' -e 's/"\]$//')
HEALTHCHECK=${HEALTHCHECK//8000/$PORT}

cd "$WORK"  # run from outside the checkout: only the installed package is importable
IN_IMAGE=(env -i HOME="$WORK" "${IMAGE_ENV[@]}"
    PATH="$WORK/venv/bin:/usr/bin:/bin"
    FACTCHECK_HOST=127.0.0.1 FACTCHECK_PORT="$PORT" FACTCHECK_ONNX_CACHE="$WORK/onnx"
    FACTCHECK_STORE="$WORK/data/factcheck.db" FACTCHECK_STANCE_MODEL="$STANCE")
"${IN_IMAGE[@]}" "$WORK/venv/bin/factcheck" prepare  # the image's `RUN factcheck prepare`
# From here on the ONNX files are read-only, as in the image: start-up must not re-export.
chmod -R a-w "$WORK/onnx"
"${IN_IMAGE[@]}" "$WORK/venv/bin/factcheck" serve > "$WORK/serve.log" 2>&1 &
SERVER=$!  # env execs factcheck: this is the server's own pid
trap 'kill $SERVER 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
    if "$WORK/venv/bin/python" -c "$HEALTHCHECK" 2>/dev/null; then
        echo "image steps OK: HEALTHCHECK passed on port $PORT"
        kill -TERM $SERVER
        wait $SERVER || true
        exit 0
    fi
    kill -0 $SERVER 2>/dev/null || break
    sleep 1
done
echo "image steps FAILED; server log:" >&2
tail -50 "$WORK/serve.log" >&2
exit 1
