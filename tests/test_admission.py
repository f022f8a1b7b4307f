"""Fair admission to the check queue, over HTTP with the real models and SQLite store.

The model worker is held inside a call (a gated stance model), so the queue fills exactly
as the test says; then each limit answers with its own status, ``limit`` and Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from service.app import create_app
from service.batching import MicroBatcher
from service.engine import Engine
from service.errors import OverloadedError, QuotaExceededError
from service.settings import Settings
from service.stance import StanceModel
from tests.conftest import wait_ready
from tests.test_api import ARTICLE
from tests.test_batch import GatedStance

Client = TestClient  # type: ignore[type-arg]
STORM = "A storm damaged cranes in the port of Rotterdam"
KEYS = "alice:reader:alice-secret, bob:reader:bob-secret, ops:writer:ops-secret"


def key(name: str) -> dict[str, str]:
    return {"X-API-Key": f"{name}-secret"}


@pytest.fixture
def gated(
    settings: Settings, engine_factory: Callable[[Settings], Engine], stance: StanceModel
) -> Iterator[tuple[Client, GatedStance]]:
    gate = GatedStance(stance)

    def factory(s: Settings) -> Engine:
        engine = engine_factory(s)
        return Engine(s, engine.store, engine.embedder, gate)  # type: ignore[arg-type]

    small = msgspec.structs.replace(  # queue 8: 4 per caller, 2 kept for single checks
        settings,
        api_keys=KEYS,
        queue_size=8,
        max_batch_items=2,
        microbatch_size=1,
        microbatch_workers=1,
        queue_caller_share=0.5,
        queue_single_share=0.25,
    )
    with TestClient(create_app(small, engine_factory=factory)) as client:
        wait_ready(client)
        client.post("/v1/documents", json=ARTICLE, headers=key("ops"))
        gate.open.set()  # ingest embeds only; now hold the worker in the first check
        gate.open.clear()
        gate.entered.clear()
        yield client, gate
        gate.open.set()


def _waiting(client: Client, n: int) -> None:
    engine: Engine = client.app.state.engine
    deadline = time.monotonic() + 30
    while engine.batcher.waiting < n:
        assert time.monotonic() < deadline, engine.batcher.waiting
        time.sleep(0.01)


def _problem(response: httpx.Response, status: int, limit: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    body: dict[str, Any] = response.json()
    assert body["limit"] == limit, body
    return body


def test_no_caller_takes_more_than_its_share_and_single_checks_keep_theirs(
    gated: tuple[Client, GatedStance],
) -> None:
    client, gate = gated
    batch = {"items": [{"statement": STORM}] * 2}
    with ThreadPoolExecutor(8) as pool:
        calls: list[Future[httpx.Response]] = []

        def send(path: str, body: Any, who: str) -> None:
            calls.append(pool.submit(client.post, path, json=body, headers=key(who)))

        # the workers hold alice's first check and one of ops': the bulk worker and the
        # single checks' lane each hold one
        send("/v1/check", {"statement": STORM}, "alice")
        send("/v1/check", {"statement": STORM}, "ops")
        deadline = time.monotonic() + 60
        while gate.inside < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        send("/v1/check/batch", batch, "alice")
        send("/v1/check/batch", batch, "alice")
        _waiting(client, 4)
        # alice holds her 4 places: her next batch, and her next single check, are hers to wait
        over = client.post("/v1/check/batch", json=batch, headers=key("alice"))
        assert "caller" in _problem(over, 429, "caller_share")["detail"]
        single = client.post("/v1/check", json={"statement": STORM}, headers=key("alice"))
        _problem(single, 429, "caller_share")
        # bob's batch takes the last places open to batches...
        send("/v1/check/batch", batch, "bob")
        _waiting(client, 6)
        bulk = client.post("/v1/check/batch", json=batch, headers=key("bob"))
        assert "single checks" in _problem(bulk, 503, "batch_share")["detail"]
        # ...and his single checks still get in, into the places kept for them
        send("/v1/check", {"statement": STORM}, "bob")
        send("/v1/check", {"statement": STORM}, "bob")
        _waiting(client, 8)
        full = client.post("/v1/check", json={"statement": STORM}, headers=key("bob"))
        _problem(full, 503, "queue")
        gate.open.set()
        assert [c.result().status_code for c in calls] == [200] * 7


def test_streams_wait_within_their_share() -> None:
    release = threading.Event()

    def run(items: list[int]) -> list[int | Exception]:
        release.wait(10)
        return list(items)

    batcher: MicroBatcher[int, int] = MicroBatcher(
        run, max_batch=1, max_wait_s=0.0, max_queue=10, stream_quota=2, caller_quota=5
    )
    held = batcher.submit([0], caller="a", stream="s1")
    time.sleep(0.1)  # the worker takes it and waits
    batcher.submit([1, 2], caller="a", stream="s1")
    with pytest.raises(QuotaExceededError) as stream_full:
        batcher.submit([3], caller="a", stream="s1")
    assert stream_full.value.limit == "stream_share"
    batcher.submit([3, 4], caller="a", stream="s2")  # another stream of the same caller
    with pytest.raises(QuotaExceededError) as caller_full:
        batcher.submit([5, 6], caller="a", stream="s3")
    assert caller_full.value.limit == "caller_share"
    batcher.submit([5, 6], caller="b")
    with pytest.raises(OverloadedError):
        batcher.submit([7] * 5, caller="c")
    release.set()
    assert held[0].result(10) == 0
    batcher.close()
