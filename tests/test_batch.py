"""Batch and stream checking over HTTP, and the micro-batcher's queue bound."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest
from litestar.testing import TestClient

from service.batch import ndjson_lines
from service.engine import Engine
from service.schemas import ItemError
from service.settings import Settings
from service.stance import StanceModel
from tests.test_api import ARTICLE, OTHER

Client = TestClient  # type: ignore[type-arg]
STORM = "A storm damaged cranes in the port of Rotterdam"
WHEAT = "Kansas farmers had a record wheat harvest"


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "timings"}


def test_batch_keeps_order_and_reports_bad_items_in_place(
    make_client: Callable[..., Client], settings: Settings
) -> None:
    short = msgspec.structs.replace(settings, max_statement_chars=300)
    with make_client(short) as client:
        _check_batch(client)


def _check_batch(client: Client) -> None:
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    items: list[Any] = [
        {"id": "storm", "statement": STORM, "top_k": 2},
        {"id": "empty", "statement": "   "},
        {"statement": WHEAT, "top_k": "five"},
        {"id": 7, "statement": "x" * 301},  # over this deployment's max_statement_chars
        {"id": "wheat", "statement": WHEAT, "sources": ["farm-daily"]},
        "not an object",
    ]
    response = client.post("/v1/check/batch", json={"items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["id"] for r in results] == ["storm", "empty", None, 7, "wheat", None]
    assert (body["succeeded"], body["failed"]) == (2, 4)
    errors = {r["index"]: r["error"] for r in results if r["error"]}
    assert sorted(errors) == [1, 2, 3, 5]
    assert all(e["status"] == 422 for e in errors.values())
    assert "statement" in errors[1]["detail"] and "top_k" in errors[2]["detail"]
    assert errors[2]["field"] == "top_k"
    assert errors[3]["field"] == "statement" and "300" in errors[3]["detail"]
    # each result is exactly what /v1/check answers for the same request
    single = client.post("/v1/check", json={"statement": STORM, "top_k": 2}).json()
    assert _comparable(results[0]["result"]) == _comparable(single)
    wheat = results[4]["result"]
    assert {e["document"]["source"] for e in wheat["evidence"]} == {"farm-daily"}
    assert results[0]["result"]["timings"]["batch_size"] == 2  # both valid items, one model call


@pytest.mark.parametrize(
    ("body", "status"),
    [({"items": [{"statement": "ok"}] * 257}, 422), ({"items": []}, 400), ({"items": {}}, 400)],
)
def test_batch_limits_are_problems(client: Client, body: dict[str, Any], status: int) -> None:
    response = client.post("/v1/check/batch", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "items" in response.json()["detail"]


def _lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [msgspec.json.decode(line) for line in response.content.splitlines()]


def test_stream_framing(client: Client) -> None:
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    body = (
        b'{"id": "a", "statement": "' + STORM.encode() + b'"}\r\n'
        b"\n"
        b"   \n"
        b'{"id": "broken", "statement": \n'  # bad JSON mid-stream
        b'{"id": "b", "statement": "ok", "top_k": 0}\n'  # valid JSON, invalid item
        b'{"statement": "' + WHEAT.encode() + b'"}'  # last line without a newline
    )
    response = client.post(
        "/v1/check/stream", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    lines = _lines(response)
    assert [(r["index"], r["line"], r["id"]) for r in lines] == [
        (0, 1, "a"),
        (1, 4, None),  # the id of unparseable JSON is unknown
        (2, 5, "b"),
        (3, 6, None),
    ]
    assert lines[0]["result"]["statement"] == STORM and lines[0]["error"] is None
    assert lines[1]["error"]["status"] == 400 and "JSON" in lines[1]["error"]["detail"]
    assert "top_k" in lines[2]["error"]["detail"]
    assert lines[3]["result"]["evidence"][0]["document"]["id"] == "wheat-1"


def test_stream_over_real_http_with_lines_split_across_chunks(live_url: str) -> None:
    httpx.post(f"{live_url}/v1/documents", json=[ARTICLE, OTHER], timeout=60).raise_for_status()
    lines = [msgspec.json.encode({"id": i, "statement": s}) for i, s in enumerate([STORM, WHEAT])]
    payload = b"\n".join(lines) + b"\n"

    def chunks() -> Any:  # cut inside the first line, inside the second, and at its end
        yield from (payload[:10], payload[10:70], payload[70:-1], payload[-1:])

    with httpx.Client(timeout=60) as http:
        response = http.post(
            f"{live_url}/v1/check/stream",
            content=chunks(),
            headers={"content-type": "application/x-ndjson"},
        )
    results = _lines(response)
    assert [r["id"] for r in results] == [0, 1]
    assert [r["result"]["statement"] for r in results] == [STORM, WHEAT]


def _collect(chunks: Sequence[bytes], limit: int = 20) -> list[tuple[int, bytes | ItemError]]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def run() -> list[tuple[int, bytes | ItemError]]:
        return [line async for line in ndjson_lines(source(), limit)]

    return asyncio.run(run())


def test_ndjson_lines_reassembles_partial_lines_and_bounds_long_ones() -> None:
    got = _collect([b'{"a"', b": 1}\n\n", b"  \r\n{", b'"b": 2}\n', b"x" * 15, b"y" * 10, b"\n{}"])
    assert got[0] == (1, b'{"a": 1}')
    assert got[1] == (4, b'{"b": 2}')
    number, error = got[2]
    assert number == 5 and isinstance(error, ItemError) and error.status == 413
    assert got[3] == (6, b"{}")
    assert len(got) == 4


class GatedStance:
    """The real stance model behind a gate: predict blocks until the test opens it."""

    def __init__(self, inner: StanceModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.entered = threading.Event()
        self.open = threading.Event()
        self.inside = 0  # calls that entered, held or not

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:  # type: ignore[type-arg]
        self.inside += 1
        self.entered.set()
        assert self.open.wait(60), "the test never opened the gate"
        return self.inner.predict(pairs, batch_size=batch_size)


def test_a_full_queue_answers_503_and_waiting_checks_share_one_model_call(
    settings: Settings,
    engine_factory: Callable[[Settings], Engine],
    stance: StanceModel,
) -> None:
    from service.app import create_app

    gate = GatedStance(stance)

    def gated(s: Settings) -> Engine:
        engine = engine_factory(s)
        return Engine(s, engine.store, engine.embedder, gate)  # type: ignore[arg-type]

    tiny = msgspec.structs.replace(  # one bulk worker: the gate holds it, so the queue fills
        settings,
        queue_size=4,
        max_batch_items=4,
        microbatch_size=4,
        microbatch_wait_ms=0.0,
        microbatch_workers=1,
    )
    with (
        TestClient(create_app(tiny, engine_factory=gated)) as client,
        ThreadPoolExecutor(3) as pool,
    ):
        client.post("/v1/documents", json=[ARTICLE, OTHER])
        engine: Engine = client.app.state.engine
        one = {"items": [{"statement": STORM}]}
        first = pool.submit(client.post, "/v1/check/batch", json=one)
        assert gate.entered.wait(60)  # the worker holds the first batch inside the model
        batch = pool.submit(
            client.post, "/v1/check/batch", json={"items": [{"statement": WHEAT}] * 3}
        )
        while engine.batcher.waiting < 3:
            threading.Event().wait(0.01)
        last = pool.submit(client.post, "/v1/check/batch", json=one)
        while engine.batcher.waiting < 4:
            threading.Event().wait(0.01)

        refused = client.post("/v1/check", json={"statement": "one more"})
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "1"
        assert "waiting" in refused.json()["detail"]
        assert (
            client.post("/v1/check/batch", json={"items": [{"statement": "x"}]}).status_code == 503
        )

        gate.open.set()
        assert first.result().status_code == 200
        assert first.result().json()["results"][0]["result"]["timings"]["batch_size"] == 1
        # the four statements queued meanwhile went through one embedding and one stance call
        batched = [r["result"] for r in batch.result().json()["results"]]
        assert [r["timings"]["batch_size"] for r in batched] == [4, 4, 4]
        assert last.result().json()["results"][0]["result"]["timings"]["batch_size"] == 4
        assert client.post("/v1/check", json={"statement": STORM}).status_code == 200
