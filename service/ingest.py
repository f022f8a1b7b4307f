"""Ingest pipeline: document → clean → split → embed + annotate → index.

Each document is committed in one transaction with its claims, their vectors and their
annotations (service/judge/annotate.py: spaCy's parse, read once here so that a check
parses only its statement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

import numpy as np

from service.embed import Vectors
from service.judge.annotate import ANNOTATION_VERSION, annotate_many
from service.judge.annotate import encode as encode_annotation
from service.schemas import DocumentIn, DroppedLine, IngestResult, parse_date
from service.split import Split, split_document
from service.store import DocumentRecord, Store

_REANNOTATE_BATCH = 512  # claims per spaCy pass and per write transaction


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
    (and length-sorts) across documents instead of running one small batch per document;
    they are annotated in one spaCy pass likewise, their times resolved against their
    document's publication date.
    """
    results: list[IngestResult | None] = []
    pending: list[tuple[int, DocumentRecord, Split]] = []
    for doc in docs:
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
        split = split_document(doc.text, title=doc.title, language=doc.language, layout=doc.layout)
        pending.append((len(results), record, split))
        results.append(None)
    texts = [c.text for _, _, split in pending for c in split.claims]
    vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    annotations = [
        encode_annotation(a)
        for a in annotate_many(
            [(c.text, record.published_date) for _, record, split in pending for c in split.claims]
        )
    ]
    offset = 0
    for position, record, split in pending:
        count = len(split.claims)
        status, stored = store.put_document(
            record,
            split.claims,
            vectors[offset : offset + count],
            annotations[offset : offset + count],
            ANNOTATION_VERSION,
        )
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
