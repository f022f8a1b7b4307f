"""Ingest pipeline: document → clean → split → embed → index (one transaction per document)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

import numpy as np

from service.embed import Vectors
from service.errors import FactCheckError
from service.schemas import DocumentIn, DroppedLine, IngestResult, ItemError, parse_date
from service.split import Split, split_document
from service.store import DocumentRecord, Store
from service.telemetry import error_log


def content_hash(doc: DocumentIn) -> str:
    """A hash of everything a client sent; equal hashes mean re-sending changes nothing."""
    payload = json.dumps(
        [
            doc.title,
            doc.text,
            doc.url,
            doc.source,
            doc.published_at,
            doc.language,
            doc.metadata,
            doc.layout,
        ],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def document_id(doc: DocumentIn) -> str:
    """The caller's id, or one derived from the text (stable across re-sends)."""
    return doc.id or "doc-" + hashlib.sha256(doc.text.encode()).hexdigest()[:16]


def to_record(doc: DocumentIn) -> DocumentRecord:
    """The store record for an incoming document (before claims are attached)."""
    return DocumentRecord(
        id=document_id(doc),
        title=doc.title,
        text=doc.text,
        url=doc.url,
        source=doc.source,
        published_at=doc.published_at,
        published_date=parse_date(doc.published_at, "published_at") if doc.published_at else None,
        language=doc.language,
        metadata=doc.metadata,
        content_hash=content_hash(doc),
    )


def ingest(
    store: Store,
    encode: Callable[[Sequence[str]], Vectors],
    docs: Sequence[DocumentIn],
) -> list[IngestResult]:
    """Ingest documents; each is committed in its own transaction, in request order.

    Unchanged documents (same id, same content) are recognised before any model call.
    The claims of all changed documents are embedded in one call: the encoder batches
    (and length-sorts) across documents instead of running one small batch per document.
    A document whose own input makes cleaning, splitting or its write raise (a bug) is
    ``failed`` with the error, logged once; the others are ingested as usual. The
    service's own errors (a store failure, a cancelled request) fail the request.
    """
    results: list[IngestResult | None] = []
    pending: list[tuple[int, DocumentRecord, Split]] = []
    for doc in docs:
        try:
            record = to_record(doc)
            existing = store.get_document(record.id)
            if existing is not None and existing.content_hash == record.content_hash:
                results.append(
                    IngestResult(
                        id=record.id,
                        status="unchanged",
                        version=existing.version,
                        claims=existing.claim_count,
                    )
                )
                continue
            split = split_document(
                doc.text, title=doc.title, language=doc.language, layout=doc.layout
            )
        except FactCheckError:
            raise
        except Exception as exc:  # this document's own failure
            results.append(_failed(document_id(doc), exc))
            continue
        pending.append((len(results), record, split))
        results.append(None)
    texts = [c.text for _, _, split in pending for c in split.claims]
    vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    offset = 0
    for position, record, split in pending:
        count = len(split.claims)
        try:
            status, stored = store.put_document(
                record, split.claims, vectors[offset : offset + count]
            )
        except FactCheckError:
            raise
        except Exception as exc:  # this document's own failure (its transaction rolled back)
            results[position] = _failed(record.id, exc)
            continue
        finally:
            offset += count
        results[position] = IngestResult(
            id=stored.id,
            status=status,
            version=stored.version,
            claims=stored.claim_count,
            dropped=[
                DroppedLine(start=s.start, end=s.end, text=s.text, reason=why)
                for s, why in split.dropped
            ],
        )
    return [r for r in results if r is not None]


def _failed(doc_id: str, exc: Exception) -> IngestResult:
    error_log.error("unhandled %s while ingesting a document", type(exc).__name__, exc_info=exc)
    return IngestResult(
        id=doc_id,
        status="failed",
        version=0,
        claims=0,
        error=ItemError(
            status=500,
            type="urn:factcheck:error:Internal",
            title="Internal Server Error",
            detail="internal error while ingesting this document; nothing of it was written",
        ),
    )
