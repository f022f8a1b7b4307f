"""Crash test: SIGKILL the server at random moments during concurrent bulk ingests.

Durability setting: WAL with ``synchronous=FULL`` (service/store/sqlite.py), so a write
acknowledged with 201 has been committed and fsynced. After every kill and restart: every
acknowledged document is there, every claim has its vector, the index the restarted server
loads holds as many vectors as the file has claims, its tantivy lexical index (forced on:
the store is small) holds every claim and is stamped with the file's index_version, and
``PRAGMA integrity_check`` is ok.
Rounds: ``FACTCHECK_CRASH_ROUNDS`` (5 by default, to keep CI short; 30 or more for a long run).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
import tantivy

from tests.live import LiveServer

ROUNDS = int(os.environ.get("FACTCHECK_CRASH_ROUNDS", "5"))
WRITERS, BATCH, DIMENSION = 4, 5, 384


def inspect(store: Path) -> tuple[set[str], int, int]:
    """Document ids, claims, and claims with a well-formed vector, read from the file."""
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in db.execute("SELECT id FROM documents")}
        claims = db.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
        vectors = db.execute(
            "SELECT COUNT(*) FROM claims WHERE length(embedding) = ?", (DIMENSION * 4,)
        ).fetchone()[0]
    return ids, claims, vectors


def lexical(store: Path) -> tuple[int, int]:
    """Claims in the tantivy index beside the file, and the index_version its stamp names."""
    stamp = json.loads(store.with_name(store.name + ".tantivy.json").read_text())
    index = tantivy.Index.open(str(store.with_name(store.name + ".tantivy")))
    return index.searcher().num_docs, int(stamp["index_version"])


@pytest.mark.slow
def test_kill_9_during_bulk_ingest_loses_nothing_acknowledged(tmp_path: Path) -> None:
    store, rng = tmp_path / "store.db", random.Random(20261123)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    for round_ in range(ROUNDS + 1):
        server = LiveServer(store, tmp_path / "server.log", lexical_index="tantivy").start()
        ready = httpx.get(f"{server.url}/health/ready", timeout=10).json()
        ids, claims, vectors = inspect(store) if store.exists() else (set(), 0, 0)
        assert acknowledged <= ids, sorted(acknowledged - ids)[:5]
        assert claims == vectors == ready["claims"]
        assert lexical(store) == (claims, int(ready["index_version"]))
        if round_ == ROUNDS:
            server.stop()
            break
        stop = threading.Event()

        def writer(w: int, url: str, round_: int, stop: threading.Event) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                for n in range(10_000):
                    docs = [
                        {
                            "id": f"r{round_}-w{w}-n{n}-{k}",
                            "text": f"Report {n} of writer {w}. The harbour reopened on day {k}. "
                            "Officials said repairs would take a week.",
                        }
                        for k in range(BATCH)
                    ]
                    try:
                        response = http.post("/v1/documents", json=docs)
                    except httpx.HTTPError:
                        return  # the server died mid-request: nothing was acknowledged
                    if response.status_code == 201:
                        with lock:
                            acknowledged.update(d["id"] for d in docs)
                    if stop.is_set():
                        return

        threads = [
            threading.Thread(target=writer, args=(w, server.url, round_, stop))
            for w in range(WRITERS)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 2.5))
        server.signal(signal.SIGKILL)
        server.wait(30)
        stop.set()
        for t in threads:
            t.join(60)
    print(f"crash test: {ROUNDS} kills, {len(acknowledged)} acknowledged documents, all present")
    assert len(acknowledged) > ROUNDS * BATCH
