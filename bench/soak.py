"""Soak: mixed and hostile traffic on a live service killed -9 and restarted at random.

    python bench/soak.py [--duration 600] [--clients 8] [--kills 3] [--fuzz-examples 10]

A real ``factcheck serve`` (tests/live.py) on a fresh SQLite store with the demo corpus,
``--corpus`` documents of Climate-FEVER evidence (the statements' topics) and API keys
on, then, for ``--duration`` seconds, ``--clients`` asyncio clients each sending
one request at a time, drawn from:

* check: ``POST /v1/check`` of a Climate-FEVER claim;
* batch: ``POST /v1/check/batch`` of 5-20 claims;
* stream: ``POST /v1/check/stream`` of 5-20 claims, read to its end;
* abandon: a stream of 50 claims, hung up after its first result line (a raw socket);
* ingest: a new document with an ``Idempotency-Key``, retried with the same key (and
  body) after a transport error or a 503 until it is acknowledged (201);
* hostile: a body nested 5,000 deep, one not UTF-8, a ``text/plain`` ingest, a
  ``javascript:`` url, ``"top_k": "5"``, a NUL in a panel path: each must be a clean 4xx;
* slow: a client dripping its request head, which the server must close.

Beside them an editor (``--editor-every`` seconds) sends one ``/v1/check`` at a time: its
latency is the one measured against the idle run (the clients' own checks are reported
too; with back-to-back clients on a small machine they mostly measure each other).
Meanwhile the server is killed with SIGKILL ``--kills`` times at random moments and
started again. Checked, and printed with the figures:

1. zero acknowledged documents lost: after a last kill -9 and restart, every document
   answered 201 is there;
2. zero 5xx for well-formed requests outside the restart windows (kill to ready, plus a
   second): transport errors and 503s inside them are counted apart;
3. ``/v1/check`` p99 under load within 3x the idle p99 (measured before the load);
4. memory back to baseline: the server's RSS after a quiet minute (``--settle``) at most
   ``--memory-slack`` above the first process's RSS after warm-up, before the load;
5. schemathesis over the whole OpenAPI schema (``--checks all``: status codes and
   response bodies conform to the schema) finds nothing (``--fuzz-examples 0`` skips it).

Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, eval_records, machine, percentile, rss_mb, statements, table

from tests.live import LiveServer

WRITER = "soak-writer-secret"
AUTH = {"Authorization": f"Bearer {WRITER}"}
OPERATIONS = {
    "check": 2,  # back-to-back single checks: 8 here saturate 2 cores on their own
    "batch": 2,
    "stream": 1,
    "abandon": 1,
    "ingest": 4,
    "hostile": 2,
    "slow": 1,
}


@dataclass
class Soak:
    """What the clients share: inputs, the server, and what they saw."""

    server: LiveServer
    statements: list[str]
    sentences: list[str]
    windows: list[tuple[float, float]] = field(default_factory=list)  # kill .. ready + 1 s
    latencies: list[tuple[float, float]] = field(default_factory=list)  # editor: (start, s)
    client_latencies: list[tuple[float, float]] = field(default_factory=list)  # the clients
    outcomes: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # 5xx outside restart windows
    wrong: list[str] = field(default_factory=list)  # answers that break a rule
    acknowledged: dict[str, str] = field(default_factory=dict)  # document id -> key
    restarting: bool = False

    def in_window(self, start: float, end: float) -> bool:
        """Whether [start, end] touches a restart window (or one is in progress)."""
        if self.restarting:
            return True
        return any(start <= b and end >= a for a, b in self.windows)


def document(soak: Soak, rng: random.Random) -> dict[str, Any]:
    return {
        "id": f"soak-{uuid.uuid4().hex[:12]}",
        "title": "Soak test document",
        "source": "soak",
        "url": "https://example.org/soak",
        "text": " ".join(rng.sample(soak.sentences, 3)),
    }


def ndjson(items: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(i).encode() + b"\n" for i in items)


HOSTILE: list[tuple[str, str, bytes, str]] = [
    ("POST", "/v1/check", b'{"statement": "x", "document_ids": ' + b"[" * 5000 + b"]" * 5000 + b"}",
     "application/json"),
    ("POST", "/v1/check", b'{"statement": "caf\xe9 \xff"}', "application/json"),
    ("POST", "/v1/documents", b'{"text": "Planted by a cross-site form."}', "text/plain"),
    ("POST", "/v1/documents", b'{"text": "A sentence.", "url": "javascript:alert(1)"}',
     "application/json"),
    ("POST", "/v1/check", b'{"statement": "Xi visited Moscow", "top_k": "5"}', "application/json"),
    ("GET", "/panel/a%00.js", b"", ""),
]  # fmt: skip


async def op_check(
    http: httpx.AsyncClient, soak: Soak, rng: random.Random, editor: bool = False
) -> httpx.Response:
    start = time.monotonic()
    body = {"statement": rng.choice(soak.statements)}
    if not editor and rng.random() < 0.1:  # the calendar's edges, which once failed batches
        body["as_of"] = rng.choice(["0001-01-01", "9999-12-31"])
    response = await http.post("/v1/check", json=body)
    if response.status_code == 200:
        (soak.latencies if editor else soak.client_latencies).append(
            (start, time.monotonic() - start)
        )
    return response


async def editor(soak: Soak, every: float, deadline: float) -> None:
    """One check at a time, ``every`` seconds apart: the latency measured under load."""
    rng = random.Random(0)
    async with httpx.AsyncClient(base_url=soak.server.url, headers=AUTH, timeout=120) as http:
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                response = await op_check(http, soak, rng, editor=True)
                status = str(response.status_code)
                if response.status_code >= 500 and not soak.in_window(start, time.monotonic()):
                    soak.server_errors.append(f"editor: {status} {response.text[:300]}")
            except httpx.TransportError:
                status = "transport error"
                if not soak.in_window(start, time.monotonic()):
                    soak.wrong.append("editor: transport error outside a restart window")
            soak.outcomes[f"editor {status}"] += 1
            await asyncio.sleep(every)


async def op_batch(http: httpx.AsyncClient, soak: Soak, rng: random.Random) -> httpx.Response:
    items = [{"statement": s} for s in rng.sample(soak.statements, rng.randint(5, 20))]
    response = await http.post("/v1/check/batch", json={"items": items})
    if response.status_code == 200 and response.json()["failed"]:
        soak.wrong.append(f"batch: failed items {response.text[:300]}")
    return response


async def op_stream(http: httpx.AsyncClient, soak: Soak, rng: random.Random) -> httpx.Response:
    items = [{"id": i, "statement": s} for i, s in enumerate(rng.sample(soak.statements, 10))]
    response = await http.post(
        "/v1/check/stream",
        content=ndjson(items),
        headers={"content-type": "application/x-ndjson"},
    )
    if response.status_code == 200:
        lines = [json.loads(line) for line in response.content.splitlines()]
        if [line["id"] for line in lines] != list(range(10)) or any(x["error"] for x in lines):
            soak.wrong.append(f"stream: {response.text[:300]}")
    return response


async def op_abandon(soak: Soak, rng: random.Random) -> str:
    items = [{"statement": s} for s in rng.choices(soak.statements, k=50)]
    body = ndjson(items)
    reader, writer = await asyncio.open_connection("127.0.0.1", soak.server.port)
    try:
        writer.write(
            b"POST /v1/check/stream HTTP/1.1\r\nHost: soak\r\n"
            + f"Authorization: Bearer {WRITER}\r\n".encode()
            + b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(body):x}\r\n".encode()
            + body
            + b"\r\n"
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        status = head.split(b" ", 2)[1].decode()
        if status == "200":
            await asyncio.wait_for(reader.readuntil(b"\n"), 60)  # chunk size line
            await asyncio.wait_for(reader.readuntil(b"\n"), 60)  # the first result line
        return status
    except asyncio.IncompleteReadError:
        # the body never ends: past FACTCHECK_BODY_TIMEOUT_S without a piece of it the
        # server closes the connection, as it should, when the first result is slower
        return "closed by the server"
    finally:
        writer.close()


async def op_ingest(http: httpx.AsyncClient, soak: Soak, rng: random.Random) -> str:
    doc, key = document(soak, rng), str(uuid.uuid4())
    for _ in range(60):
        try:
            response = await http.post(
                "/v1/documents", json=doc, headers={"Idempotency-Key": key, **AUTH}
            )
        except httpx.TransportError:
            await asyncio.sleep(1)
            continue
        if response.status_code == 201:
            soak.acknowledged[doc["id"]] = key
            return "201"
        if response.status_code in (429, 503):
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            continue
        soak.wrong.append(f"ingest: {response.status_code} {response.text[:300]}")
        return str(response.status_code)
    soak.wrong.append(f"ingest of {doc['id']} never acknowledged")
    return "gave up"


async def op_hostile(http: httpx.AsyncClient, soak: Soak, rng: random.Random) -> httpx.Response:
    method, path, body, content_type = rng.choice(HOSTILE)
    headers = {"content-type": content_type} if content_type else {}
    response = await http.request(method, path, content=body or None, headers=headers)
    if response.status_code < 400:  # (a 5xx is counted by the client loop)
        soak.wrong.append(f"hostile {path}: {response.status_code} {response.text[:200]}")
    return response


async def op_slow(soak: Soak, rng: random.Random) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", soak.server.port)
    try:
        writer.write(b"POST /v1/check HTTP/1.1\r\nHost: soak\r\n")
        start = time.monotonic()
        while time.monotonic() - start < 30:
            writer.write(b"X")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), 0.5) == b"":
                    return "closed"
            except TimeoutError:
                continue
        soak.wrong.append("slow: a dripping client was not closed within 30 s")
        return "open"
    except ConnectionError:
        return "closed"
    finally:
        writer.close()


async def client(soak: Soak, rng: random.Random, deadline: float) -> None:
    names, weights = list(OPERATIONS), list(OPERATIONS.values())
    async with httpx.AsyncClient(base_url=soak.server.url, headers=AUTH, timeout=120) as http:
        while time.monotonic() < deadline:
            op = rng.choices(names, weights)[0]
            start = time.monotonic()
            try:
                if op == "abandon":
                    status = await op_abandon(soak, rng)
                elif op == "slow":
                    status = await op_slow(soak, rng)
                elif op == "ingest":
                    status = await op_ingest(http, soak, rng)
                else:
                    send = {"check": op_check, "batch": op_batch, "stream": op_stream}
                    response = await send.get(op, op_hostile)(http, soak, rng)
                    status = str(response.status_code)
                    if response.status_code >= 500 and not soak.in_window(start, time.monotonic()):
                        soak.server_errors.append(f"{op}: {status} {response.text[:300]}")
            except (httpx.TransportError, OSError, asyncio.IncompleteReadError, TimeoutError):
                status = "transport error"
                if not soak.in_window(start, time.monotonic()):
                    soak.wrong.append(f"{op}: transport error outside a restart window")
                await asyncio.sleep(0.5)
            soak.outcomes[f"{op} {status}"] += 1


def restart(soak: Soak) -> None:
    """kill -9 and start again; the window lasts until ready plus a second."""
    assert soak.server.process is not None
    soak.restarting = True
    killed = time.monotonic()
    soak.server.process.send_signal(signal.SIGKILL)
    soak.server.process.wait()
    soak.server.start(timeout=300)
    soak.windows.append((killed, time.monotonic() + 1))
    soak.restarting = False


async def killer(soak: Soak, kills: int, duration: float) -> None:
    moments = sorted(random.uniform(0.1 * duration, 0.9 * duration) for _ in range(kills))
    begin = time.monotonic()
    for moment in moments:
        await asyncio.sleep(max(0.0, begin + moment - time.monotonic()))
        await asyncio.to_thread(restart, soak)


def check_latencies(url: str, claims: list[str], n: int) -> list[float]:
    """Sequential /v1/check latencies: the idle figure."""
    out = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as http:
        for statement in claims[:n]:
            start = time.monotonic()
            http.post("/v1/check", json={"statement": statement}).raise_for_status()
            out.append(time.monotonic() - start)
    return out


def baseline_rss(soak: Soak) -> float:
    """RSS of the current process after a short warm-up."""
    check_latencies(soak.server.url, soak.statements, 20)
    assert soak.server.process is not None
    return rss_mb(soak.server.process.pid)


def fuzz(url: str, examples: int, out: Path) -> tuple[bool, str]:
    """Schemathesis over the whole schema, every check (response bodies included)."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{url}/schema/openapi.json",
            "--checks=all",
            f"--max-examples={examples}",
            "--seed=20261201",
            "--phases=examples,fuzzing,stateful",
            "--workers=2",
            "--request-timeout=60",
            f"--header=Authorization: Bearer {WRITER}",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        env={
            **os.environ,
            "NO_COLOR": "1",
            "SCHEMATHESIS_HOOKS": str(ROOT / "tests" / "fuzz_hooks.py"),
        },
    )
    out.write_text(result.stdout + result.stderr)
    lines = result.stdout.splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith("Test cases:")), None)
    summary = lines[at + 1].strip() if at is not None and at + 1 < len(lines) else "no summary"
    return result.returncode == 0, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--editor-every", type=float, default=0.5, help="seconds between checks")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--settle", type=float, default=60, help="quiet seconds before RSS")
    parser.add_argument("--memory-slack", type=float, default=0.25)
    parser.add_argument("--fuzz-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=int, default=200, help="documents before the idle run")
    parser.add_argument(
        "--ops",
        default=",".join(f"{k}={v}" for k, v in OPERATIONS.items()),
        help="operation=weight list (a weight of 0 leaves one out)",
    )
    parser.add_argument("--keep", help="folder for the store, server log and fuzz report")
    args = parser.parse_args()
    OPERATIONS.update({k: int(v) for k, v in (op.split("=") for op in args.ops.split(","))})
    random.seed(args.seed)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="factcheck-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    sentences = [e["evidence"] for r in eval_records()[:400] for e in r["evidences"]]
    server = LiveServer(
        folder / "store.db",
        folder / "server.log",
        load_demo="true",
        api_keys=f"soak:writer:{WRITER}",
        request_timeout_s="10",
        header_timeout_s="5",
        body_timeout_s="10",
    )
    soak = Soak(server=server, statements=statements(300), sentences=sentences or ["A."])
    print(machine())
    server.start(timeout=300)
    try:
        # a corpus that answers the statements, so that the idle checks judge passages as
        # the loaded ones do (the demo corpus alone has none on their topics)
        rng = random.Random(args.seed)
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=600) as http:
            docs = [document(soak, rng) for _ in range(args.corpus)]
            for start in range(0, len(docs), 50):
                http.post("/v1/documents", json=docs[start : start + 50]).raise_for_status()
        idle = check_latencies(server.url, soak.statements[20:], 60)
        start_rss = baseline_rss(soak)

        async def run() -> None:
            deadline = time.monotonic() + args.duration
            await asyncio.gather(
                killer(soak, args.kills, args.duration),
                editor(soak, args.editor_every, deadline),
                *(
                    client(soak, random.Random(args.seed + c), deadline)
                    for c in range(args.clients)
                ),
            )

        asyncio.run(run())
        baseline = start_rss
        time.sleep(args.settle)
        assert server.process is not None
        settled = rss_mb(server.process.pid)
        restart(soak)  # and every acknowledged document must survive one more kill -9
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as http:
            lost = [
                doc_id
                for doc_id in soak.acknowledged
                if http.get(f"/v1/documents/{doc_id}").status_code != 200
            ]
        fuzz_ok, fuzz_summary = (
            fuzz(server.url, args.fuzz_examples, folder / "schemathesis.txt")
            if args.fuzz_examples
            else (True, "skipped")
        )
    finally:
        server.stop()

    idle_p99 = percentile(idle, 99)
    loaded = [s for start, s in soak.latencies if not soak.in_window(start, start + s)]
    load_p99 = percentile(loaded, 99)
    others = [s for start, s in soak.client_latencies if not soak.in_window(start, start + s)]
    by_op: dict[str, Counter[str]] = defaultdict(Counter)
    for key, count in soak.outcomes.items():
        op, status = key.split(" ", 1)
        by_op[op][status] += count
    print(table(["operation", "outcomes"], [[op, dict(c)] for op, c in sorted(by_op.items())]))
    checks = [
        ("acknowledged documents lost", f"{len(lost)} of {len(soak.acknowledged)}", not lost),
        ("5xx outside restart windows", len(soak.server_errors), not soak.server_errors),
        ("answers breaking a rule", len(soak.wrong), not soak.wrong),
        (
            "editor's /v1/check p99 under load / idle",
            f"{load_p99 * 1000:.0f} / {idle_p99 * 1000:.0f} ms ({len(loaded)} checks; p50 "
            f"{percentile(loaded, 50) * 1000:.0f} / {percentile(idle, 50) * 1000:.0f} ms)",
            load_p99 <= 3 * idle_p99,
        ),
        (
            "clients' /v1/check p50 / p99 (not a target)",
            f"{percentile(others, 50) * 1000:.0f} / {percentile(others, 99) * 1000:.0f} ms "
            f"({len(others)} checks)",
            True,
        ),
        (
            "RSS settled / baseline",
            f"{settled:.0f} / {baseline:.0f} MiB",
            settled <= baseline * (1 + args.memory_slack),
        ),
        ("schemathesis", fuzz_summary, fuzz_ok),
    ]
    print(table(["check", "figure", "ok"], checks))
    print(
        f"kills: {len(soak.windows)}; restart windows (s): "
        f"{[round(b - a, 1) for a, b in soak.windows]}; files in {folder}"
    )
    since_ready = [
        (s, min((start - b for _, b in soak.windows if start >= b), default=-1.0))
        for start, s in soak.latencies
        if not soak.in_window(start, start + s)
    ]
    slowest = sorted(since_ready, reverse=True)[:5]
    print(
        "slowest checks (s, s after the last restart window):",
        [(round(s, 2), round(after, 1)) for s, after in slowest],
    )
    for name, lines in (("5xx", soak.server_errors), ("broken rule", soak.wrong)):
        for line in lines[:10]:
            print(f"  {name}: {line}")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
