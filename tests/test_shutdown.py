"""Graceful shutdown under load: SIGTERM while 32 clients check statements.

The clients behave like a load balancer's pool: they send work until readiness says 503,
then finish what they sent. Expected: readiness turns 503 while the server still answers,
every request sent gets its answer (zero client errors), and the process exits cleanly.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer

CLIENTS = 32
DOCS = [
    {
        "id": f"d-{i}",
        "text": f"The port of city {i} closed on Tuesday after a storm damaged cranes.",
    }
    for i in range(20)
]


@pytest.mark.slow
def test_sigterm_drains_without_client_errors(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "store.db", tmp_path / "server.log", drain_s="3")
    server.start()
    try:
        assert httpx.post(f"{server.url}/v1/documents", json=DOCS, timeout=60).status_code == 201
        draining = threading.Event()
        ok, errors, ready_seen = [0] * CLIENTS, [], []

        def client(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                while not draining.is_set():
                    try:
                        r = http.post("/v1/check", json={"statement": f"port {n} closed"})
                        if r.status_code == 200:
                            ok[n] += 1
                        else:
                            errors.append(f"{r.status_code} {r.text[:200]}")
                    except httpx.HTTPError as exc:
                        errors.append(repr(exc))

        def watch_readiness() -> None:
            while True:
                try:
                    status = httpx.get(f"{server.url}/health/ready", timeout=5).status_code
                except httpx.HTTPError as exc:
                    ready_seen.append(repr(exc))
                    return
                ready_seen.append(status)
                if status == 503:
                    draining.set()  # the balancer takes the pod out of rotation
                    return
                time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(3)
        before = sum(ok)
        watcher = threading.Thread(target=watch_readiness)
        watcher.start()
        server.signal(signal.SIGTERM)
        watcher.join(30)
        for t in threads:
            t.join(60)
        returncode = server.wait(60)
    finally:
        server.stop()
    assert before > 0 and sum(ok) > before
    assert ready_seen and ready_seen[-1] == 503, ready_seen  # 503 while still answering
    assert errors == [], errors[:5]
    assert returncode in (0, -signal.SIGTERM), server.tail()
    assert "Application shutdown complete" in server.log.read_text()
    print(f"shutdown under load: {sum(ok)} checks answered, 0 errors")
