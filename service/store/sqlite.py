"""The embedded default store: one SQLite file in WAL mode.

Documents, claims, an FTS5 index over the claims and the embeddings all live in one
file, so one transaction covers a document and everything derived from it: nothing is
acknowledged before it is committed, and a replaced document never shows half its old
claims. Vector search runs in process: over a float32 matrix loaded from the file (exact),
or, for large stores, over an HNSW graph of int8 vectors that is saved next to the file
(``<store>.hnsw``) and rebuilt from the file when it is missing or stale. Either is
reloaded when another process (or app instance) has changed the file. Lexical search of
large stores takes its candidates from a tantivy index beside the file
(``<store>.tantivy/``, stamped and rebuilt the same way) and ranks them with FTS5's BM25;
FTS5 still ranks filtered searches and small stores (service/store/sqlite_text.py). The
schema and its row conversions are in service/store/sqlite_schema.py.
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
from service.store.sqlite_schema import (
    DOC_COLUMNS,
    LOAD_CHUNK,
    SCHEMA,
    SCHEMA_VERSION,
    claim_record,
    doc_record,
    filter_sql,
    info_dict,
    now,
)
from service.store.sqlite_text import SqliteLexical
from service.store.vectors import ExactIndex, VectorIndex, top_k

VectorIndexKind = Literal["auto", "exact", "hnsw"]
LexicalIndexKind = Literal["auto", "fts5", "tantivy"]


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
        self._lexical = SqliteLexical(
            self._db,
            self._lock,
            lambda: int(self._meta("index_version") or 0),
            max_df=lexical_max_df,
            candidates=lexical_candidates,
        )
        with self._lock:
            self._db.executescript(SCHEMA)
            self._upgrade()
        stored = self._check_model(allow_model_change)
        if stored == embedding:  # else the file awaits `reembed`: its vectors may not fit
            self._refresh()
        if lexical_index == "tantivy" or (
            lexical_index == "auto" and self._count_searchable() >= lexical_min_claims
        ):
            self._lexical.open_tantivy(self.path, self._meta("store_id"))

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
            writes = self._lexical.writes if claims else None
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
                    self._lexical.change = None
                    self._loaded_version = -1  # the index may hold the failed write's vectors
                    self._refresh()
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"the store could not complete a write: {exc}") from exc
            finally:
                change, self._lexical.change = self._lexical.change, None
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
        self._lexical.changed(version, removed, added)

    def _check_model(self, allow_change: bool) -> EmbeddingInfo:
        """The model the file's vectors come from (recorded now if the file is new)."""
        with self._tx() as db:
            stored = self._meta("embedding")
            if self._meta("store_id") is None:  # tells this file's saved index from another's
                self._set_meta(db, "store_id", uuid.uuid4().hex)
            if stored is None:
                self._set_meta(db, "embedding", json.dumps(info_dict(self.embedding)))
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
            "embedding": info_dict(self.embedding),
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
        while rows := cur.fetchmany(LOAD_CHUNK):
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
                f"SELECT {DOC_COLUMNS} FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
            if row is None:
                return None
            count = self._db.execute(
                "SELECT COUNT(*) FROM claims WHERE document_id = ?", (doc_id,)
            ).fetchone()[0]
            return doc_record(row, count)

    def list_documents(
        self, *, limit: int, offset: int, source: str | None = None
    ) -> tuple[list[DocumentRecord], int]:
        """Newest-first page of documents."""
        where, args = ("WHERE source = ?", [source]) if source else ("", [])
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM documents {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {DOC_COLUMNS}, "
                "(SELECT COUNT(*) FROM claims c WHERE c.document_id = d.id) AS n "
                f"FROM documents d {where} ORDER BY published_date DESC, id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [doc_record(r, r["n"]) for r in rows], int(total)

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
        written_at = now()
        with self._tx(claims=True) as db:
            old = db.execute(
                f"SELECT {DOC_COLUMNS} FROM documents WHERE id = ?", (doc.id,)
            ).fetchone()
            if old is not None and old["content_hash"] == doc.content_hash:
                return "unchanged", doc_record(old, len(self._claim_ids(db, doc.id)))
            status: PutStatus = "created"
            doc.version, doc.status, doc.created_at, doc.updated_at = (
                1,
                "active",
                written_at,
                written_at,
            )
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
                    (
                        doc.id,
                        old["version"],
                        old["title"],
                        old["text"],
                        old["published_at"],
                        written_at,
                    ),
                )
                removed = self._claim_ids(db, doc.id)
                db.execute("DELETE FROM claims WHERE document_id = ?", (doc.id,))
                db.execute("DELETE FROM documents WHERE id = ?", (doc.id,))
            else:
                removed = []
            db.execute(
                f"INSERT INTO documents ({DOC_COLUMNS}) VALUES ({', '.join('?' * 15)})",
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
                (reason, now(), doc_id),
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
                    (now(), doc_id),
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
        return [claim_record(r) for r in rows]

    def _allowed(self, flt: SearchFilter) -> np.ndarray[Any, np.dtype[np.int64]] | None:
        if flt.empty:
            return None
        where, args = filter_sql(flt)
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
        """FTS5's BM25 (service/store/sqlite_text.py), higher is better; no retracted claims."""
        return self._lexical.search(query, k, flt, len(self._index))

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
                r["id"]: doc_record(r)
                for r in self._db.execute(
                    f"SELECT {DOC_COLUMNS} FROM documents "
                    f"WHERE id IN ({', '.join('?' * len(doc_ids))})",
                    doc_ids,
                )
            }
        return {
            int(r["id"]): (
                claim_record(r),
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
            self._set_meta(db, "embedding", json.dumps(info_dict(embedding)))
            self._bump(db)
        self.embedding = embedding
        self._loaded_version = -1
        self._refresh()
        return len(rows)

    def add_feedback(self, record: FeedbackRecord) -> FeedbackRecord:
        """Insert a judgement; committed (synchronous=FULL) before it is acknowledged."""
        record.created_at = now()
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
            self._lexical.close()
            self._db.close()
