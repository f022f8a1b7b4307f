"""HTTP layer: the versioned routes.

Handlers validate, hand work to the engine off the event loop, and shape responses; they
hold no pipeline logic of their own.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated, Any

from anyio import to_thread
from litestar import Controller, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter, RequestBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_503_SERVICE_UNAVAILABLE

from service.auth import WRITER_OPT
from service.engine import Engine
from service.errors import InvalidInputError
from service.lifecycle import wait_for_engine
from service.runner import ModelRunner
from service.schemas import (
    CheckRequest,
    CheckResponse,
    ClaimOut,
    DocumentIn,
    DocumentOut,
    DocumentPage,
    DocumentSummary,
    DocumentVersion,
    IngestResponse,
    RetractRequest,
)
from service.store import DocumentRecord

log = logging.getLogger("factcheck.api")
WRITER = {WRITER_OPT: True}  # only writer keys may call these routes (when keys are on)


async def provide_engine(state: State) -> Engine:
    """The engine loaded by the lifespan (waiting a bounded time for it during start-up)."""
    return await wait_for_engine(state)


def provide_runner(state: State) -> ModelRunner:
    """Runs model calls off the event loop, bounded in number and in time."""
    runner: ModelRunner = state.runner
    return runner


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

    @post("/", status_code=HTTP_201_CREATED, summary="Ingest one document or a list", opt=WRITER)
    async def ingest(
        self,
        data: RequestBody[DocumentIn | list[DocumentIn]],
        engine: NamedDependency[Engine],
        runner: NamedDependency[ModelRunner],
    ) -> IngestResponse:
        """Clean, split, embed and index documents.

        Re-sending unchanged content changes nothing; new content under an existing id
        replaces its claims atomically and keeps the old version for audit (status
        ``corrected``).
        """
        docs = data if isinstance(data, list) else [data]
        limit = engine.settings.max_documents_per_request
        if len(docs) > limit:
            raise InvalidInputError(
                f"at most {limit} documents per request, got {len(docs)}", field="body"
            )
        if not docs:
            raise InvalidInputError("the list of documents is empty", field="body")
        result = await runner.run(engine.ingest, docs)
        statuses = Counter(d.status for d in result.documents)
        log.info("ingested %d documents", len(docs), extra={"statuses": dict(statuses)})
        return result

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

    @post(
        "/{doc_id:str}/retract", status_code=HTTP_200_OK, summary="Retract a document", opt=WRITER
    )
    async def retract(
        self,
        doc_id: FromPath[str],
        data: RequestBody[RetractRequest],
        engine: NamedDependency[Engine],
    ) -> DocumentOut:
        """Keep the document for the record but never use it as evidence again."""
        doc = await to_thread.run_sync(engine.store.retract_document, doc_id, data.reason)
        return document_out(doc, engine, with_claims=False)

    @delete("/{doc_id:str}", summary="Delete a document", opt=WRITER)
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
        self,
        data: RequestBody[CheckRequest],
        engine: NamedDependency[Engine],
        runner: NamedDependency[ModelRunner],
    ) -> CheckResponse:
        """Retrieve the passages that support or contradict the statement and judge it."""
        limits = engine.settings
        if len(data.statement) > limits.max_statement_chars:
            raise InvalidInputError(
                f"`statement` is longer than {limits.max_statement_chars} characters",
                field="statement",
            )
        if data.top_k > limits.max_top_k:
            raise InvalidInputError(f"`top_k` is above {limits.max_top_k}", field="top_k")
        return await runner.run(engine.check, data)


@get("/health/live", tags=["health"], summary="The process is up")
async def live(state: State) -> Response[dict[str, Any]]:
    """200 while the process serves requests; 503 if start-up failed (restart it)."""
    error = getattr(state, "startup_error", None)
    if error:
        return Response({"status": "failed", "detail": error}, status_code=503)
    return Response({"status": "ok"})


@get("/health/ready", tags=["health"], summary="Models loaded and store reachable")
async def ready(state: State) -> Response[dict[str, Any]]:
    """200 once the models are loaded and the store answers; 503 before, and while draining."""
    engine: Engine | None = getattr(state, "engine", None)
    if getattr(state, "draining", False):
        return Response({"status": "draining"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    if engine is None:
        error = getattr(state, "startup_error", None)
        body = {"status": "failed", "detail": error} if error else {"status": "starting"}
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)
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
