"""The embedded default store: one SQLite file in WAL mode.

Documents, claims, an FTS5 index over the claims and the embeddings all live in one
file, so one transaction covers a document and everything derived from it: nothing is
acknowledged before it is committed, and a replaced document never shows half its old
claims. Vector search runs in process: over a float32 matrix loaded from the file (exact),
or, for large stores, over an HNSW graph of int8 vectors that is saved next to the file
(``<store>.hnsw``) and rebuilt from the file when it is missing or stale. Either is
reloaded when another process (or app instance) has changed the file. Lexical search of
large stores takes its candidates from a tantivy index beside the file
(``<store>.tantivy/``, stamped and rebuilt the same way: service/store/text_index.py)
and ranks them with FTS5's BM25; FTS5 still ranks filtered searches and small stores.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from service.errors import NotFoundError, StoreError
from service.split import Claim
from service.store.ann import HnswIndex, HnswParams
from service.store.base import (
    FEEDBACK_COLUMNS,
    ClaimRecord,
    DocumentRecord,
    EmbeddingInfo,
    FeedbackRecord,
    IdempotencyRecord,
    PutStatus,
    SearchFilter,
    StaleClaim,
    Vectors,
    VersionRecord,
    model_mismatch,
)
from service.store.lexical import query_words
from service.store.text_index import (
    FORMAT,
    FtsTerms,
    TantivyIndex,
    fts5_bm25,
    fts5_stats,
    varints,
)
from service.store.text_sync import Change, PendingWrites
from service.store.vectors import ExactIndex, VectorIndex, top_k

VectorIndexKind = Literal["auto", "exact", "hnsw"]
LexicalIndexKind = Literal["auto", "fts5", "tantivy"]
_FTS_TOKENIZE = "porter unicode61"  # claims_fts's tokenizer; tantivy indexes the same terms
_LOAD_CHUNK = 50_000  # rows per fetch when loading vectors: no 1.5 GB of bytes at once
_TEXT_SLACK = 20  # extra lexical hits fetched to make up for retracted claims
_PRUNE_MIN_CLAIMS, _KEEP_RAREST = 50_000, 3  # see SqliteStore._lexical_words

SCHEMA_VERSION = 2  # 2: claims.annotation and claims.annotation_version
_SCHEMA = f"""
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
    text, content='claims', content_rowid='id', tokenize='{_FTS_TOKENIZE}'
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
_DOC_COLUMNS = (
    "id, title, text, url, source, published_at, published_date, language, metadata, "
    "content_hash, status, version, created_at, updated_at, retraction_reason"
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _doc(row: sqlite3.Row, claim_count: int = 0) -> DocumentRecord:
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


def _claim(row: sqlite3.Row) -> ClaimRecord:
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


class SqliteStore:
    """The :class:`~service.store.base.Store` on one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        embedding: EmbeddingInfo,
        *,
        vector_index: VectorIndexKind = "auto",
        ann_min_claims: int = 50_000,
        hnsw: HnswParams | None = None,
        lexical_max_df: float = 1.0,
        lexical_index: LexicalIndexKind = "auto",
        lexical_min_claims: int = 50_000,
        lexical_candidates: int = 100,
        allow_model_change: bool = False,
    ) -> None:
        """Open (or create) the file.

        ``vector_index``: ``exact``, ``hnsw``, or ``auto`` (HNSW when the store holds at
        least ``ann_min_claims`` searchable claims when it is opened, else exact), built
        and searched with ``hnsw``. ``lexical_index``: ``fts5`` (FTS5 ranks every search),
        ``tantivy`` (unfiltered searches take ``lexical_candidates`` from a tantivy index,
        ranked with FTS5's BM25: service/store/text_index.py; filtered ones stay on FTS5),
        or ``auto`` (tantivy from ``lexical_min_claims`` searchable claims at open).
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.embedding = embedding
        self._vector_index = vector_index
        self._ann_min_claims = ann_min_claims
        self._hnsw = hnsw or HnswParams()
        self._max_df = lexical_max_df
        self._df_cache: dict[str, int] = {}
        self._df_basis = 0
        self._index_path = self.path.with_name(self.path.name + ".hnsw")
        self._saved_version = -1  # index_version of the saved HNSW file, if it is ours
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._index: VectorIndex = ExactIndex(embedding.dimension)
        self._loaded_version = -1
        self._text: TantivyIndex | None = None
        self._terms = FtsTerms(_FTS_TOKENIZE)
        self._candidates = lexical_candidates
        self._writes: PendingWrites | None = None
        self._text_version = -1  # index_version the tantivy reader reflects
        self._text_change: Change | None = None  # the open transaction's, once it bumps
        with self._lock:
            self._db.executescript(_SCHEMA)
            self._upgrade()
        stored = self._check_model(allow_model_change)
        if stored == embedding:  # else the file awaits `reembed`: its vectors may not fit
            self._refresh()
        if lexical_index == "tantivy" or (
            lexical_index == "auto" and self._count_searchable() >= lexical_min_claims
        ):
            self._store_id = self._meta("store_id")
            self._text = TantivyIndex(self.path)
            self._writes = PendingWrites(self._text, self._terms, self._text_stamp)
            self._sync_text()

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self, *, claims: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken eagerly so concurrent writers queue instead of failing.

        SQLite failures (disk full, read-only file, I/O error) become StoreError (503).
        ``claims``: the transaction changes claims or their documents (it calls ``_bump``):
        it holds the tantivy index's file lock from before it begins until its change is
        in that index (service/store/text_sync.py), so that processes apply their changes
        in commit order.
        """
        with self._lock:
            writes = self._writes if claims else None
            if writes is not None:
                writes.hold()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    self._text_change = None
                    self._loaded_version = -1  # the index may hold the failed write's vectors
                    self._refresh()
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"the store could not complete a write: {exc}") from exc
            finally:
                change, self._text_change = self._text_change, None
                if writes is not None:
                    writes.submit(change) if change is not None else writes.release()

    def _upgrade(self) -> None:
        """Add the annotation columns to a file made before them (schema version 1)."""
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(claims)")}
        if "annotation" in columns:
            return
        with self._tx() as db:
            db.execute("ALTER TABLE claims ADD COLUMN annotation BLOB")
            db.execute(
                "ALTER TABLE claims ADD COLUMN annotation_version INTEGER NOT NULL DEFAULT 0"
            )
            self._set_meta(db, "schema_version", str(SCHEMA_VERSION))

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _bump(
        self,
        db: sqlite3.Connection,
        removed: Sequence[int] = (),
        added: Sequence[tuple[int, str]] = (),
    ) -> None:
        """Count a change, applied to the in-memory vector index by the caller.

        That index is then current, unless another process (or app instance) changed the
        file since it was loaded: then the next search reloads it. The claims ``removed``
        and ``added`` (id, text) go to the tantivy index once the transaction commits.
        """
        version = int(self._meta("index_version") or 0)
        self._set_meta(db, "index_version", str(version + 1))
        self._loaded_version = version + 1 if version == self._loaded_version else -1
        if self._text is not None:
            self._text_change = Change(version, removed, added)

    def _text_stamp(self, version: int) -> dict[str, Any]:
        """What the tantivy index's stamp must say to stand for this file at ``version``."""
        return {
            "store_id": self._store_id,
            "index_version": version,
            "format": FORMAT,
            "tokenize": _FTS_TOKENIZE,
        }

    def _sync_text(self) -> None:
        """Bring the tantivy index to the file's ``index_version``.

        This store's own committed writes are applied first. Another process's are in the
        saved index when its stamp says so (reloaded); else the index is rebuilt from the
        claims table, read in the same snapshot as the version it is stamped with.
        """
        assert self._text is not None and self._writes is not None
        with self._lock:
            self._writes.wait()
            if int(self._meta("index_version") or 0) == self._text_version:
                return
            self._writes.hold()  # a process between its commit and its stamp finishes first
            try:
                self._db.execute("BEGIN")
                try:
                    version = int(self._meta("index_version") or 0)
                    stamp = self._text_stamp(version)
                    if self._text.stamp() == stamp:
                        self._text.reload()
                    else:
                        self._text.rebuild(self._claim_terms(), stamp)
                finally:
                    self._db.execute("COMMIT")
            finally:
                self._writes.release()
            self._text_version = version

    def _check_model(self, allow_change: bool) -> EmbeddingInfo:
        """The model the file's vectors come from (recorded now if the file is new)."""
        with self._tx() as db:
            stored = self._meta("embedding")
            if self._meta("store_id") is None:  # tells this file's saved index from another's
                self._set_meta(db, "store_id", uuid.uuid4().hex)
            if stored is None:
                self._set_meta(db, "embedding", json.dumps(_info_dict(self.embedding)))
                self._set_meta(db, "schema_version", str(SCHEMA_VERSION))
                return self.embedding
        info = EmbeddingInfo(**json.loads(stored))
        if info != self.embedding and not allow_change:
            raise model_mismatch(str(self.path), info, self.embedding)
        return info

    def _refresh(self) -> None:
        """Reload the vector index if the file changed since we last loaded it."""
        with self._lock:
            version = int(self._meta("index_version") or 0)
            if version == self._loaded_version:
                return
            self._index, self._loaded_version = self._load_index(version), version

    def _searchable_sql(self, columns: str) -> str:
        return (
            f"SELECT {columns} FROM claims c JOIN documents d ON d.id = c.document_id "
            "WHERE d.status != 'retracted'"
        )

    def _claim_terms(self) -> Iterator[tuple[int, str]]:
        """Every claim's id and FTS5 terms (joined by spaces), read in chunks."""
        cur = self._db.execute("SELECT id, text FROM claims")
        while rows := cur.fetchmany(_LOAD_CHUNK):
            terms = self._terms.joined([r[1] for r in rows])
            yield from zip((r[0] for r in rows), terms, strict=True)

    def _count_searchable(self) -> int:
        return int(self._db.execute(self._searchable_sql("COUNT(*)")).fetchone()[0])

    def _use_hnsw(self) -> bool:
        if self._vector_index != "auto":
            return self._vector_index == "hnsw"
        return self._count_searchable() >= self._ann_min_claims

    def _index_stamp(self, version: int) -> dict[str, Any]:
        """What a saved HNSW file must match to stand for this file at ``version``."""
        return {
            "store_id": self._meta("store_id"),
            "index_version": version,
            "embedding": _info_dict(self.embedding),
            "graph": self._hnsw.graph_shape(),
        }

    def _load_index(self, version: int) -> VectorIndex:
        """The saved HNSW index if it is current, else one built from the file's vectors."""
        if not self._use_hnsw():
            return self._build_index(ExactIndex(self.embedding.dimension))
        index = HnswIndex(self.embedding.dimension, self._hnsw)
        stamp_path = self._index_path.with_name(self._index_path.name + ".json")
        try:
            saved = json.loads(stamp_path.read_text()) if self._index_path.exists() else None
        except (OSError, ValueError):
            saved = None
        if saved == self._index_stamp(version):
            index.load(self._index_path)
        else:
            self._build_index(index)
            self._save_index(index, version)
        self._saved_version = version
        return index

    def _build_index(self, index: VectorIndex) -> VectorIndex:
        cur = self._db.execute(self._searchable_sql("c.id, c.embedding"))
        while rows := cur.fetchmany(_LOAD_CHUNK):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            index.add(ids, matrix.reshape(len(rows), self.embedding.dimension))
        return index

    def _save_index(self, index: HnswIndex, version: int) -> None:
        """Save the graph, then its stamp (a crash in between leaves a stale, ignored file)."""
        stamp_path = self._index_path.with_name(self._index_path.name + ".json")
        stamp_path.unlink(missing_ok=True)
        index.save(self._index_path)
        stamp_path.write_text(json.dumps(self._index_stamp(version)))

    # -- Store protocol ---------------------------------------------------------------------

    def index_version(self) -> str:
        """The change counter of the file."""
        with self._lock:
            return self._meta("index_version") or "0"

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        """One document with its claim count."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
            if row is None:
                return None
            count = self._db.execute(
                "SELECT COUNT(*) FROM claims WHERE document_id = ?", (doc_id,)
            ).fetchone()[0]
            return _doc(row, count)

    def list_documents(
        self, *, limit: int, offset: int, source: str | None = None
    ) -> tuple[list[DocumentRecord], int]:
        """Newest-first page of documents."""
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM documents {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {_DOC_COLUMNS}, "
                "(SELECT COUNT(*) FROM claims c WHERE c.document_id = d.id) AS n "
                f"FROM documents d {where} ORDER BY published_date DESC, id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [_doc(r, r["n"]) for r in rows], int(total)

    def put_document(
        self,
        doc: DocumentRecord,
        claims: Sequence[Claim],
        vectors: Vectors,
        annotations: Sequence[bytes] | None = None,
        annotation_version: int = 0,
    ) -> tuple[PutStatus, DocumentRecord]:
        """Insert, or replace old claims atomically; the old text goes to the audit table."""
        if len(claims) != len(vectors):
            raise ValueError("one vector per claim")
        stored: Sequence[bytes | None] = annotations or [None] * len(claims)
        if len(stored) != len(claims):
            raise ValueError("one annotation per claim")
        version = 0 if annotations is None else annotation_version
        now = _now()
        with self._tx(claims=True) as db:
            old = db.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (doc.id,)
            ).fetchone()
            if old is not None and old["content_hash"] == doc.content_hash:
                return "unchanged", _doc(old, len(self._claim_ids(db, doc.id)))
            status: PutStatus = "created"
            doc.version, doc.status, doc.created_at, doc.updated_at = 1, "active", now, now
            if old is not None:
                status = "replaced"
                doc.version, doc.status, doc.created_at = (
                    old["version"] + 1,
                    "corrected",
                    old["created_at"],
                )
                if old["status"] == "retracted":  # a new version does not undo a retraction
                    doc.status, doc.retraction_reason = "retracted", old["retraction_reason"]
                db.execute(
                    "INSERT OR REPLACE INTO document_versions VALUES (?, ?, ?, ?, ?, ?)",
                    (doc.id, old["version"], old["title"], old["text"], old["published_at"], now),
                )
                removed = self._claim_ids(db, doc.id)
                db.execute("DELETE FROM claims WHERE document_id = ?", (doc.id,))
                db.execute("DELETE FROM documents WHERE id = ?", (doc.id,))
            else:
                removed = []
            db.execute(
                f"INSERT INTO documents ({_DOC_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                (
                    doc.id,
                    doc.title,
                    doc.text,
                    doc.url,
                    doc.source,
                    doc.published_at,
                    doc.published_date.isoformat() if doc.published_date else None,
                    doc.language,
                    json.dumps(doc.metadata),
                    doc.content_hash,
                    doc.status,
                    doc.version,
                    doc.created_at,
                    doc.updated_at,
                    doc.retraction_reason,
                ),
            )
            ids = []
            for claim, vector, annotation in zip(claims, vectors, stored, strict=True):
                cur = db.execute(
                    'INSERT INTO claims (document_id, seq, text, start, "end", context, embedding, '
                    "annotation, annotation_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc.id,
                        claim.seq,
                        claim.text,
                        claim.start,
                        claim.end,
                        claim.context,
                        np.asarray(vector, dtype=np.float32).tobytes(),
                        annotation,
                        version,
                    ),
                )
                ids.append(int(cur.lastrowid or 0))
            self._bump(db, removed, list(zip(ids, (c.text for c in claims), strict=True)))
            doc.claim_count = len(ids)
            self._index.remove(removed)
            if doc.status != "retracted":
                self._index.add(
                    np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32)
                )
        return status, doc

    def _claim_ids(self, db: sqlite3.Connection, doc_id: str) -> list[int]:
        rows = db.execute("SELECT id FROM claims WHERE document_id = ?", (doc_id,)).fetchall()
        return [int(r[0]) for r in rows]

    def delete_document(self, doc_id: str) -> bool:
        """Delete a document and everything derived from it."""
        with self._tx(claims=True) as db:
            removed = self._claim_ids(db, doc_id)
            cur = db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
            if cur.rowcount == 0:
                return False
            db.execute("DELETE FROM claims WHERE document_id = ?", (doc_id,))
            db.execute("DELETE FROM document_versions WHERE document_id = ?", (doc_id,))
            self._bump(db, removed)
            self._index.remove(removed)
        return True

    def retract_document(self, doc_id: str, reason: str) -> DocumentRecord:
        """Keep the document for the record, take its claims out of search.

        The tantivy index keeps them, as FTS5 does: searches drop retracted claims.
        """
        with self._tx(claims=True) as db:
            cur = db.execute(
                "UPDATE documents SET status = 'retracted', retraction_reason = ?, updated_at = ? "
                "WHERE id = ?",
                (reason, _now(), doc_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no document with id {doc_id!r}")
            self._index.remove(self._claim_ids(db, doc_id))
            self._bump(db)
            # read in the same transaction: a delete racing the retract cannot slip between
            doc = self.get_document(doc_id)
        if doc is None:  # unreachable while the lock is held; a 404, never a 500, if not
            raise NotFoundError(f"no document with id {doc_id!r}")
        return doc

    def unretract_document(self, doc_id: str) -> DocumentRecord:
        """Put a retracted document's claims back into search; others are left as they are."""
        with self._tx(claims=True) as db:
            row = db.execute("SELECT status FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no document with id {doc_id!r}")
            if row["status"] == "retracted":
                db.execute(
                    "UPDATE documents SET status = CASE WHEN version > 1 THEN 'corrected' "
                    "ELSE 'active' END, retraction_reason = NULL, updated_at = ? WHERE id = ?",
                    (_now(), doc_id),
                )
                rows = db.execute(
                    "SELECT id, embedding FROM claims WHERE document_id = ?", (doc_id,)
                ).fetchall()
                self._bump(db)
                if rows:
                    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                    self._index.add(ids, matrix.reshape(len(rows), self.embedding.dimension))
        doc = self.get_document(doc_id)
        assert doc is not None
        return doc

    def versions(self, doc_id: str) -> list[VersionRecord]:
        """Audit trail of a corrected document."""
        with self._lock:
            rows = self._db.execute(
                "SELECT version, title, text, published_at, replaced_at FROM document_versions "
                "WHERE document_id = ? ORDER BY version",
                (doc_id,),
            ).fetchall()
        return [VersionRecord(**dict(r)) for r in rows]

    def claims_of(self, doc_id: str) -> list[ClaimRecord]:
        """The document's claims in order."""
        with self._lock:
            rows = self._db.execute(
                'SELECT id, document_id, seq, text, start, "end", context, annotation FROM claims '
                "WHERE document_id = ? ORDER BY seq",
                (doc_id,),
            ).fetchall()
        return [_claim(r) for r in rows]

    def _allowed(self, flt: SearchFilter) -> np.ndarray[Any, np.dtype[np.int64]] | None:
        if flt.empty:
            return None
        where, args = _filter_sql(flt)
        with self._lock:
            rows = self._db.execute(
                f"SELECT c.id FROM claims c JOIN documents d ON d.id = c.document_id WHERE {where}",
                args,
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def search_vector(self, query: Vectors, k: int, flt: SearchFilter) -> list[tuple[int, float]]:
        """Exact cosine search, or the graph's candidates re-scored with their float32 vectors.

        The re-scored cosines are the exact ones, as the exact index would give them.
        """
        self._refresh()
        allowed = self._allowed(flt)
        with self._lock:
            if not isinstance(self._index, HnswIndex):
                return self._index.search(query, k, allowed)
            found = self._index.search(query, max(k, self._hnsw.rescore), allowed)
            ids = [i for i, _ in found]
            rows = self._db.execute(
                f"SELECT id, embedding FROM claims WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall()
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        scores = matrix.reshape(len(rows), -1) @ query.reshape(-1).astype(np.float32)
        return top_k(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), scores, k)

    def search_text(self, query: str, k: int, flt: SearchFilter) -> list[tuple[int, float]]:
        """FTS5's BM25, scores negated so that higher is better; retracted claims dropped.

        Unfiltered searches of a store with a tantivy index rank its candidates; filtered
        ones, and any the candidates cannot answer, rank in FTS5 (joined to documents).
        """
        words = self._lexical_words(query)
        match = fts_query(query, words)
        if not match:
            return []
        if flt.empty:
            hits = (
                self._search_text_unfiltered(match, k)
                if self._text is None
                else self._search_tantivy(words, k)
            )
            if hits is not None:
                return hits
        where, args = _filter_sql(flt)
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, bm25(claims_fts) AS score FROM claims_fts "
                "JOIN claims c ON c.id = claims_fts.rowid JOIN documents d ON d.id = c.document_id "
                f"WHERE claims_fts MATCH ? AND {where} ORDER BY score LIMIT ?",
                [match, *args, k],
            ).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _lexical_words(self, query: str) -> list[str]:
        """The query's words, less those in over ``lexical_max_df`` of a large store's claims.

        The rarest few are always kept. BM25 scores every claim that holds any query
        word; in a large corpus a common word makes that hundreds of thousands of claims
        while adding little to the ranking. Document frequencies are counted once (capped)
        and cached until the store grows or shrinks by a tenth.
        """
        words = query_words(query)
        size = len(self._index)
        if size < _PRUNE_MIN_CLAIMS or self._max_df >= 1.0 or len(words) <= _KEEP_RAREST:
            return words
        if abs(size - self._df_basis) > size / 10:
            self._df_cache.clear()
            self._df_basis = size
        cap = int(self._max_df * size)
        for w in words:
            if w not in self._df_cache:
                with self._lock:
                    self._df_cache[w] = self._db.execute(
                        "SELECT count(*) FROM (SELECT rowid FROM claims_fts "
                        "WHERE claims_fts MATCH ? LIMIT ?)",
                        [f'"{w}"', cap + 1],
                    ).fetchone()[0]
        rarest = set(sorted(words, key=lambda w: self._df_cache[w])[:_KEEP_RAREST])
        return [w for w in words if w in rarest or self._df_cache[w] <= cap]

    def _search_tantivy(self, words: list[str], k: int) -> list[tuple[int, float]] | None:
        """The tantivy index's best candidates, ranked with FTS5's BM25 (text_index.py).

        None when retracted claims crowded the candidates: the caller ranks in FTS5.
        """
        assert self._text is not None
        self._sync_text()
        phrases = [p for p in map(self._terms.phrase, words) if p]
        wanted = max(k + _TEXT_SLACK, self._candidates)
        with self._lock:
            count, avgdl = fts5_stats(self._db, "claims_fts")
        ids = self._text.candidates(phrases, wanted, count)
        if not ids or not count:
            return []
        with self._lock:  # texts, and sizes in tokens as FTS5 counted them
            rows = self._db.execute(
                "SELECT c.id, c.text, s.sz FROM claims c JOIN documents d ON d.id = c.document_id "
                "JOIN claims_fts_docsize s ON s.id = c.id "
                f"WHERE c.id IN ({', '.join('?' * len(ids))}) AND d.status != 'retracted'",
                ids,
            ).fetchall()
        freqs = self._terms.counts([r[1] for r in rows], phrases)
        docs = zip((r[0] for r in rows), (varints(r[2])[0] for r in rows), freqs, strict=True)
        hits = fts5_bm25(docs, self._text.doc_freqs(phrases), count, avgdl)
        if len(hits) < k and len(ids) == wanted:
            return None
        return sorted(hits, key=lambda h: (-h[1], h[0]))[:k]

    def _search_text_unfiltered(self, match: str, k: int) -> list[tuple[int, float]] | None:
        """Rank in the FTS index alone, then drop retracted claims.

        Three times faster than joining every match to its document (bench/NOTES.md).
        None when too many of the best hits were retracted: the caller joins instead.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, bm25(claims_fts) AS score FROM claims_fts "
                "WHERE claims_fts MATCH ? ORDER BY score LIMIT ?",
                [match, k + _TEXT_SLACK],
            ).fetchall()
            ids = [int(r[0]) for r in rows]
            live = {
                int(r[0])
                for r in self._db.execute(
                    "SELECT c.id FROM claims c JOIN documents d ON d.id = c.document_id "
                    f"WHERE c.id IN ({', '.join('?' * len(ids))}) AND d.status != 'retracted'",
                    ids,
                )
            }
        hits = [(int(r[0]), -float(r[1])) for r in rows if r[0] in live]
        return hits[:k] if len(hits) >= k or len(rows) < k + _TEXT_SLACK else None

    def fetch(
        self, claim_ids: Sequence[int]
    ) -> dict[int, tuple[ClaimRecord, DocumentRecord, Vectors]]:
        """Claims, documents and vectors for evidence assembly."""
        if not claim_ids:
            return {}
        marks = ", ".join("?" * len(claim_ids))
        with self._lock:
            rows = self._db.execute(
                'SELECT c.id, c.document_id, c.seq, c.text, c.start, c."end", c.context, '
                "c.embedding, c.annotation "
                f"FROM claims c WHERE c.id IN ({marks})",
                list(claim_ids),
            ).fetchall()
            doc_ids = sorted({r["document_id"] for r in rows})
            docs = {
                r["id"]: _doc(r)
                for r in self._db.execute(
                    f"SELECT {_DOC_COLUMNS} FROM documents "
                    f"WHERE id IN ({', '.join('?' * len(doc_ids))})",
                    doc_ids,
                )
            }
        return {
            int(r["id"]): (
                _claim(r),
                docs[r["document_id"]],
                np.frombuffer(r["embedding"], dtype=np.float32),
            )
            for r in rows
        }

    def count_claims(self) -> int:
        """Searchable claims."""
        self._refresh()
        return len(self._index)

    def stale_annotations(self, version: int, limit: int) -> list[StaleClaim]:
        """Claims not annotated with ``version``, with their documents' dates."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.text, d.published_date FROM claims c "
                "JOIN documents d ON d.id = c.document_id "
                "WHERE c.annotation_version != ? ORDER BY c.id LIMIT ?",
                (version, limit),
            ).fetchall()
        return [StaleClaim(r[0], r[1], dt.date.fromisoformat(r[2]) if r[2] else None) for r in rows]

    def set_annotations(self, version: int, annotations: Sequence[tuple[int, bytes]]) -> None:
        """Store annotations in one transaction (no index_version bump: search is unchanged)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE claims SET annotation = ?, annotation_version = ? WHERE id = ?",
                [(raw, version, claim_id) for claim_id, raw in annotations],
            )

    def reembed(
        self,
        embedding: EmbeddingInfo,
        encode: Callable[[list[str]], Vectors],
        batch_size: int = 256,
    ) -> int:
        """Re-embed every claim in one transaction and record the new model."""
        with self._tx(claims=True) as db:
            rows = db.execute("SELECT id, text FROM claims ORDER BY id").fetchall()
            for i in range(0, len(rows), batch_size):
                batch = rows[i : i + batch_size]
                vectors = encode([r["text"] for r in batch])
                db.executemany(
                    "UPDATE claims SET embedding = ? WHERE id = ?",
                    [
                        (v.astype(np.float32).tobytes(), r["id"])
                        for v, r in zip(vectors, batch, strict=True)
                    ],
                )
            self._set_meta(db, "embedding", json.dumps(_info_dict(embedding)))
            self._bump(db)
        self.embedding = embedding
        self._loaded_version = -1
        self._refresh()
        return len(rows)

    def add_feedback(self, record: FeedbackRecord) -> FeedbackRecord:
        """Insert a judgement; committed (synchronous=FULL) before it is acknowledged."""
        record.created_at = _now()
        with self._tx() as db:
            cur = db.execute(
                f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES ({', '.join('?' * 9)})",
                tuple(getattr(record, name) for name in FEEDBACK_COLUMNS.split(", ")),
            )
            record.id = int(cur.lastrowid or 0)
        return record

    def list_feedback(self, *, limit: int, offset: int) -> tuple[list[FeedbackRecord], int]:
        """Newest-first page of judgements."""
        with self._lock:
            total = self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
            rows = self._db.execute(
                f"SELECT id, {FEEDBACK_COLUMNS} FROM feedback ORDER BY id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [FeedbackRecord(**dict(r)) for r in rows], int(total)

    def claim_idempotency_key(
        self, claim: IdempotencyRecord, ttl_s: float, lease_s: float
    ) -> IdempotencyRecord:
        """Insert the claim unless the key is held; take over a claim past its lease."""
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - ttl_s,))
            where = (claim.scope, claim.key)
            inserted = db.execute(
                "INSERT INTO idempotency_keys (scope, key, request_hash, token, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (*where, claim.request_hash, claim.token, now),
            ).rowcount
            if not inserted:
                db.execute(
                    "UPDATE idempotency_keys SET token = ?, created_at = ? WHERE scope = ? "
                    "AND key = ? AND request_hash = ? AND status IS NULL AND created_at < ?",
                    (claim.token, now, *where, claim.request_hash, now - lease_s),
                )
            row = db.execute(
                "SELECT scope, key, request_hash, token, status, body FROM idempotency_keys "
                "WHERE scope = ? AND key = ?",
                where,
            ).fetchone()
        return IdempotencyRecord(**dict(row))

    def finish_idempotency_key(self, claim: IdempotencyRecord, status: int, body: bytes) -> None:
        """Store the response if the claim is still the caller's."""
        with self._tx() as db:
            db.execute(
                "UPDATE idempotency_keys SET status = ?, body = ? "
                "WHERE scope = ? AND key = ? AND token = ?",
                (status, body, claim.scope, claim.key, claim.token),
            )

    def release_idempotency_key(self, claim: IdempotencyRecord) -> None:
        """Delete the caller's unfinished claim."""
        with self._tx() as db:
            db.execute(
                "DELETE FROM idempotency_keys "
                "WHERE scope = ? AND key = ? AND token = ? AND status IS NULL",
                (claim.scope, claim.key, claim.token),
            )

    def renew_idempotency_key(self, claim: IdempotencyRecord) -> bool:
        """Restart the lease of the caller's unfinished claim; False if it is not theirs."""
        with self._tx() as db:
            renewed = db.execute(
                "UPDATE idempotency_keys SET created_at = ? "
                "WHERE scope = ? AND key = ? AND token = ? AND status IS NULL",
                (time.time(), claim.scope, claim.key, claim.token),
            ).rowcount
        return bool(renewed)

    def close(self) -> None:
        """Save the HNSW index if it changed since it was saved; close the file."""
        with self._lock:
            if isinstance(self._index, HnswIndex) and self._saved_version != self._loaded_version:
                self._save_index(self._index, self._loaded_version)
            if self._writes is not None and self._text is not None:
                self._writes.close()
                self._text.close()
            self._terms.close()
            self._db.close()


def _info_dict(info: EmbeddingInfo) -> dict[str, Any]:
    return {"model": info.model, "dimension": info.dimension, "normalized": info.normalized}


def _filter_sql(flt: SearchFilter) -> tuple[str, list[Any]]:
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
