"""The store protocol: what the pipeline needs from any store (SQLite file, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from service.errors import ModelMismatchError
from service.split import Claim

Vectors = npt.NDArray[np.float32]
PutStatus = Literal["created", "unchanged", "replaced"]


class EmbeddingInfo(msgspec.Struct, frozen=True):
    """The embedding model a store's vectors come from. Two models never mix."""

    model: str
    dimension: int
    normalized: bool = True


def model_mismatch(
    store: str, stored: EmbeddingInfo, configured: EmbeddingInfo
) -> ModelMismatchError:
    """The error for opening ``store`` (as shown to people) with another embedding model."""
    return ModelMismatchError(
        f"store {store} was built with embedding model {stored.model!r} "
        f"(dimension {stored.dimension}); the configured model is {configured.model!r} "
        f"(dimension {configured.dimension}). Run `factcheck reindex --store {store}` "
        "to re-embed it, or configure the original model."
    )


class DocumentRecord(msgspec.Struct, kw_only=True):
    """A stored document."""

    id: str
    title: str
    text: str
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    published_date: dt.date | None = None
    language: str = "en"
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    content_hash: str
    status: Literal["active", "corrected", "retracted"] = "active"
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    retraction_reason: str | None = None
    claim_count: int = 0


class ClaimRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored claim with its document id."""

    id: int
    document_id: str
    seq: int
    text: str
    start: int
    end: int
    context: str
    # The claim's annotation (service/judge/annotate.py) as stored: msgspec JSON, or None
    # for a claim stored without one. The JSON carries its version; readers check it.
    annotation: bytes | None = None


class StaleClaim(msgspec.Struct, frozen=True):
    """A claim to (re-)annotate: its id, text and its document's publication date."""

    id: int
    text: str
    published_date: dt.date | None


class VersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An earlier version of a document, kept when it was replaced."""

    version: int
    title: str
    text: str
    published_at: str | None
    replaced_at: str


class FeedbackRecord(msgspec.Struct, kw_only=True):
    """An editor's judgement on one evidence link; kept even when the claim is replaced."""

    statement: str
    claim_id: int
    document_id: str
    evidence_text: str  # the claim as it read when judged: claim ids die with their document
    judgement: Literal["accept", "reject"]
    stance: Literal["supports", "neutral", "contradicts"] | None = None
    editor_id: str | None = None
    comment: str = ""
    id: int = 0  # assigned by the store
    created_at: str = ""  # assigned by the store


# The stored columns of a FeedbackRecord (id is assigned by the store).
FEEDBACK_COLUMNS = (
    "statement, claim_id, document_id, evidence_text, judgement, stance, editor_id, comment, "
    "created_at"
)


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A request sent with an ``Idempotency-Key``: claimed by one caller, then its response."""

    scope: str  # whose key it is (the API key's name, "" without keys): callers never collide
    key: str
    request_hash: str  # of the canonical request body
    token: str  # the current claim's owner; a takeover gives the key another
    status: int | None = None  # None while the owner is still working
    body: bytes = b""


class SearchFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Restrictions on which claims may be returned as evidence."""

    sources: tuple[str, ...] | None = None
    document_ids: tuple[str, ...] | None = None
    published_after: dt.date | None = None
    published_before: dt.date | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is restricted."""
        return not (
            self.sources or self.document_ids or self.published_after or self.published_before
        )


class Store(Protocol):
    """Documents, claims, their vectors and two searches over them.

    Retracted documents are kept but never returned by a search. Every change bumps
    ``index_version`` so that results can be tied to the corpus they came from.
    """

    embedding: EmbeddingInfo

    def index_version(self) -> str:
        """An opaque string that changes whenever the searchable corpus changes."""

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        """The document, or None."""

    def list_documents(
        self, *, limit: int, offset: int, source: str | None = None
    ) -> tuple[list[DocumentRecord], int]:
        """A page of documents (newest first) and the total count."""

    def put_document(
        self,
        doc: DocumentRecord,
        claims: Sequence[Claim],
        vectors: Vectors,
        annotations: Sequence[bytes] | None = None,
        annotation_version: int = 0,
    ) -> tuple[PutStatus, DocumentRecord]:
        """Insert or atomically replace a document with its claims, vectors and annotations.

        A new version of a retracted document stays retracted, with its reason.
        ``annotations`` (one per claim, made with ``annotation_version``) may be None: the
        claims are then stored unannotated (version 0) until ``set_annotations``.
        """

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document, its claims and versions; False if it did not exist."""

    def retract_document(self, doc_id: str, reason: str) -> DocumentRecord:
        """Mark a document retracted: kept, never used as evidence."""

    def unretract_document(self, doc_id: str) -> DocumentRecord:
        """Undo a retraction: the document is evidence again (a no-op if not retracted)."""

    def versions(self, doc_id: str) -> list[VersionRecord]:
        """Earlier versions of a document, oldest first."""

    def claims_of(self, doc_id: str) -> list[ClaimRecord]:
        """The document's claims in text order."""

    def search_vector(self, query: Vectors, k: int, flt: SearchFilter) -> list[tuple[int, float]]:
        """Claim ids and cosines of the ``k`` nearest claims that pass ``flt``."""

    def search_text(self, query: str, k: int, flt: SearchFilter) -> list[tuple[int, float]]:
        """Claim ids and BM25 scores (higher is better) of the best lexical matches."""

    def fetch(
        self, claim_ids: Sequence[int]
    ) -> dict[int, tuple[ClaimRecord, DocumentRecord, Vectors]]:
        """Claims with their document and vector, by id."""

    def count_claims(self) -> int:
        """How many searchable claims the store holds."""

    def stale_annotations(self, version: int, limit: int) -> list[StaleClaim]:
        """Up to ``limit`` claims whose annotation is not of ``version``, by id."""

    def set_annotations(self, version: int, annotations: Sequence[tuple[int, bytes]]) -> None:
        """Store (claim id, annotation) pairs made with ``version``; search is unaffected."""

    def reembed(self, embedding: EmbeddingInfo, encode: Any, batch_size: int = 256) -> int:
        """Re-embed every claim with a new model (``encode(texts) -> vectors``); count them."""

    def add_feedback(self, record: FeedbackRecord) -> FeedbackRecord:
        """Store an editor's judgement durably; returns it with its id and time."""

    def list_feedback(self, *, limit: int, offset: int) -> tuple[list[FeedbackRecord], int]:
        """A page of judgements (newest first) and the total count."""

    def claim_idempotency_key(
        self, claim: IdempotencyRecord, ttl_s: float, lease_s: float
    ) -> IdempotencyRecord:
        """Claim ``claim.key`` for ``claim.token`` atomically, or return whoever holds it.

        One insert under the (scope, key) unique constraint decides between concurrent
        claims. Keys older than ``ttl_s`` are deleted first (all of them: expiry is lazy),
        and a claim still unfinished after ``lease_s`` is taken over. The caller owns the
        key when the record returned carries its token and no status.
        """

    def finish_idempotency_key(self, claim: IdempotencyRecord, status: int, body: bytes) -> None:
        """Store the response of an owned claim (nothing if it was taken over meanwhile)."""

    def release_idempotency_key(self, claim: IdempotencyRecord) -> None:
        """Drop an owned, unfinished claim (its request failed), so a retry runs anew."""

    def renew_idempotency_key(self, claim: IdempotencyRecord) -> bool:
        """Restart the lease of an owned, unfinished claim (its work still runs).

        False when the claim is no longer the caller's (taken over, or finished).
        """

    def close(self) -> None:
        """Release connections."""
