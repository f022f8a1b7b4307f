"""Mixed load on a live service: concurrent clients ingesting (with Idempotency-Key) and checking.

    python bench/load.py [--duration 60] [--clients 32] [--mix check=6,ingest=3,replay=1]

The service is a live uvicorn on 127.0.0.1 (a child process, default settings, both
models loaded), on a fresh SQLite store with the demo corpus loaded at
start and an empty ONNX cache, so it starts as a fresh pod does (exporting its ONNX models).
``--clients`` asyncio clients share one httpx connection pool of that size; each sends
one request at a time until ``--duration`` has passed, drawing its operation by the mix
weights:

* check: ``POST /v1/check`` (top_k 5) of a Climate-FEVER dev claim or a demo claim;
* ingest: ``POST /v1/documents`` of a new small document (three Climate-FEVER evidence
  sentences under a fresh id) with a fresh ``Idempotency-Key``; it must come back
  ``created``;
* replay: an acknowledged ingest sent again with its key and body; it must answer the
  first response again, status and body, and write nothing.

Any non-2xx answer, transport error, or answer that breaks those rules is an error and is
printed. Afterwards: the corpus size before and after, every acknowledged document fetched
back, and the server's resident memory (``VmHWM``: the peak, at ready and at the end;
``VmRSS`` at the end), which sizes the Kubernetes requests and limits.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from common import eval_records, live_server, machine, percentile, rss_mb, statements, table

from service.corpus import demo_documents
from service.idempotency import HEADER
from service.settings import Settings
from service.split import split_document

OPERATIONS = ("check", "ingest", "replay")


@dataclass
class Run:
    """What the clients share: the inputs, and what they measured."""

    sentences: list[str]
    statements: list[str]
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    # Acknowledged ingests: (key, body, first response), replayed by "replay".
    acknowledged: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    ids: int = 0

    def new_document(self, rng: random.Random) -> dict[str, Any]:
        self.ids += 1
        return {
            "id": f"load-{self.ids}",
            "title": f"Load test document {self.ids}",
            "source": "load-test",
            "text": " ".join(rng.sample(self.sentences, 3)),
        }


async def send(
    http: httpx.AsyncClient, op: str, run: Run, rng: random.Random
) -> tuple[httpx.Response, str | None]:
    """One request of kind ``op``; the response and what is wrong with it (None: nothing)."""
    if op == "check":
        body = {"statement": rng.choice(run.statements), "top_k": 5}
        return await http.post("/v1/check", json=body), None
    if op == "ingest":
        key, doc = str(uuid.uuid4()), run.new_document(rng)
        response = await http.post("/v1/documents", json=doc, headers={HEADER: key})
        if response.is_success:
            answer = response.json()
            if [d["status"] for d in answer["documents"]] != ["created"]:
                return response, f"ingest of a new document answered {answer}"
            run.acknowledged.append((key, doc, answer))
        return response, None
    key, doc, first = rng.choice(run.acknowledged)
    response = await http.post("/v1/documents", json=doc, headers={HEADER: key})
    if response.is_success and (response.status_code != 201 or response.json() != first):
        return response, f"replay of {key} answered {response.status_code} {response.text[:200]}"
    return response, None


async def client(
    http: httpx.AsyncClient, run: Run, rng: random.Random, weights: list[int], deadline: float
) -> None:
    while time.perf_counter() < deadline:
        op = rng.choices(OPERATIONS, weights)[0]
        if op == "replay" and not run.acknowledged:
            op = "ingest"
        start = time.perf_counter()
        try:
            response, wrong = await send(http, op, run, rng)
        except httpx.HTTPError as exc:
            run.errors.append(f"{op}: {type(exc).__name__}: {exc}")
            continue
        run.latencies[op].append(time.perf_counter() - start)
        if not response.is_success:
            wrong = f"{response.status_code} {response.text[:200]}"
        if wrong:
            run.errors.append(f"{op}: {wrong}")


async def corpus_size(http: httpx.AsyncClient) -> int:
    response = await http.get("/v1/documents", params={"limit": 1})
    response.raise_for_status()
    return int(response.json()["total"])


async def present(http: httpx.AsyncClient, ids: list[str], concurrency: int) -> int:
    """How many of ``ids`` the service returns, with their claims."""
    gate = asyncio.Semaphore(concurrency)

    async def fetch(doc_id: str) -> bool:
        async with gate:
            response = await http.get(f"/v1/documents/{doc_id}")
        return response.status_code == 200 and bool(response.json()["claims"])

    return sum(await asyncio.gather(*(fetch(i) for i in ids)))


async def load(base: str, args: argparse.Namespace, run: Run) -> tuple[int, int, int, float]:
    weights = [int(dict(p.split("=") for p in args.mix.split(","))[op]) for op in OPERATIONS]
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        before = await corpus_size(http)
        start = time.perf_counter()
        await asyncio.gather(
            *(
                client(http, run, random.Random(args.seed + n), weights, start + args.duration)
                for n in range(args.clients)
            )
        )
        elapsed = time.perf_counter() - start
        after = await corpus_size(http)
        ids = sorted({doc["id"] for _, doc, _ in run.acknowledged})
        found = await present(http, ids, args.clients)
    return before, after, found, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--clients", type=int, default=32, help="concurrent clients")
    ap.add_argument("--mix", default="check=6,ingest=3,replay=1", help="operation weights")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()

    demo = demo_documents(Settings().demo_path)
    demo_claims = [c.text for d in demo for c in split_document(d.text, title=d.title).claims]
    sentences = sorted(
        {e["evidence"] for r in eval_records() for e in r["evidences"]}  # type: ignore[attr-defined]
    )
    run = Run(sentences=sentences, statements=statements(200) + demo_claims)
    print(f"machine before: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        env = {
            "FACTCHECK_STORE": f"{tmp}/load.db",
            "FACTCHECK_ONNX_CACHE": f"{tmp}/onnx",
            "FACTCHECK_LOAD_DEMO": "true",
        }
        with live_server(env) as (base, pid):
            peak_at_ready = rss_mb(pid, peak=True)
            print(f"server ready (pid {pid}), VmHWM {peak_at_ready:.0f} MiB")
            before, after, found, elapsed = asyncio.run(load(base, args, run))
            peak, resident = rss_mb(pid, peak=True), rss_mb(pid)
    print(f"machine after: {machine()}")
    print(f"\n{args.clients} clients, {elapsed:.1f} s, mix {args.mix}\n")
    rows = []
    for op in OPERATIONS:
        times = run.latencies[op]
        rows.append(
            [
                op,
                len(times),
                1000 * percentile(times, 50),
                1000 * percentile(times, 99),
                len(times) / elapsed,
            ]
        )
    total = sum(len(t) for t in run.latencies.values())
    print(table(["operation", "requests", "p50 ms", "p99 ms", "requests/s"], rows))
    print(f"\nrequests: {total}, throughput {total / elapsed:.2f} requests/s")
    print(f"errors: {len(run.errors)}")
    for error in run.errors[:20]:
        print(f"  {error}")
    acknowledged = len({doc["id"] for _, doc, _ in run.acknowledged})
    print(f"corpus documents: before {before}, after {after} (+{after - before})")
    print(f"acknowledged documents: {acknowledged}, present afterwards: {found}")
    print(
        f"server memory: VmHWM {peak_at_ready:.0f} MiB at ready, {peak:.0f} MiB at the end; "
        f"VmRSS {resident:.0f} MiB at the end"
    )
    if run.errors or found != acknowledged or after - before != acknowledged:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
