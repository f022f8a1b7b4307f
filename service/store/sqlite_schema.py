"""The SQLite store's schema and the conversions between its rows and the store's records."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from service.store.base import ClaimRecord, DocumentRecord, EmbeddingInfo, SearchFilter
from service.store.lexical import query_words

FTS_TOKENIZE = "porter unicode61"  # claims_fts's tokenizer; tantivy indexes the same terms
LOAD_CHUNK = 50_000  # rows per fetch when reading every claim: no 1.5 GB of bytes at once

SCHEMA_VERSION = 2  # 2: claims.annotation and claims.annotation_version
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    url TEXT,
    source TEXT,
    published_at TEXT,
    published_date TEXT,
    language TEXT NOT NULL,
    metadata TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    retraction_reason TEXT
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published_date);
CREATE TABLE IF NOT EXISTS document_versions (
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published_at TEXT,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    context TEXT NOT NULL,
    embedding BLOB NOT NULL,
    annotation BLOB,  -- msgspec JSON (service/judge/annotate.py); NULL: not annotated
    annotation_version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS claims_document ON claims(document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS claims_fts USING fts5(
    text, content='claims', content_rowid='id', tokenize='{FTS_TOKENIZE}'
);
CREATE TRIGGER IF NOT EXISTS claims_ai AFTER INSERT ON claims BEGIN
    INSERT INTO claims_fts(rowid, text) VALUES (new.id, new.text);
END;
-- Editors' judgements on evidence links; no foreign key, so they outlive replaced claims.
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    statement TEXT NOT NULL,
    claim_id INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    evidence_text TEXT NOT NULL,
    judgement TEXT NOT NULL CHECK (judgement IN ('accept', 'reject')),
    stance TEXT,
    editor_id TEXT,
    comment TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS claims_ad AFTER DELETE ON claims BEGIN
    INSERT INTO claims_fts(claims_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
-- Idempotency-Key claims and the responses they replay (service/idempotency.py).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    token TEXT NOT NULL,
    status INTEGER,
    body BLOB NOT NULL DEFAULT x'',
    created_at REAL NOT NULL,  -- Unix time of the claim: its lease and the key's TTL
    PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys(created_at);
"""
DOC_COLUMNS = (
    "id, title, text, url, source, published_at, published_date, language, metadata, "
    "content_hash, status, version, created_at, updated_at, retraction_reason"
)


def now() -> str:
    """The current UTC time, as stored."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def doc_record(row: sqlite3.Row, claim_count: int = 0) -> DocumentRecord:
    """A ``documents`` row (its ``DOC_COLUMNS``) as a record."""
    return DocumentRecord(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        published_at=row["published_at"],
        published_date=dt.date.fromisoformat(row["published_date"])
        if row["published_date"]
        else None,
        language=row["language"],
        metadata=json.loads(row["metadata"]),
        content_hash=row["content_hash"],
        status=row["status"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        retraction_reason=row["retraction_reason"],
        claim_count=claim_count,
    )


def claim_record(row: sqlite3.Row) -> ClaimRecord:
    """A ``claims`` row as a record."""
    return ClaimRecord(
        id=row["id"],
        document_id=row["document_id"],
        seq=row["seq"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
        context=row["context"],
        annotation=row["annotation"],
    )


def fts_query(text: str, words: list[str] | None = None) -> str:
    """An FTS5 query that ORs the content words, each quoted (no syntax leaks)."""
    return " OR ".join(f'"{w}"' for w in (query_words(text) if words is None else words))


def info_dict(info: EmbeddingInfo) -> dict[str, Any]:
    """The embedding model as the ``meta`` table records it."""
    return {"model": info.model, "dimension": info.dimension, "normalized": info.normalized}


def filter_sql(flt: SearchFilter) -> tuple[str, list[Any]]:
    """A WHERE clause over ``documents d`` (retracted ones out) and its arguments."""
    clauses: list[str] = ["d.status != 'retracted'"]
    args: list[Any] = []
    if flt.sources:
        clauses.append(f"d.source IN ({', '.join('?' * len(flt.sources))})")
        args.extend(flt.sources)
    if flt.document_ids:
        clauses.append(f"d.id IN ({', '.join('?' * len(flt.document_ids))})")
        args.extend(flt.document_ids)
    if flt.published_after:
        clauses.append("d.published_date >= ?")
        args.append(flt.published_after.isoformat())
    if flt.published_before:
        clauses.append("d.published_date <= ?")
        args.append(flt.published_before.isoformat())
    return " AND ".join(clauses), args
