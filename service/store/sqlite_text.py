"""Lexical search of the SQLite store: FTS5's BM25, with tantivy candidates for large stores.

FTS5 (inside the store's file) ranks every search of a small store and every filtered
search. A large store (``lexical_index``) also keeps a tantivy index beside the file
(``<store>.tantivy/``: service/store/text_index.py) whose block-max WAND finds an
unfiltered search's best candidates without scoring every matching claim; they are then
ranked with FTS5's BM25, so both paths rank alike. That index is stamped with the file's
``index_version`` and brought up to date the way the HNSW graph is: this store's own
writes are applied after they commit (service/store/text_sync.py), another process's by
reloading the index it saved, else by a rebuild from the claims table.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from service.store.base import SearchFilter
from service.store.lexical import query_words
from service.store.sqlite_schema import FTS_TOKENIZE, LOAD_CHUNK, filter_sql, fts_query
from service.store.text_index import FORMAT, FtsTerms, TantivyIndex, fts5_bm25, fts5_stats, varints
from service.store.text_sync import Change, PendingWrites

_TEXT_SLACK = 20  # extra lexical hits fetched to make up for retracted claims
_PRUNE_MIN_CLAIMS, _KEEP_RAREST = 50_000, 3  # see SqliteLexical._lexical_words


class SqliteLexical:
    """The store's lexical search, on its connection and under its lock."""

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        version: Callable[[], int],
        *,
        max_df: float,
        candidates: int,
    ) -> None:
        """Search through ``db``; ``version`` reads the file's ``index_version``.

        ``max_df`` and ``candidates`` are the store's ``lexical_max_df`` and
        ``lexical_candidates`` (service/store/sqlite.py).
        """
        self._db = db
        self._lock = lock
        self._version = version
        self._max_df = max_df
        self._candidates = candidates
        self._df_cache: dict[str, int] = {}
        self._df_basis = 0
        self._terms = FtsTerms(FTS_TOKENIZE)
        self._text: TantivyIndex | None = None
        self._store_id: str | None = None
        self._text_version = -1  # index_version the tantivy reader reflects
        # the tantivy index's writer, and the open transaction's change once it bumps
        self.writes: PendingWrites | None = None
        self.change: Change | None = None

    def open_tantivy(self, path: Path, store_id: str | None) -> None:
        """Keep (and search) the tantivy index beside the store at ``path``."""
        self._store_id = store_id
        self._text = TantivyIndex(path)
        self.writes = PendingWrites(self._text, self._terms, self._text_stamp)
        self._sync_text()

    def changed(
        self, version: int, removed: Sequence[int], added: Sequence[tuple[int, str]]
    ) -> None:
        """The open transaction moves the file from ``version``: its claims for tantivy."""
        if self._text is not None:
            self.change = Change(version, removed, added)

    def search(self, query: str, k: int, flt: SearchFilter, size: int) -> list[tuple[int, float]]:
        """FTS5's BM25, scores negated so that higher is better; retracted claims dropped.

        Unfiltered searches of a store with a tantivy index rank its candidates; filtered
        ones, and any the candidates cannot answer, rank in FTS5 (joined to documents).
        ``size`` is the store's count of searchable claims (it decides which words count
        as common: :meth:`_lexical_words`).
        """
        words = self._lexical_words(query, size)
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
        where, args = filter_sql(flt)
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, bm25(claims_fts) AS score FROM claims_fts "
                "JOIN claims c ON c.id = claims_fts.rowid JOIN documents d ON d.id = c.document_id "
                f"WHERE claims_fts MATCH ? AND {where} ORDER BY score LIMIT ?",
                [match, *args, k],
            ).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _lexical_words(self, query: str, size: int) -> list[str]:
        """The query's words, less those in over ``lexical_max_df`` of a large store's claims.

        The rarest few are always kept. BM25 scores every claim that holds any query
        word; in a large corpus a common word makes that hundreds of thousands of claims
        while adding little to the ranking. Document frequencies are counted once (capped)
        and cached until the store grows or shrinks by a tenth.
        """
        words = query_words(query)
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

    def _text_stamp(self, version: int) -> dict[str, Any]:
        """What the tantivy index's stamp must say to stand for this file at ``version``."""
        return {
            "store_id": self._store_id,
            "index_version": version,
            "format": FORMAT,
            "tokenize": FTS_TOKENIZE,
        }

    def _sync_text(self) -> None:
        """Bring the tantivy index to the file's ``index_version``.

        This store's own committed writes are applied first. Another process's are in the
        saved index when its stamp says so (reloaded); else the index is rebuilt from the
        claims table, read in the same snapshot as the version it is stamped with.
        """
        assert self._text is not None and self.writes is not None
        with self._lock:
            self.writes.wait()
            if self._version() == self._text_version:
                return
            self.writes.hold()  # a process between its commit and its stamp finishes first
            try:
                self._db.execute("BEGIN")
                try:
                    version = self._version()
                    stamp = self._text_stamp(version)
                    if self._text.stamp() == stamp:
                        self._text.reload()
                    else:
                        self._text.rebuild(self._claim_terms(), stamp)
                finally:
                    self._db.execute("COMMIT")
            finally:
                self.writes.release()
            self._text_version = version

    def _claim_terms(self) -> Iterator[tuple[int, str]]:
        """Every claim's id and FTS5 terms (joined by spaces), read in chunks."""
        cur = self._db.execute("SELECT id, text FROM claims")
        while rows := cur.fetchmany(LOAD_CHUNK):
            terms = self._terms.joined([r[1] for r in rows])
            yield from zip((r[0] for r in rows), terms, strict=True)

    def close(self) -> None:
        """Finish the tantivy writes and close the index."""
        if self.writes is not None and self._text is not None:
            self.writes.close()
            self._text.close()
        self._terms.close()
