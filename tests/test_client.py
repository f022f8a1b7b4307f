"""The Python client: against a live server, and its retry and error paths on MockTransport."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

import service.client as client_module
from service import (
    AsyncFactCheckClient,
    BatchItem,
    CheckResponse,
    DocumentIn,
    FactCheckClient,
    Retry,
)
from service.client import (
    APIError,
    DocumentNotFoundError,
    InvalidRequestError,
    ServiceBusyError,
    ServiceUnreachableError,
)
from service.schemas import (
    DocumentOut,
    DocumentPage,
    DocumentVersion,
    FeedbackOut,
    FeedbackRequest,
    Health,
    IngestResponse,
)
from tests.test_api import ARTICLE, OTHER

STORM = "A storm damaged cranes in the port of Rotterdam"


def test_sync_client_against_a_live_server(live_url: str) -> None:
    with FactCheckClient(live_url, timeout=60) as fc:
        ingested = fc.ingest([DocumentIn(**ARTICLE), DocumentIn(**OTHER)])  # type: ignore[arg-type]
        assert isinstance(ingested, IngestResponse)
        assert [d.status for d in ingested.documents] == ["created", "created"]
        doc = fc.get_document("port-1")
        assert isinstance(doc, DocumentOut) and doc.source == "harbour-news"
        fc.ingest(DocumentIn(**ARTICLE), idempotency_key="k-1")  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError):  # the key was used for another body
            fc.ingest(DocumentIn(**OTHER), idempotency_key="k-1")  # type: ignore[arg-type]

        result = fc.check(STORM, top_k=2)
        assert isinstance(result, CheckResponse) and len(result.evidence) == 2
        assert result.evidence[0].document.id == "port-1"

        batch = fc.check_batch([STORM, BatchItem(id="w", statement="wheat harvest"), {"x": 1}])
        assert [r.index for r in batch.results] == [0, 1, 2]
        assert batch.results[1].id == "w" and batch.results[1].result is not None
        error = batch.results[2].error
        assert error is not None and error.status == 422

        def items() -> Iterator[Any]:  # a one-shot generator: the client never holds it all
            yield STORM
            yield {"id": "bad", "statement": ""}
            yield BatchItem(id=3, statement="record wheat harvest in Kansas")

        streamed = list(fc.check_stream(items()))
        assert [(r.index, r.id) for r in streamed] == [(0, None), (1, "bad"), (2, 3)]
        assert streamed[1].error is not None and streamed[2].result is not None

        with pytest.raises(InvalidRequestError) as bad:
            fc.check("ok", top_k=0)
        assert bad.value.status in (400, 422) and "top_k" in bad.value.detail
        fc.delete("port-1")
        with pytest.raises(DocumentNotFoundError):
            fc.get_document("port-1")


def test_async_client_against_a_live_server(live_url: str) -> None:
    async def run() -> None:
        async with AsyncFactCheckClient(live_url, timeout=60) as fc:
            await fc.ingest(DocumentIn(**ARTICLE))  # type: ignore[arg-type]
            results = await asyncio.gather(*(fc.check(STORM, top_k=1) for _ in range(4)))
            assert {r.evidence[0].document.id for r in results} == {"port-1"}
            batch = await fc.check_batch([STORM, ""])
            assert batch.succeeded == 1 and batch.failed == 1

            async def items() -> AsyncIterator[str]:
                for statement in (STORM, "Rotterdam port"):
                    yield statement

            streamed = [r async for r in fc.check_stream(items())]
            assert [r.index for r in streamed] == [0, 1]
            assert (await fc.get_document("port-1")).id == "port-1"
            await fc.delete("port-1")
            with pytest.raises(DocumentNotFoundError):
                await fc.delete("port-1")

    asyncio.run(run())


def test_a_method_for_every_route_with_any_document_id(live_url: str) -> None:
    doc_id = "news/2024/05/budget vote ü"  # a slash, spaces and a non-ASCII letter
    with FactCheckClient(live_url, timeout=60) as fc:
        assert fc.health(ready=False) == Health(status="ok")
        assert fc.health().status == "ready" and fc.health().claims == 0
        fc.ingest([DocumentIn(**{**ARTICLE, "id": doc_id}), DocumentIn(**OTHER)])  # type: ignore[arg-type]
        page = fc.list_documents(limit=1)
        assert isinstance(page, DocumentPage) and page.total == 2
        assert [d.id for d in page.items] == [doc_id]  # newest publication first
        assert fc.list_documents(source="farm-daily").items[0].id == "wheat-1"
        assert fc.get_document(doc_id).id == doc_id
        fc.ingest(DocumentIn(**{**ARTICLE, "id": doc_id, "text": "The port reopened on Friday."}))  # type: ignore[arg-type]
        versions = fc.versions(doc_id)
        assert [v.version for v in versions] == [1] and isinstance(versions[0], DocumentVersion)
        retracted = fc.retract(doc_id, "wrong port")
        assert (retracted.status, retracted.retraction_reason) == ("retracted", "wrong port")
        assert fc.unretract(doc_id).status == "corrected"

        sentences = fc.split("Xi visited Moscow. He met Putin.").sentences
        assert [s.text for s in sentences] == ["Xi visited Moscow.", "He met Putin."]
        evidence = fc.check("record wheat harvest in Kansas", top_k=1).evidence[0]
        judgement = FeedbackRequest(
            statement="record wheat harvest in Kansas",
            claim_id=evidence.claim_id,
            judgement="accept",
            editor_id="desk-7",
        )
        stored = fc.feedback(judgement)
        assert isinstance(stored, FeedbackOut) and stored.document_id == "wheat-1"
        assert [f.id for f in fc.list_feedback().items] == [stored.id]

        fc.delete(doc_id)
        with pytest.raises(DocumentNotFoundError, match="budget vote"):
            fc.versions(doc_id)
        with pytest.raises(DocumentNotFoundError):
            fc.unretract(doc_id)

    async def run() -> None:
        async with AsyncFactCheckClient(live_url, timeout=60) as afc:
            assert (await afc.health()).claims == 2  # wheat-1 as two claims
            await afc.ingest(DocumentIn(**{**ARTICLE, "id": doc_id}))  # type: ignore[arg-type]
            assert (await afc.list_documents()).total == 2
            assert (await afc.retract(doc_id)).status == "retracted"
            assert (await afc.unretract(doc_id)).status == "active"
            assert await afc.versions(doc_id) == []
            assert (await afc.split("One. Two.")).sentences[1].text == "Two."
            assert (await afc.list_feedback(limit=1)).total == 1
            await afc.feedback(
                FeedbackRequest(statement="s", claim_id=stored.claim_id, judgement="reject")
            )
            assert (await afc.list_feedback()).total == 2
            await afc.delete(doc_id)
            with pytest.raises(DocumentNotFoundError):
                await afc.get_document(doc_id)

    asyncio.run(run())


def test_health_reports_503_answers_instead_of_raising() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"status": "starting"})

    with FactCheckClient(transport=httpx.MockTransport(handle)) as fc:
        assert fc.health() == Health(status="starting")


# -- retries and errors, on a mock transport --------------------------------------------------

CHECKED = {
    "statement": "s",
    "verdict": "not_enough_info",
    "confidence": 1.0,
    "evidence": [],
    "models": {"embedding": "e", "stance": "s"},
    "index_version": "1",
    "timings": {"embed_ms": 1, "retrieve_ms": 1, "judge_ms": 1, "total_ms": 3},
}
PROBLEM = {"content-type": "application/problem+json"}


def scripted(*steps: Any) -> tuple[Callable[[httpx.Request], httpx.Response], list[str]]:
    """A handler answering each request with the next step (a response or an exception)."""
    calls: list[str] = []
    queue = list(steps)

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        step = queue.pop(0)
        if isinstance(step, Exception):
            raise step
        return step  # type: ignore[no-any-return]

    return handle, calls


def busy(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = dict(PROBLEM, **({"retry-after": retry_after} if retry_after else {}))
    return httpx.Response(status, json={"status": status, "detail": "busy"}, headers=headers)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", waited.append)

    async def asleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(client_module, "_asleep", asleep)
    return waited


def test_retries_503_429_and_connection_errors_with_backoff(sleeps: list[float]) -> None:
    handle, calls = scripted(
        busy(503, "7"),
        httpx.ConnectError("refused"),
        busy(429),
        httpx.Response(200, json=CHECKED),
    )
    retry = Retry(attempts=4, backoff=0.5, max_delay=30)
    with FactCheckClient(transport=httpx.MockTransport(handle), retry=retry) as fc:
        assert fc.check("s").verdict == "not_enough_info"
    assert calls == ["/v1/check"] * 4
    assert sleeps == [7.0, 1.0, 2.0]  # Retry-After honoured, else 0.5 · 2^attempt


def test_ingest_retries_carry_one_idempotency_key(sleeps: list[float]) -> None:
    keys: list[str | None] = []
    ingested = {"documents": [], "dropped": [], "index_version": "v1"}

    def handle(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("idempotency-key"))
        return busy(503) if len(keys) % 2 else httpx.Response(201, json=ingested)

    with FactCheckClient(transport=httpx.MockTransport(handle)) as fc:
        fc.ingest(DocumentIn(**ARTICLE))  # type: ignore[arg-type]
        fc.ingest(DocumentIn(**ARTICLE), idempotency_key="nightly-2026-11-23")  # type: ignore[arg-type]
    first, retried, given, given_retried = keys
    assert first and first == retried  # a retry is the same request, so the server replays it
    assert given == given_retried == "nightly-2026-11-23"
    with FactCheckClient(transport=httpx.MockTransport(handle)) as fc:
        fc.ingest(DocumentIn(**ARTICLE))  # type: ignore[arg-type]
    assert keys[4] not in (first, given)  # each call its own key


def test_gives_up_after_the_last_attempt_with_the_typed_error(sleeps: list[float]) -> None:
    handle, calls = scripted(*[busy(503, "120")] * 3)
    retry = Retry(attempts=3, backoff=0.1, max_delay=5)
    fc = FactCheckClient(transport=httpx.MockTransport(handle), retry=retry)
    with fc, pytest.raises(ServiceBusyError) as exc:
        fc.check_batch(["s"])
    assert exc.value.status == 503 and exc.value.retry_after == 120.0
    assert len(calls) == 3 and sleeps == [5.0, 5.0]  # capped at max_delay


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (
            httpx.Response(422, json={"detail": "`top_k` too big"}, headers=PROBLEM),
            InvalidRequestError,
        ),
        (
            httpx.Response(404, json={"detail": "no document"}, headers=PROBLEM),
            DocumentNotFoundError,
        ),
        (httpx.Response(500, text="boom"), APIError),
        (httpx.ReadTimeout("slow"), ServiceUnreachableError),  # may have been served: not retried
    ],
)
def test_other_failures_are_not_retried(sleeps: list[float], step: Any, error: type) -> None:
    handle, calls = scripted(step)
    with FactCheckClient(transport=httpx.MockTransport(handle)) as fc, pytest.raises(error):
        fc.get_document("x")
    assert len(calls) == 1 and sleeps == []


def test_async_client_retries_too(sleeps: list[float]) -> None:
    handle, calls = scripted(
        httpx.ConnectError("refused"), busy(503, "2"), httpx.Response(200, json=CHECKED)
    )

    async def run() -> CheckResponse:
        async with AsyncFactCheckClient(transport=httpx.MockTransport(handle)) as fc:
            return await fc.check("s")

    assert asyncio.run(run()).statement == "s"
    assert len(calls) == 3 and sleeps == [0.5, 2.0]


def test_unreachable_service_raises_after_retries() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retry = Retry(attempts=2, backoff=0.0)
    with FactCheckClient(f"http://127.0.0.1:{port}", retry=retry) as fc:
        with pytest.raises(ServiceUnreachableError):
            fc.check("s")
        with pytest.raises(ServiceUnreachableError):
            list(fc.check_stream(["s"]))
