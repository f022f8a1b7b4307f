"""Batch scoring throughput: N statements against the demo corpus, four ways.

1. in process: ``Engine.check_many`` on chunks of ``--batch-size`` (the reference rate),
2. sequential ``POST /v1/check``, one statement at a time,
3. ``POST /v1/check/batch`` with ``--batch-size`` statements per request,
4. ``POST /v1/check/stream``, all N statements in one NDJSON request,

each against a live ``factcheck serve`` (uvicorn, its own process) on 127.0.0.1. Prints
statements/s for each and the ratio to the in-process rate of the same run, then where
the in-process time goes (embedding, retrieval, stance model) and a cProfile summary.

    PYTHONPATH=. python bench/batch.py --n 256 --top-k 5
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from service.client import FactCheckClient, Retry
from service.corpus import demo_documents
from service.engine import Engine
from service.schemas import CheckRequest, CheckResponse
from service.settings import PROJECT_ROOT, Settings

VARIANTS = ("{}", "It is not true that {}", "Reports say {}", "{} in 2019")


def statements(engine: Engine, n: int) -> list[str]:
    """N statements made from the corpus's own claims (some negated or re-dated)."""
    claims = [
        c.text[:300]
        for doc in engine.store.list_documents(limit=500, offset=0)[0]
        for c in engine.store.claims_of(doc.id)
        if len(c.text.split()) >= 5
    ]
    return [VARIANTS[(i // len(claims)) % 4].format(claims[i % len(claims)]) for i in range(n)]


def timed(label: str, n: int, run: Callable[[], Any]) -> tuple[str, float, float]:
    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0
    print(f"  {label}: {n} in {seconds:.1f} s", file=sys.stderr, flush=True)
    return label, seconds, n / seconds


def where_time_goes(engine: Engine, texts: list[str], top_k: int) -> None:
    """Shares of one in-process batch, from its own timings and from cProfile."""
    reqs = [CheckRequest(statement=s, top_k=top_k) for s in texts]
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    results = profile.runcall(engine.check_many, reqs)
    total = (time.perf_counter() - t0) * 1000
    ok = [r for r in results if isinstance(r, CheckResponse)]
    embed, judge = ok[0].timings.embed_ms, ok[0].timings.judge_ms
    retrieve = sum(r.timings.retrieve_ms for r in ok)
    # off-topic passages are not judged (service/check.py)
    pairs = sum(1 for r in ok for e in r.evidence if e.probabilities is not None)
    shown = sum(len(r.evidence) for r in ok)
    print(
        f"\nOne in-process batch of {len(reqs)} statements ({shown} passages, {pairs} judged), "
        f"{total:.0f} ms:"
    )
    for name, ms in (("embed (1 call)", embed), ("retrieve", retrieve), ("stance (1 call)", judge)):
        print(f"  {name:16} {ms:8.0f} ms  {ms / total:6.1%}")
    rest = total - embed - retrieve - judge
    print(f"  {'other':16} {rest:8.0f} ms  {rest / total:6.1%}")
    print(f"  stance model: {pairs / judge * 1000:.0f} pairs/s")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(8)
    print("\ncProfile, top 8 by own time:")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(store: str, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "service.cli", "serve", "--store", store, "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="statements")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="statements per batch")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="factcheck-bench-")
    # The server sees every statement three times: without the statement-embedding cache,
    # every way embeds every statement, as the in-process reference does.
    os.environ["FACTCHECK_QUERY_CACHE_SIZE"] = "0"
    settings = Settings.from_env(store=str(Path(tmp) / "bench.db"))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    engine = Engine.open(settings)
    engine.ingest(demo_documents(settings.demo_path))
    texts = statements(engine, args.n)
    chunks = [texts[i : i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    reqs = [[CheckRequest(statement=s, top_k=args.top_k) for s in chunk] for chunk in chunks]
    # Warm-up with one full batch: torch (oneDNN) builds its kernels per thread count and shape.
    engine.check_many(reqs[0])
    rows = [timed("in process, check_many", args.n, lambda: [engine.check_many(c) for c in reqs])]
    where_time_goes(engine, chunks[0], args.top_k)
    engine.close()

    port = free_port()
    server = serve(settings.store, port)
    url = f"http://127.0.0.1:{port}"
    try:
        with FactCheckClient(url, timeout=600, retry=Retry(attempts=1)) as fc:
            fc.check_batch(texts[: args.batch_size])  # warm-up, as in process
            rows.append(
                timed(
                    "HTTP sequential /v1/check",
                    args.n,
                    lambda: [fc.check(s, top_k=args.top_k) for s in texts],
                )
            )
            batch_items = [[{"statement": s, "top_k": args.top_k} for s in c] for c in chunks]
            rows.append(
                timed(
                    f"HTTP /v1/check/batch ({args.batch_size} per request)",
                    args.n,
                    lambda: [fc.check_batch(items) for items in batch_items],
                )
            )
            stream_items = [item for items in batch_items for item in items]
            rows.append(
                timed("HTTP /v1/check/stream", args.n, lambda: list(fc.check_stream(stream_items)))
            )
    finally:
        server.terminate()
        server.wait(timeout=60)

    reference = rows[0][2]
    print(f"\n{args.n} statements, top_k {args.top_k}, demo corpus; load average at end: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")  # fmt: skip
    print("| way | seconds | statements/s | × in process |")
    print("| --- | ---: | ---: | ---: |")
    for label, seconds, rate in rows:
        print(f"| {label} | {seconds:.1f} | {rate:.2f} | {rate / reference:.2f} |")


if __name__ == "__main__":
    main()
