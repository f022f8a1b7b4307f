"""One item never fails its batch-mates: over HTTP, with the real models and SQLite store.

Inputs at the calendar's ends (``as_of`` 0001-01-01, ``published_at`` 9999-12-31) used to
raise inside the time rules and fail every statement of their micro-batch; any exception
that one statement's input triggers is now that statement's own 500, logged once with the
request id, and the others are answered as usual.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
import pytest
from litestar.testing import TestClient

from service.stance import StanceModel
from tests.test_api import ARTICLE, OTHER

Client = TestClient  # type: ignore[type-arg]
STORM = "A storm damaged cranes in the port of Rotterdam"
MONDAY = "Xi arrived in Moscow on Monday"
VISIT = {
    "id": "xi-visit",
    "title": "Xi in Moscow",
    "published_at": "2023-03-20",
    "text": "Chinese President Xi Jinping arrived in Moscow on Monday for talks with Putin.",
}


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_a_statement_at_the_calendar_edge_fails_nothing(client: Client, as_of: str) -> None:
    client.post("/v1/documents", json=[ARTICLE, OTHER, VISIT])
    edge = {"id": "edge", "statement": MONDAY, "as_of": as_of}
    batch = client.post("/v1/check/batch", json={"items": [edge, {"statement": STORM}]})
    assert batch.status_code == 200, batch.text
    assert batch.json()["failed"] == 0, batch.text
    single = client.post("/v1/check", json={"statement": MONDAY, "as_of": as_of})
    assert single.status_code == 200, single.text
    assert any(e["document"]["id"] == "xi-visit" for e in single.json()["evidence"])


@pytest.mark.parametrize("published_at", ["9999-12-31", "0001-01-01"])
def test_a_document_dated_at_the_calendar_edge_fails_no_check(
    client: Client, published_at: str
) -> None:
    edge_doc = {**VISIT, "id": "edge-doc", "published_at": published_at}
    assert client.post("/v1/documents", json=[edge_doc, ARTICLE]).status_code == 201
    for statement in (MONDAY, "Xi will visit Moscow next week", "Xi visited Moscow in 2023"):
        response = client.post("/v1/check", json={"statement": statement})
        assert response.status_code == 200, response.text
        assert "edge-doc" in {e["document"]["id"] for e in response.json()["evidence"]}


class PoisonedStance:
    """The real stance model, failing any call that judges a pair of the POISON statement."""

    def __init__(self, inner: StanceModel) -> None:
        self.inner = inner
        self.name = inner.name

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:  # type: ignore[type-arg]
        if any("POISON" in statement for _, statement in pairs):
            raise RuntimeError("the model failed on this input")
        return self.inner.predict(pairs, batch_size=batch_size)


POISON = f"POISON {STORM}"


def _errors(records: Sequence[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.name == "factcheck.errors" and r.levelno >= logging.ERROR]


def test_an_item_that_fails_its_model_call_fails_only_itself(
    client: Client, stance: StanceModel, caplog: pytest.LogCaptureFixture
) -> None:
    client.post("/v1/documents", json=[ARTICLE, OTHER])
    client.app.state.engine.stance = PoisonedStance(stance)
    items: list[Any] = [{"id": "a", "statement": STORM}, {"id": "p", "statement": POISON}]
    items.append({"id": "b", "statement": "Kansas farmers had a record wheat harvest"})
    caplog.clear()
    response = client.post(
        "/v1/check/batch", json={"items": items}, headers={"X-Request-ID": "batch-17"}
    )
    assert response.status_code == 200, response.text
    results = {r["id"]: r for r in response.json()["results"]}
    assert results["a"]["result"]["verdict"] and results["b"]["result"]["verdict"]
    error = results["p"]["error"]
    assert error["status"] == 500 and error["type"] == "urn:factcheck:error:Internal"
    assert "model failed" not in error["detail"]  # no internals in the answer
    logged = _errors(caplog.records)
    assert len(logged) == 1 and logged[0].exc_info is not None

    body = b"".join(msgspec.json.encode(item) + b"\n" for item in [*items, {"statement": STORM}])
    stream = client.post(
        "/v1/check/stream", content=body, headers={"content-type": "application/x-ndjson"}
    )
    lines = [msgspec.json.decode(line) for line in stream.content.splitlines()]
    assert [line["error"]["status"] if line["error"] else 200 for line in lines] == [
        200,
        500,
        200,
        200,
    ]

    single = client.post("/v1/check", json={"statement": POISON})
    assert single.status_code == 500
    assert single.headers["content-type"].startswith("application/problem+json")
    assert client.post("/v1/check", json={"statement": STORM}).status_code == 200


def test_a_rule_that_fails_on_one_statement_fails_only_it(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.check

    real = service.check.search_filter

    def fragile(req: Any) -> Any:
        if req.statement.startswith("POISON"):
            raise ValueError("a bug this statement alone triggers")
        return real(req)

    client.post("/v1/documents", json=[ARTICLE, OTHER])
    monkeypatch.setattr(service.check, "search_filter", fragile)
    items = [{"statement": STORM}, {"statement": POISON}, {"statement": STORM, "top_k": 2}]
    response = client.post("/v1/check/batch", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["error"]["status"] if r["error"] else 200 for r in results] == [200, 500, 200]
    assert results[0]["result"]["timings"]["batch_size"] == 3  # still one model call


def test_a_retract_racing_a_delete_is_404_or_200_never_500(client: Client) -> None:
    client.post("/v1/documents", json=ARTICLE)
    store = client.app.state.engine.store
    real_get = store.get_document

    def get_after_a_delete(doc_id: str) -> Any:
        """A delete races the retract's read-back: it runs now, unless the store holds it."""
        deleter = threading.Thread(target=store.delete_document, args=(doc_id,))
        deleter.start()
        deleter.join(0.5)
        return real_get(doc_id)

    store.get_document = get_after_a_delete
    try:
        response = client.post("/v1/documents/port-1/retract", json={"reason": "race"})
    finally:
        store.get_document = real_get
    assert response.status_code in (200, 404), response.text
    assert client.get("/v1/documents/port-1").status_code in (200, 404)


def test_a_document_that_fails_fails_only_itself(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import service.ingest

    real = service.ingest.split_document

    def fragile(text: str, **kwargs: Any) -> Any:
        if "POISON" in text:
            raise RuntimeError("a bug this document alone triggers")
        return real(text, **kwargs)

    monkeypatch.setattr(service.ingest, "split_document", fragile)
    poison = {"id": "poison", "text": "POISON in the port of Rotterdam."}
    caplog.clear()
    response = client.post("/v1/documents", json=[ARTICLE, poison, OTHER])
    assert response.status_code == 201, response.text
    results = response.json()["documents"]
    assert [r["status"] for r in results] == ["created", "failed", "created"]
    assert results[1]["id"] == "poison" and results[1]["error"]["status"] == 500
    assert results[0]["error"] is None
    assert len(_errors(caplog.records)) == 1
    assert client.get("/v1/documents/poison").status_code == 404
    assert client.get("/v1/documents/wheat-1").status_code == 200
