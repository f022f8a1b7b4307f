"""HTTP layer: the versioned routes.

Handlers validate, hand work to the engine off the event loop, and shape responses;
they hold no pipeline logic of their own.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import anyio
import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter, RequestBody
from litestar.response.streaming import ASGIStreamingResponse
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import Receive, Send

from service.batch import check_batch, check_stream
from service.engine import Engine
from service.errors import InvalidInputError
from service.feedback import record_feedback
from service.schemas import (
    BatchRequest,
    BatchResponse,
    CheckRequest,
    CheckResponse,
    ClaimOut,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    DocumentSummary,
    DocumentVersion,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequest,
    IngestResponse,
    RetractRequest,
    Sentence,
    SplitRequest,
    SplitResponse,
)
from service.split import statement_spans
from service.store import DocumentRecord, FeedbackRecord


class DuplexStream(ASGIStreamingResponse):
    """A streamed response whose handler still reads the request body while it streams.

    Litestar's own stream listens for the client's disconnect by calling ``receive``,
    which would swallow the body chunks the handler has yet to read; here the handler's
    body reader sees the disconnect itself and ends the stream.
    """

    __slots__ = ()

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Send each chunk as it comes, then the end of the body."""
        async for chunk in self.iterator:
            body = chunk if isinstance(chunk, bytes) else chunk.encode(self.encoding)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def provide_engine(state: State) -> Engine:
    """The engine opened by the lifespan."""
    engine: Engine = state.engine
    return engine


def provide_limiter(state: State) -> anyio.CapacityLimiter:
    """Bounds how many model calls run at once (they share the CPU cores)."""
    limiter: anyio.CapacityLimiter = state.limiter
    return limiter


def document_out(doc: DocumentRecord, engine: Engine, *, with_claims: bool = True) -> DocumentOut:
    """API view of a stored document."""
    claims = (
        [
            ClaimOut(id=c.id, text=c.text, start=c.start, end=c.end)
            for c in engine.store.claims_of(doc.id)
        ]
        if with_claims
        else []
    )
    return DocumentOut(
        id=doc.id,
        title=doc.title,
        text=doc.text,
        url=doc.url,
        source=doc.source,
        published_at=doc.published_at,
        language=doc.language,
        metadata=doc.metadata,
        status=doc.status,
        version=doc.version,
        created_at=doc.created_at,
        updated_at=doc.updated_at,
        claims=claims,
        retraction_reason=doc.retraction_reason,
    )


class DocumentController(Controller):
    """Ingest, read, list, retract and delete corpus documents."""

    path = "/v1/documents"
    tags = ("documents",)

    @post("/", status_code=HTTP_201_CREATED, summary="Ingest one document or a list")
    async def ingest(
        self,
        data: RequestBody[DocumentIn | list[DocumentIn]],
        engine: NamedDependency[Engine],
        limiter: NamedDependency[anyio.CapacityLimiter],
    ) -> IngestResponse:
        """Clean, split, embed and index documents.

        Re-sending unchanged content changes nothing; new content under an existing id
        replaces its claims atomically and keeps
        the old version for audit (status ``corrected``).
        """
        docs = data if isinstance(data, list) else [data]
        limit = engine.settings.max_documents_per_request
        if len(docs) > limit:
            raise InvalidInputError(
                f"at most {limit} documents per request, got {len(docs)}", field="body"
            )
        if not docs:
            raise InvalidInputError("the list of documents is empty", field="body")
        return await to_thread.run_sync(engine.ingest, docs, limiter=limiter)

    @get("/", summary="List documents")
    async def list_documents(
        self,
        engine: NamedDependency[Engine],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        source: FromQuery[str | None] = None,
    ) -> DocumentPage:
        """A page of documents, newest publication date first."""
        docs, total = await to_thread.run_sync(
            lambda: engine.store.list_documents(limit=limit, offset=offset, source=source)
        )
        items = [
            DocumentSummary(
                id=d.id,
                title=d.title,
                source=d.source,
                published_at=d.published_at,
                status=d.status,
                version=d.version,
                claims=d.claim_count,
            )
            for d in docs
        ]
        return DocumentPage(items=items, total=total, limit=limit, offset=offset)

    @get("/{doc_id:str}", summary="Get a document with its claims")
    async def get_document(
        self, doc_id: FromPath[str], engine: NamedDependency[Engine]
    ) -> DocumentOut:
        """The stored document, its status and its claims with offsets."""
        return await to_thread.run_sync(lambda: document_out(engine.document(doc_id), engine))

    @get("/{doc_id:str}/versions", summary="Earlier versions of a corrected document")
    async def versions(
        self, doc_id: FromPath[str], engine: NamedDependency[Engine]
    ) -> list[DocumentVersion]:
        """The audit trail: every replaced version, oldest first."""
        engine.document(doc_id)
        rows = await to_thread.run_sync(engine.store.versions, doc_id)
        return [
            DocumentVersion(
                version=v.version,
                title=v.title,
                text=v.text,
                published_at=v.published_at,
                replaced_at=v.replaced_at,
            )
            for v in rows
        ]

    @post("/{doc_id:str}/retract", status_code=HTTP_200_OK, summary="Retract a document")
    async def retract(
        self,
        doc_id: FromPath[str],
        data: RequestBody[RetractRequest],
        engine: NamedDependency[Engine],
    ) -> DocumentOut:
        """Keep the document for the record but never use it as evidence again."""
        doc = await to_thread.run_sync(engine.store.retract_document, doc_id, data.reason)
        return document_out(doc, engine, with_claims=False)

    @delete("/{doc_id:str}", summary="Delete a document")
    async def delete_document(self, doc_id: FromPath[str], engine: NamedDependency[Engine]) -> None:
        """Remove the document, its claims, vectors and versions."""
        engine.document(doc_id)
        await to_thread.run_sync(engine.store.delete_document, doc_id)


class CheckController(Controller):
    """Check statements against the corpus."""

    path = "/v1/check"
    tags = ("check",)

    @post("/", status_code=HTTP_200_OK, summary="Check one statement")
    async def check(
        self, data: RequestBody[CheckRequest], engine: NamedDependency[Engine]
    ) -> CheckResponse:
        """Retrieve the passages that support or contradict the statement and judge it.

        Concurrent checks share model calls; when too many are waiting the answer is 503
        with ``Retry-After``.
        """
        (future,) = engine.submit([data])
        return await asyncio.wrap_future(future)

    @post("/batch", status_code=HTTP_200_OK, summary="Check a batch of statements")
    async def check_batch(
        self, data: RequestBody[BatchRequest], engine: NamedDependency[Engine]
    ) -> BatchResponse:
        """Check up to ``max_batch_items`` statements; results in input order.

        Each result is exactly what ``/v1/check`` returns for the item, or the item's
        error (a bad item never fails the batch). A full queue answers 503 with
        ``Retry-After`` and checks nothing.
        """
        limit = engine.settings.max_batch_items
        if len(data.items) > limit:
            raise InvalidInputError(
                f"at most {limit} items per batch, got {len(data.items)}", field="items"
            )
        return await check_batch(engine, data.items)

    @post(
        "/stream",
        status_code=HTTP_200_OK,
        summary="Check a stream of statements (NDJSON in, NDJSON out)",
        request_max_body_size=None,
    )
    async def check_stream(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine]
    ) -> DuplexStream:
        """Send one `BatchItem` per line; receive one `ItemResult` per non-blank line.

        Results come in input order, each written as soon as it is ready. A line that is
        not a valid item gets an error line and the stream goes on; blank lines are
        skipped. The body has no size limit (each line has one), so a job of any size
        streams through in constant memory.
        """
        settings = engine.settings
        lines = check_stream(
            engine,
            request.stream(),
            window=settings.stream_window,
            max_line_bytes=settings.max_line_bytes,
        )
        return DuplexStream(iterator=lines, media_type="application/x-ndjson")


@post("/v1/split", status_code=HTTP_200_OK, tags=["check"], summary="Split a draft into sentences")
async def split(data: RequestBody[SplitRequest]) -> SplitResponse:
    """Every sentence of the draft with its offsets, as the panel checks them one by one.

    The service's own splitter, without the boilerplate cleaning that ingest applies.
    """
    spans = await to_thread.run_sync(statement_spans, data.text)
    return SplitResponse(sentences=[Sentence(start=s.start, end=s.end, text=s.text) for s in spans])


def feedback_out(record: FeedbackRecord) -> FeedbackOut:
    """API view of a stored judgement."""
    return msgspec.convert(record, FeedbackOut, from_attributes=True)


class FeedbackController(Controller):
    """Editors' judgements on evidence links: the labelled set of ``factcheck eval``."""

    path = "/v1/feedback"
    tags = ("feedback",)

    @post("/", status_code=HTTP_201_CREATED, summary="Accept or reject an evidence link")
    async def add(
        self, data: RequestBody[FeedbackRequest], engine: NamedDependency[Engine]
    ) -> FeedbackOut:
        """Store the judgement durably, with the passage as it reads now."""
        record = await to_thread.run_sync(record_feedback, engine.store, data)
        return feedback_out(record)

    @get("/", summary="List judgements")
    async def list_feedback(
        self,
        engine: NamedDependency[Engine],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> FeedbackPage:
        """A page of judgements, newest first."""
        records, total = await to_thread.run_sync(
            lambda: engine.store.list_feedback(limit=limit, offset=offset)
        )
        return FeedbackPage(
            items=[feedback_out(r) for r in records], total=total, limit=limit, offset=offset
        )


@get("/health/live", tags=["health"], summary="The process is up")
async def live() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@get("/health/ready", tags=["health"], summary="Models loaded and store reachable")
async def ready(state: State) -> Response[dict[str, Any]]:
    """200 once the lifespan has loaded the models and the store answers; 503 before."""
    engine: Engine | None = getattr(state, "engine", None)
    if engine is None:
        return Response({"status": "starting"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    try:
        claims = await to_thread.run_sync(engine.store.count_claims)
    except Exception as exc:  # any store failure means not ready, never a 500
        return Response(
            {"status": "store unavailable", "detail": str(exc)},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response(
        {"status": "ready", "claims": claims, "index_version": engine.store.index_version()}
    )
