"""Ingest pipeline: document → clean → split → embed + annotate → index.

Each document is committed in one transaction with its claims, their vectors and their
annotations (service/judge/annotate.py: spaCy's parse, read once here so that a check
parses only its statement).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import numpy as np

from service.embed import Vectors
from service.errors import FactCheckError
from service.html import extract
from service.judge.annotate import ANNOTATION_VERSION, annotate_many
from service.judge.annotate import encode as encode_annotation
from service.language import ENGLISH, detect
from service.schemas import (
    MAX_TITLE_CHARS,
    DocumentIn,
    DroppedLine,
    IngestResult,
    ItemError,
    parse_date,
)
from service.split import Split, split_document
from service.store import DocumentRecord, Store
from service.telemetry import error_log

NO_ARTICLE = "no article text in the HTML"
_REANNOTATE_BATCH = 512  # claims per spaCy pass and per write transaction
_ANNOTATOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ingest-annotate")


def content_hash(doc: DocumentIn) -> str:
    """A hash of everything a client sent; equal hashes mean re-sending changes nothing.

    Fields added to the API later enter it only when they differ from their defaults, so
    documents stored before them keep their hashes ("en" was the language's default).
    """
    fields: list[Any] = [
        doc.title,
        doc.text,
        doc.url,
        doc.source,
        doc.published_at,
        doc.language or "en",
        doc.metadata,
        doc.layout,
    ]
    if doc.format != "text":
        fields.append(doc.format)
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def prepare(doc: DocumentIn) -> DocumentIn:
    """The document as stored: article text out of HTML, and its language.

    The request's own fields win over what the page says about itself. A page with no
    article text becomes a document without text (and so without claims).
    """
    if doc.format == "html":
        page = extract(doc.text)
        metadata = {"author": page.author} if page.author else {}
        doc = msgspec.structs.replace(
            doc,
            text=page.text,
            title=doc.title or (page.title or "")[:MAX_TITLE_CHARS],
            url=doc.url or page.url,
            published_at=doc.published_at or page.published_at,
            metadata={**metadata, **doc.metadata},
            format="text",
        )
    if doc.language is None and doc.text.strip():
        doc = msgspec.structs.replace(doc, language=detect(doc.text))
    return doc


def document_id(doc: DocumentIn) -> str:
    """The caller's id, or one derived from the text (stable across re-sends)."""
    return doc.id or "doc-" + hashlib.sha256(doc.text.encode()).hexdigest()[:16]


def to_record(sent: DocumentIn, doc: DocumentIn) -> DocumentRecord:
    """The store record of a document as ``sent`` and ``prepare``-d (before its claims)."""
    return DocumentRecord(
        id=document_id(sent),
        title=doc.title,
        text=doc.text,
        url=doc.url,
        source=doc.source,
        published_at=doc.published_at,
        published_date=parse_date(doc.published_at, "published_at") if doc.published_at else None,
        language=doc.language or ENGLISH,
        metadata=doc.metadata,
        content_hash=content_hash(sent),
    )


def ingest(
    store: Store,
    encode: Callable[[Sequence[str]], Vectors],
    docs: Sequence[DocumentIn],
) -> list[IngestResult]:
    """Ingest documents; each is committed in its own transaction, in request order.

    Unchanged documents (same id, same content) are recognised before any model call.
    The claims of all changed documents are embedded in one call: the encoder batches
    (and length-sorts) across documents instead of running one small batch per document;
    they are annotated in one spaCy pass likewise, their times resolved against their
    document's publication date. A document whose own input makes cleaning, splitting or
    its write raise (a bug) is ``failed`` with the error, logged once; the others are
    ingested as usual. The service's own errors (a store failure, a cancelled request)
    fail the request.
    """
    results: list[IngestResult | None] = []
    pending: list[tuple[int, DocumentRecord, Split, list[DroppedLine]]] = []
    for sent in docs:
        try:
            existing = store.get_document(document_id(sent))
            if existing is not None and existing.content_hash == content_hash(sent):
                retracted = existing.status == "retracted"
                results.append(
                    IngestResult(
                        id=existing.id,
                        status="retracted" if retracted else "unchanged",
                        version=existing.version,
                        claims=existing.claim_count,
                        retracted=retracted,
                    )
                )
                continue
            doc = prepare(sent)
            split = split_document(
                doc.text, title=doc.title, language=doc.language or ENGLISH, layout=doc.layout
            )
            dropped = [
                DroppedLine(start=s.start, end=s.end, text=s.text, reason=why)
                for s, why in split.dropped
            ]
            if sent.format == "html" and not doc.text:
                dropped.append(DroppedLine(start=0, end=0, text="", reason=NO_ARTICLE))
            record = to_record(sent, doc)
        except FactCheckError:
            raise
        except Exception as exc:  # this document's own failure
            results.append(_failed(document_id(sent), exc))
            continue
        pending.append((len(results), record, split, dropped))
        results.append(None)
    texts = [c.text for _, _, split, _ in pending for c in split.claims]
    # spaCy annotates while the encoder embeds: both spend most of their time outside
    # the GIL (bench/ingest.py measures the overlap)
    stop = threading.Event()
    annotated = _ANNOTATOR.submit(
        annotate_many,
        [(c.text, record.published_date) for _, record, split, _ in pending for c in split.claims],
        stop,
    )
    try:
        vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    except BaseException:
        stop.set()  # a cancelled ingest leaves its annotation undone too
        raise
    annotations = [encode_annotation(a) for a in annotated.result()]
    offset = 0
    for position, record, split, dropped in pending:
        count = len(split.claims)
        try:
            status, stored = store.put_document(
                record,
                split.claims,
                vectors[offset : offset + count],
                annotations[offset : offset + count],
                ANNOTATION_VERSION,
            )
        except FactCheckError:
            raise
        except Exception as exc:  # this document's own failure (its transaction rolled back)
            results[position] = _failed(record.id, exc)
            continue
        finally:
            offset += count
        retracted = stored.status == "retracted"
        results[position] = IngestResult(
            id=stored.id,
            # the same content stored meanwhile by another writer
            status="retracted" if retracted and status == "unchanged" else status,
            version=stored.version,
            claims=stored.claim_count,
            dropped=dropped,
            retracted=retracted,
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


def reannotate(store: Store) -> int:
    """Annotate the claims whose stored annotation is missing or of another version.

    Claims stored before annotations existed, or by an older ANNOTATION_VERSION; run by
    ``factcheck reindex``. Returns how many claims were annotated.
    """
    count = 0
    while stale := store.stale_annotations(ANNOTATION_VERSION, _REANNOTATE_BATCH):
        found = annotate_many([(c.text, c.published_date) for c in stale])
        store.set_annotations(
            ANNOTATION_VERSION,
            [(c.id, encode_annotation(a)) for c, a in zip(stale, found, strict=True)],
        )
        count += len(stale)
    return count
