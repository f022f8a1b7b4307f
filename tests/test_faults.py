"""Faults: a full disk or a read-only store fails writes with 503 and keeps reads working;
a stuck model call hits its deadline and answers 503 instead of hanging.

The faults are SQLite's own: ``max_page_count`` makes the file full (SQLITE_FULL, what a
full disk gives) and ``query_only`` makes it refuse writes (SQLITE_READONLY).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pytest
from litestar.testing import TestClient

from service.settings import Settings
from tests.conftest import wait_ready

DOC = {"id": "kept", "title": "Port", "text": "The port of Rotterdam closed on Tuesday."}
BIG = {"id": "big", "text": " ".join(f"Sentence number {i} about the harbour." for i in range(400))}


def full_disk(client: TestClient) -> None:  # type: ignore[type-arg]
    db = client.app.state.engine.store._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def read_only(client: TestClient) -> None:  # type: ignore[type-arg]
    client.app.state.engine.store._db.execute("PRAGMA query_only = ON")


GROWING_WRITE = [("POST", "/v1/documents", BIG)]
# A full file still takes writes that fit in its free pages; a read-only one takes none.
ANY_WRITE = [
    *GROWING_WRITE,
    ("POST", "/v1/documents/kept/retract", {"reason": "test"}),
    ("DELETE", "/v1/documents/kept", None),
]


@pytest.mark.parametrize(("fault", "writes"), [(full_disk, GROWING_WRITE), (read_only, ANY_WRITE)])
def test_store_faults_fail_writes_with_503_and_reads_keep_working(
    client: TestClient,  # type: ignore[type-arg]
    fault: Callable[[TestClient], None],  # type: ignore[type-arg]
    writes: list[tuple[str, str, Any]],
) -> None:
    assert client.post("/v1/documents", json=DOC).status_code == 201
    fault(client)
    for method, path, body in writes:
        response = client.request(method, path, json=body)
        assert response.status_code == 503, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == "urn:factcheck:error:StoreError"
    assert client.get("/v1/documents/kept").status_code == 200
    assert client.get("/v1/documents/big").status_code == 404
    evidence = client.post("/v1/check", json={"statement": "harbour sentence", "top_k": 50})
    assert evidence.status_code == 200  # reads work, and no vector of the failed write is left
    assert {e["document"]["id"] for e in evidence.json()["evidence"]} == {"kept"}
    assert client.get("/health/live").status_code == 200


class StuckModel:
    """A stance model whose call never returns (until the test ends)."""

    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()

    def predict(self, pairs: Any, batch_size: int = 32) -> Any:
        self.release.wait(60)
        return np.full((len(pairs), 3), 1 / 3, dtype=np.float32)


def test_a_stuck_model_call_hits_the_deadline(
    make_client: Callable[..., TestClient],
    settings: Settings,  # type: ignore[type-arg]
) -> None:
    stuck = StuckModel()
    with make_client(msgspec.structs.replace(settings, request_timeout_s=1.0)) as client:
        wait_ready(client)
        client.post("/v1/documents", json=DOC)
        client.app.state.engine.stance = stuck
        try:
            start = time.monotonic()
            response = client.post("/v1/check", json={"statement": "Rotterdam port"})
            elapsed = time.monotonic() - start
            assert response.status_code == 503 and "within 1 s" in response.json()["detail"]
            assert int(response.headers["retry-after"]) > 0
            assert elapsed < 10  # answered at the deadline, not when the model returned
            assert client.get("/v1/documents/kept").status_code == 200  # the service still serves
        finally:
            stuck.release.set()
