"""HTTP layer: the versioned routes.

Handlers validate, hand work to the engine off the event loop, and shape responses; they
hold no pipeline logic of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Annotated, Any
from urllib.parse import unquote

import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import (
    Body,
    FromQuery,
    HeaderParameter,
    PathParameter,
    QueryParameter,
    RequestBody,
)
from litestar.response.streaming import ASGIStreamingResponse
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import Receive, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from service import idempotency
from service.auth import WRITER_OPT, caller_key, client_identity
from service.batch import check_batch, check_stream
from service.bodies import STREAM_MEDIA_TYPES, require_media_type
from service.engine import Engine
from service.errors import InvalidInputError, OverloadedError
from service.feedback import record_feedback
from service.lifecycle import wait_for_engine
from service.metrics import CORPUS_CLAIMS, CORPUS_DOCUMENTS
from service.runner import ModelRunner, Work
from service.schemas import (
    EXAMPLE_DOC,
    EXAMPLE_STATEMENT,
    BatchRequest,
    BatchResponse,
    CheckRequest,
    CheckResponse,
    ClaimOut,
    DocumentBatch,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    DocumentSummary,
    DocumentVersion,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequest,
    Health,
    IdempotencyKey,
    IngestResponse,
    Problem,
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
    which would swallow the body chunks the handler has yet to read; here the stream's
    own pump reads every message, body and disconnect (``service.batch.check_stream``).
    """

    __slots__ = ()

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Send each chunk as it comes, then the end of the body."""
        async for chunk in self.iterator:
            body = chunk if isinstance(chunk, bytes) else chunk.encode(self.encoding)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


log = logging.getLogger("factcheck.api")
WRITER = {WRITER_OPT: True}  # only writer keys may call these routes (when keys are on)

_PROBLEMS = {
    400: "The body is not JSON (or not UTF-8, or nested too deep) or does not match the schema.",
    401: "No API key, or an unknown one (only when keys are configured).",
    403: "A reader key on a route that changes the corpus.",
    404: "No such document.",
    413: "The body is larger than the configured limit.",
    415: "The body is not `application/json` (the stream: `application/x-ndjson`).",
    422: "Well-formed, but over a configured limit (statement length, top_k, batch size), "
    "or an `Idempotency-Key` reused with another body.",
    429: "Over this key's rate limit, or this caller (or stream) holds its share of the "
    "check queue; retry after `Retry-After` seconds. `limit` names the limit.",
    503: "Starting, overloaded, past the model-call deadline, or the store failed; "
    "retry after `Retry-After` seconds. `limit` names the limit when one was hit.",
}


HEALTH_503 = {
    503: ResponseSpec(
        data_container=Health,
        description="Not (or no longer) ready: starting, draining, failed, or store unavailable.",
        examples=[Example(summary="Models still loading", value={"status": "starting"})],
    )
}


# Whole request bodies for the docs page: the schema's field examples composed into one
# body would set every filter at once, and the demo corpus has no passage that passes them.
CHECK_EXAMPLES = [
    Example(summary="A statement", value={"statement": EXAMPLE_STATEMENT}),
    Example(
        summary="Judged against two reports, as of a date",
        value={
            "statement": EXAMPLE_STATEMENT,
            "top_k": 3,
            "document_ids": ["seed-003", "seed-004"],
            "as_of": "2023-03-17",
        },
    ),
]


def problems(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for a route's problem+json answers: ``codes`` and 401, 429, 503."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            media_type="application/problem+json",
            description=_PROBLEMS[code],
            generate_examples=False,
        )
        for code in sorted({*codes, 401, 429, 503})
    }


async def provide_engine(state: State) -> Engine:
    """The engine loaded by the lifespan (waiting a bounded time for it during start-up)."""
    return await wait_for_engine(state)


def provide_runner(state: State) -> ModelRunner:
    """Runs model calls off the event loop, bounded in number and in time."""
    runner: ModelRunner = state.runner
    return runner


def path_id(doc_id: str) -> str:
    """The document id of a ``/v1/documents/{doc_id}`` path, which arrives still encoded.

    The router sees the id segment percent-encoded (``app.keep_encoded_ids``), so that an
    id with a slash stays one segment; decoded here.
    """
    return unquote(doc_id)


DOC_ID_DESCRIPTION = (
    "The document id, percent-encoded as one path segment (`/` as `%2F`, space as `%20`)."
)
DocIdParam = Annotated[
    str, PathParameter(description=DOC_ID_DESCRIPTION, examples=[Example(value=EXAMPLE_DOC)])
]


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

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Ingest one document or a list",
        opt=WRITER,
        responses=problems(400, 403, 413, 422, 415),
    )
    async def ingest(
        self,
        request: Request[Any, Any, Any],
        data: RequestBody[DocumentIn | DocumentBatch],
        engine: NamedDependency[Engine],
        runner: NamedDependency[ModelRunner],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name=idempotency.HEADER,
                required=False,
                description=(
                    "Makes a retry safe: the same key with the same body answers the first "
                    "response again and writes nothing more; the same key with another body "
                    "is a 422. Keys are per API key and expire after `idempotency_ttl_s` "
                    "(24 h by default)."
                ),
                # Documented here, checked by the handler (a bad key is a 422 naming it);
                # a header is a string or absent, never null.
                schema_extra={**msgspec.json.schema(IdempotencyKey), "oneOf": None},
            ),
        ] = None,
    ) -> Response[IngestResponse]:
        """Clean, split, embed and index documents.

        Re-sending unchanged content changes nothing; new content under an existing id
        replaces its claims atomically and keeps the old version for audit (status
        ``corrected``). With an ``Idempotency-Key`` a retried request is answered with
        the first response (see the header).
        """
        key = None if idempotency_key is None else idempotency.parse_key(idempotency_key)
        docs = data if isinstance(data, list) else [data]
        if not docs:  # nothing to do: acknowledged, and the corpus is unchanged
            empty = IngestResponse(documents=[], index_version=engine.store.index_version())
            return Response(empty, status_code=HTTP_201_CREATED)
        settings = engine.settings
        if len(docs) > settings.max_documents_per_request:
            raise InvalidInputError(
                f"at most {settings.max_documents_per_request} documents per request, "
                f"got {len(docs)}",
                field="body",
            )
        work = Work()  # stops at a model call once the deadline has answered 503
        if key is None:
            result = await runner.run(engine.ingest, docs, work, work=work)
        else:
            claim = await idempotency.claim(
                engine.store,
                caller_key(request) or "",
                key,
                idempotency.request_hash(data),
                ttl_s=settings.idempotency_ttl_s,
                lease_s=settings.request_timeout_s,
            )
            if claim.status is not None:  # a retry: the first response again
                replay = msgspec.json.decode(claim.body, type=IngestResponse)
                return Response(replay, status_code=claim.status)
            result = await runner.run(
                idempotency.run_claimed,
                engine.store,
                claim,
                HTTP_201_CREATED,
                lambda: engine.ingest(docs, work),
                work,
                settings.request_timeout_s,
                work=work,
            )
        statuses = Counter(d.status for d in result.documents)
        log.info("ingested %d documents", len(docs), extra={"statuses": dict(statuses)})
        return Response(result, status_code=HTTP_201_CREATED)

    @get("/", summary="List documents", responses=problems(400))
    async def list_documents(
        self,
        engine: NamedDependency[Engine],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000_000)] = 0,
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

    @get("/{doc_id:str}", summary="Get a document with its claims", responses=problems(404))
    async def get_document(
        self, doc_id: DocIdParam, engine: NamedDependency[Engine]
    ) -> DocumentOut:
        """The stored document, its status and its claims with offsets."""
        key = path_id(doc_id)
        return await to_thread.run_sync(lambda: document_out(engine.document(key), engine))

    @get(
        "/{doc_id:str}/versions",
        summary="Earlier versions of a corrected document",
        responses=problems(404),
    )
    async def versions(
        self, doc_id: DocIdParam, engine: NamedDependency[Engine]
    ) -> list[DocumentVersion]:
        """The audit trail: every replaced version, oldest first."""
        key = path_id(doc_id)
        engine.document(key)
        rows = await to_thread.run_sync(engine.store.versions, key)
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

    @post(
        "/{doc_id:str}/retract",
        status_code=HTTP_200_OK,
        summary="Retract a document",
        opt=WRITER,
        responses=problems(400, 403, 404, 413, 415),
    )
    async def retract(
        self,
        doc_id: DocIdParam,
        data: RequestBody[RetractRequest],
        engine: NamedDependency[Engine],
    ) -> DocumentOut:
        """Keep the document for the record but never use it as evidence again.

        Re-sending its content does not bring it back (the ingest result says
        ``retracted``); ``POST /v1/documents/{doc_id}/unretract`` does.
        """
        doc = await to_thread.run_sync(engine.store.retract_document, path_id(doc_id), data.reason)
        return document_out(doc, engine, with_claims=False)

    @post(
        "/{doc_id:str}/unretract",
        status_code=HTTP_200_OK,
        summary="Undo a retraction",
        opt=WRITER,
        responses=problems(403, 404),
    )
    async def unretract(self, doc_id: DocIdParam, engine: NamedDependency[Engine]) -> DocumentOut:
        """Use a retracted document as evidence again, with its status before the retraction.

        A document that is not retracted is left as it is (a retried call is harmless).
        """
        doc = await to_thread.run_sync(engine.store.unretract_document, path_id(doc_id))
        return document_out(doc, engine, with_claims=False)

    @delete("/{doc_id:str}", summary="Delete a document", opt=WRITER, responses=problems(403, 404))
    async def delete_document(self, doc_id: DocIdParam, engine: NamedDependency[Engine]) -> None:
        """Remove the document, its claims, vectors and versions."""
        key = path_id(doc_id)
        engine.document(key)
        await to_thread.run_sync(engine.store.delete_document, key)


class CheckController(Controller):
    """Check statements against the corpus."""

    path = "/v1/check"
    tags = ("check",)

    @post(
        "/",
        status_code=HTTP_200_OK,
        summary="Check one statement",
        responses=problems(400, 413, 422, 415),
    )
    async def check(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[CheckRequest, Body(examples=CHECK_EXAMPLES)],
        engine: NamedDependency[Engine],
    ) -> CheckResponse:
        """Retrieve the passages that support or contradict the statement and judge it.

        Concurrent checks share model calls; when too many are waiting the answer is 503
        (429 when it is this caller that has too many waiting) with ``Retry-After``.
        """
        (future,) = engine.submit([data], caller=client_identity(request), single=True)
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(future), timeout=engine.settings.request_timeout_s
            )
        except TimeoutError:
            raise OverloadedError(
                f"the check did not finish within {engine.settings.request_timeout_s:g} s",
                retry_after=2,
                limit="deadline",
            ) from None

    @post(
        "/batch",
        status_code=HTTP_200_OK,
        summary="Check a batch of statements",
        responses=problems(400, 413, 422, 415),
    )
    async def check_batch(
        self,
        request: Request[Any, Any, Any],
        data: RequestBody[BatchRequest],
        engine: NamedDependency[Engine],
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
        return await check_batch(engine, data.items, caller=client_identity(request))

    @post(
        "/stream",
        status_code=HTTP_200_OK,
        summary="Check a stream of statements (NDJSON in, NDJSON out)",
        request_max_body_size=None,
        responses=problems(400, 415),
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
        require_media_type(request, STREAM_MEDIA_TYPES)
        settings = engine.settings
        lines = check_stream(
            engine,
            request.receive,
            caller=client_identity(request),
            window=settings.stream_window,
            max_line_bytes=settings.max_line_bytes,
            max_depth=settings.max_json_depth,
        )
        return DuplexStream(iterator=lines, media_type="application/x-ndjson")


@post(
    "/v1/split",
    status_code=HTTP_200_OK,
    tags=["check"],
    summary="Split a draft into sentences",
    responses=problems(400, 413, 415),
)
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

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Accept or reject an evidence link",
        responses=problems(400, 404, 413, 415),
    )
    async def add(
        self, data: RequestBody[FeedbackRequest], engine: NamedDependency[Engine]
    ) -> FeedbackOut:
        """Store the judgement durably, with the passage as it reads now.

        Any key may send one, a reader key included: a judgement never changes the corpus,
        and the panel embedded in a CMS page should carry a reader key only.
        """
        record = await to_thread.run_sync(record_feedback, engine.store, data)
        return feedback_out(record)

    @get("/", summary="List judgements", responses=problems(400))
    async def list_feedback(
        self,
        engine: NamedDependency[Engine],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000_000)] = 0,
    ) -> FeedbackPage:
        """A page of judgements, newest first."""
        records, total = await to_thread.run_sync(
            lambda: engine.store.list_feedback(limit=limit, offset=offset)
        )
        return FeedbackPage(
            items=[feedback_out(r) for r in records], total=total, limit=limit, offset=offset
        )


@get("/health/live", tags=["health"], summary="The process is up", responses=HEALTH_503)
async def live(state: State) -> Response[Health]:
    """200 while the process serves requests; 503 if start-up failed (restart it)."""
    error = getattr(state, "startup_error", None)
    if error:
        return Response(Health(status="failed", detail=error), status_code=503)
    return Response(Health(status="ok"))


@get(
    "/health/ready",
    tags=["health"],
    summary="Models loaded and store reachable",
    responses=HEALTH_503,
)
async def ready(state: State) -> Response[Health]:
    """200 once the models are loaded and the store answers; 503 before, and while draining."""
    engine: Engine | None = getattr(state, "engine", None)
    unavailable = HTTP_503_SERVICE_UNAVAILABLE
    if getattr(state, "draining", False):
        return Response(Health(status="draining"), status_code=unavailable)
    if engine is None:
        error = getattr(state, "startup_error", None)
        body = Health(status="failed", detail=error) if error else Health(status="starting")
        return Response(body, status_code=unavailable)
    try:
        claims = await to_thread.run_sync(engine.store.count_claims)
    except Exception as exc:  # any store failure means not ready, never a 500
        return Response(
            Health(status="store unavailable", detail=str(exc)), status_code=unavailable
        )
    return Response(
        Health(status="ready", claims=claims, index_version=engine.store.index_version())
    )


@get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics",
    media_type=CONTENT_TYPE_LATEST,
    responses=problems(),
)
async def metrics(state: State) -> Response[bytes]:
    """The default registry in the Prometheus text format, corpus size read at scrape time."""
    engine = getattr(state, "engine", None)
    if engine is not None:
        _, documents = await to_thread.run_sync(
            lambda: engine.store.list_documents(limit=1, offset=0)
        )
        CORPUS_DOCUMENTS.set(documents)
        CORPUS_CLAIMS.set(await to_thread.run_sync(engine.store.count_claims))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
