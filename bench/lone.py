"""A lone check on the demo corpus against the same model calls made directly, in one run.

    python bench/lone.py [--statements 80] [--top-k 5] [--modes auto,off]

Service: a live uvicorn per mode (``FACTCHECK_RUNTIME_TABLE`` = ``auto``: the measured
runtime table, ``off``: every call on the fixed ``*_backend`` / ``intra_op_threads``
settings, the behaviour before the table), the demo corpus loaded into a fresh store,
the statement cache off (each statement is sent once per mode anyway). One client,
``POST /v1/check`` with ``top_k``, sequential.

Direct: in this process, with sentence-transformers in fp32 and torch's default threads,
``SentenceTransformer.encode([statement])`` + ``CrossEncoder.predict`` on the
(passage, statement) pairs the service judged for that statement. Each statement's
direct calls are timed right after its service call, so both see the same machine.

Statements: the demo articles' own sentences (distinct, so each retrieves its article).
Prints p50 and p99 of each, and p50 / direct p50 (target ≤ 1.3) and p99 / p50 (≤ 2).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
from common import live_server, machine, percentile, table

from service.corpus import demo_documents
from service.embed import resolve_model
from service.settings import DEFAULT_EMBEDDING_MODEL, Settings
from service.split import sentences


def demo_statements(limit: int) -> list[str]:
    """Distinct sentences of the demo articles, 30-200 characters long."""
    found: dict[str, None] = {}
    for doc in demo_documents(Settings().demo_path):
        for span in sentences(doc.text):
            if 30 <= len(span.text) <= 200:
                found[span.text] = None
    return list(found)[:limit]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--statements", type=int, default=80)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--modes", default="auto,off", help="FACTCHECK_RUNTIME_TABLE values")
    args = ap.parse_args()
    import torch
    from sentence_transformers import CrossEncoder, SentenceTransformer

    print(f"machine: {machine()}")
    texts = demo_statements(args.statements)
    settings = Settings.from_env()
    encoder = SentenceTransformer(resolve_model(DEFAULT_EMBEDDING_MODEL), device="cpu")
    # fp32 compute: the shipped weights are stored in fp16, which CPUs multiply slowly
    judge = CrossEncoder(
        settings.stance_model,
        device="cpu",
        max_length=256,
        model_kwargs={"dtype": torch.float32},
    )
    rows = []
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                "FACTCHECK_STORE": str(Path(tmp) / "demo.db"),
                "FACTCHECK_LOAD_DEMO": "true",
                "FACTCHECK_QUERY_CACHE_SIZE": "0",
                "FACTCHECK_RUNTIME_TABLE": mode,
            }
            service, direct = [], []
            with live_server(env) as (base, _), httpx.Client(base_url=base, timeout=60) as http:
                for text in texts[:5]:  # warm-up, not measured
                    http.post("/v1/check", json={"statement": text, "top_k": args.top_k})
                for text in texts:
                    t0 = time.perf_counter()
                    r = http.post("/v1/check", json={"statement": text, "top_k": args.top_k})
                    service.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                    pairs = [(e["text"], text) for e in r.json()["evidence"] if e["probabilities"]]
                    t0 = time.perf_counter()
                    encoder.encode([text], normalize_embeddings=True, convert_to_numpy=True)
                    if pairs:
                        judge.predict(pairs, batch_size=32, show_progress_bar=False)
                    direct.append((time.perf_counter() - t0) * 1000)
        p50, p99, d50 = percentile(service, 50), percentile(service, 99), percentile(direct, 50)
        rows.append([mode, len(texts), p50, p99, d50, p50 / d50, p99 / p50])
        print(f"  {mode}: p50 {p50:.1f} ms, direct {d50:.1f} ms ({machine()})", flush=True)
    print(f"\nmachine after: {machine()}\n")
    print(
        table(
            [
                "runtime table",
                "checks",
                "service p50 ms",
                "p99 ms",
                "direct p50 ms",
                "p50 / direct",
                "p99 / p50",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
