# factcheck service image: CPU-only, models baked in, non-root, store on a volume.
# Its install steps are scripts/install_image.sh; scripts/check_image_steps.sh runs the same
# script in a fresh virtual environment and starts the service from it (see README).

# -- build: a virtual environment with CPU torch, the project and the embedding model ---------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service/ service/
COPY scripts/install_image.sh scripts/
RUN sh scripts/install_image.sh /opt/venv

# -- runtime: the environment, the stance model, nothing else -------------------------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 factcheck \
    && useradd --system --uid 10001 --gid factcheck --home-dir /nonexistent --no-create-home factcheck \
    && mkdir -p /data && chown factcheck:factcheck /data
COPY --from=build /opt/venv /opt/venv
COPY models/factcheck-nli-minilm-l6-v2/ /app/models/factcheck-nli-minilm-l6-v2/
COPY models/verdict-model.json /app/models/verdict-model.json
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/hf \
    TORCH_HOME=/tmp/torch \
    XDG_CACHE_HOME=/tmp/cache \
    TQDM_DISABLE=1 \
    FACTCHECK_HOST=0.0.0.0 \
    FACTCHECK_PORT=8000 \
    FACTCHECK_STORE=/data/factcheck.db \
    FACTCHECK_STANCE_MODEL=/app/models/factcheck-nli-minilm-l6-v2 \
    FACTCHECK_VERDICT_MODEL=/app/models/verdict-model.json \
    FACTCHECK_ONNX_CACHE=/app/onnx
# Export both models for ONNX Runtime now, not at every pod start (~40 s on 2 cores). The
# files are keyed by the model files' names, sizes and times, which the image fixes; a
# deployment that names other models must point FACTCHECK_ONNX_CACHE at a writable path.
RUN factcheck prepare
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
# Start-up loads both models (about 10 s, the ONNX files are baked in); readiness is 503 until then.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)"]
CMD ["factcheck", "serve"]
