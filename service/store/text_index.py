"""The lexical index of large SQLite stores: tantivy finds candidates, FTS5's BM25 ranks them.

FTS5 ranks with ``bm25()`` only after scoring every claim that holds any query word: at a
million claims that is most of a check (bench/NOTES.md). tantivy (Rust, block-max WAND)
stops once no further claim can enter its top n. Its BM25 differs from FTS5's in the idf
only (Lucene's ``log(1 + (N - n + 0.5) / (n + 0.5))``, where FTS5 takes
``log((N - n + 0.5) / (n + 0.5))`` floored at 1e-6): alone, its top 50 holds 95 % of
FTS5's. So each query term is boosted by FTS5's idf over tantivy's, and the pruned search
ranks by FTS5's BM25 up to tantivy's one-byte document lengths (exact to 40 terms) and
float32 sums. The store takes its best ``lexical_candidates`` and ranks them with FTS5's
exact formula over FTS5's own term counts and document sizes (:func:`fts5_bm25`): FTS5's
scores and, whenever the candidates hold FTS5's top k, FTS5's ranking (recall@50 in
bench/NOTES.md, "Lexical index (issue 19)").

Terms are FTS5's own: each word goes once through an in-memory FTS5 table with the
store's tokenizer (``porter unicode61``), and tantivy indexes the resulting terms split on
spaces, so both indexes hold the same terms, document lengths and document frequencies
(but tantivy counts a deleted claim's terms until its segment is merged).

The index lives in ``<store>.tantivy/`` beside the file, with a stamp
(``<store>.tantivy.json``: the file's ``store_id`` and the ``index_version`` it reflects)
written after each tantivy commit; an index whose stamp does not match the file is rebuilt
from the claims table. A process holds ``<store>.tantivy.lock`` (``flock``) from before a
SQLite transaction that changes claims until the change is in the index and stamped
(service/store/text_sync.py), so two processes' changes reach the index in the order they
were committed, and a reader that finds the stamp behind waits for the writer instead of
rebuilding.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import shutil
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import tantivy

FORMAT = 1  # bumped when the schema or the terms change: saved indexes are then rebuilt
K1, B = 1.2, 0.75  # FTS5's bm25() constants
_PIECE = re.compile(r"[^\W_]+")  # runs of letters and digits: unicode61's token characters
_TERM_CACHE = 500_000  # distinct words kept with their terms (cleared when full)
_BUILD_HEAP, _WRITE_HEAP = 256_000_000, 16_000_000  # tantivy writer memory, bytes

Phrase = tuple[str, ...]


class FtsTerms:
    """Words to the terms an FTS5 tokenizer makes of them, asked of FTS5 itself.

    Porter stemming in Python would differ from SQLite's in corner cases; an in-memory
    FTS5 table with the same ``tokenize`` option cannot. A text is split into runs of
    letters and digits (where unicode61 splits) and each distinct run is tokenized once.
    """

    def __init__(self, tokenize: str) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize={tokenize!r})")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        self._cache: dict[str, Phrase] = {}
        self._lock = threading.Lock()

    def joined(self, texts: Sequence[str]) -> list[str]:
        """Each text's terms as FTS5 indexes them, in order, joined by spaces."""
        split = [_PIECE.findall(t.lower()) for t in texts]
        terms = self._lookup(set().union(*split))
        return [" ".join(t for p in pieces for t in terms[p]) for pieces in split]

    def phrase(self, word: str) -> Phrase:
        """The terms of one query word (FTS5 matches them as a phrase)."""
        return tuple(self.joined([word])[0].split())

    def counts(self, texts: Sequence[str], phrases: Sequence[Phrase]) -> list[list[int]]:
        """How often each phrase occurs in each text's terms."""
        split = [_PIECE.findall(t.lower()) for t in texts]
        terms = self._lookup(set().union(*split))
        if any(len(p) > 1 for p in phrases):  # rare: a word FTS5 reads as several terms
            return [
                _phrase_counts([t for p in pieces for t in terms[p]], phrases) for pieces in split
            ]
        where: dict[str, list[int]] = {}  # term -> the phrases it is (two words, one stem)
        for i, phrase in enumerate(phrases):
            where.setdefault(phrase[0], []).append(i)
        out = []
        for pieces in split:  # count pieces (C), then only the distinct ones in Python
            row = [0] * len(phrases)
            for piece, n in Counter(pieces).items():
                for term in terms[piece]:
                    for i in where.get(term, ()):
                        row[i] += n
            out.append(row)
        return out

    def close(self) -> None:
        """Close the in-memory table."""
        self._db.close()

    def _lookup(self, pieces: set[str]) -> dict[str, Phrase]:
        """The terms of each piece, tokenizing the ones not seen before in one batch."""
        with self._lock:
            missing = list(pieces - self._cache.keys())
            if missing:
                if len(self._cache) + len(missing) > _TERM_CACHE:
                    self._cache.clear()
                    missing = list(pieces)
                self._db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(missing))
                found: dict[int, list[str]] = {}
                for doc, term in self._db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                    found.setdefault(doc, []).append(term)
                self._db.execute("DELETE FROM t")
                for i, piece in enumerate(missing):
                    self._cache[piece] = tuple(found.get(i, ()))
            return {p: self._cache[p] for p in pieces}


def _phrase_counts(terms: list[str], phrases: Sequence[Phrase]) -> list[int]:
    return [
        sum(tuple(terms[i : i + len(p)]) == p for i in range(len(terms) - len(p) + 1))
        for p in phrases
    ]


def fts5_stats(db: sqlite3.Connection, table: str) -> tuple[int, float]:
    """Rows and average tokens per row of a one-column FTS5 table, as ``bm25()`` reads them.

    FTS5 keeps both in its averages record (rowid 1 of ``<table>_data``): the row count,
    then the total tokens of each column, as SQLite varints.
    """
    row = db.execute(f"SELECT block FROM {table}_data WHERE id = 1").fetchone()
    values = varints(bytes(row[0])) if row else []
    if len(values) < 2 or values[0] == 0:
        return 0, 0.0
    return values[0], values[1] / values[0]


def varints(blob: bytes) -> list[int]:
    """SQLite varints (FTS5's averages record, ``<table>_docsize`` sizes)."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:  # the ninth byte carries eight bits
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def fts5_idf(rows: int, df: int) -> float:
    """FTS5's idf of a phrase in ``df`` of ``rows`` rows (floored: common words still count)."""
    return max(math.log((rows - df + 0.5) / (df + 0.5)), 1e-6)


def fts5_bm25(
    docs: Iterable[tuple[int, int, list[int]]],
    doc_freqs: Sequence[int],
    rows: int,
    avgdl: float,
) -> list[tuple[int, float]]:
    """FTS5's ``bm25()`` (negated: higher is better) of each document that matches.

    ``docs``: (claim id, its terms, how often each query phrase occurs in it);
    ``doc_freqs``: the claims holding each phrase; ``rows``, ``avgdl``: FTS5's statistics
    (:func:`fts5_stats`). As in fts5_aux.c, each phrase counts (two words with one stem
    count twice).
    """
    idf = [fts5_idf(rows, n) for n in doc_freqs]
    scored = []
    for claim_id, length, freqs in docs:
        norm = K1 * (1 - B + B * length / avgdl)
        score = sum(w * f * (K1 + 1) / (f + norm) for w, f in zip(idf, freqs, strict=True) if f)
        if score > 0:
            scored.append((claim_id, score))
    return scored


class TantivyIndex:
    """Claim ids and their FTS5 terms in a tantivy index, stamped with the file's version."""

    def __init__(self, store_path: Path) -> None:
        self.folder = store_path.with_name(store_path.name + ".tantivy")
        self._stamp_path = store_path.with_name(store_path.name + ".tantivy.json")
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", indexed=True, fast=True)
        # "freq": no positions. A multi-term phrase is matched by its terms (see candidates).
        builder.add_text_field("terms", tokenizer_name="fts_terms", index_option="freq")
        self._schema = builder.build()
        self._lock_file = open(store_path.with_name(store_path.name + ".tantivy.lock"), "a+b")  # noqa: SIM115
        self._index = self._open()

    def _open(self) -> tantivy.Index:
        """The saved index, or an empty one where it is missing or unreadable (rebuilt next)."""
        self.folder.mkdir(exist_ok=True)
        if not tantivy.Index.exists(str(self.folder)):  # a stamp cannot vouch for nothing
            self._stamp_path.unlink(missing_ok=True)
        try:
            index = tantivy.Index(self._schema, path=str(self.folder))
        except (OSError, ValueError):  # another tantivy's format, a torn folder: start over
            self._stamp_path.unlink(missing_ok=True)
            shutil.rmtree(self.folder)
            self.folder.mkdir()
            index = tantivy.Index(self._schema, path=str(self.folder))
        # Terms arrive already made (FtsTerms), joined by spaces; tantivy caps a term's size.
        analyzer = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
        analyzer = analyzer.filter(tantivy.Filter.remove_long(255))
        index.register_tokenizer("fts_terms", analyzer.build())
        index.config_reader(reload_policy="Manual")  # reloaded when the stamp says so
        index.reload()
        return index

    def lock(self) -> None:
        """Take the index's file lock (held per process: see :class:`PendingWrites`)."""
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)

    def unlock(self) -> None:
        """Let other processes take the file lock."""
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def stamp(self) -> dict[str, Any] | None:
        """The saved stamp, or None when it is missing or unreadable."""
        try:
            saved = json.loads(self._stamp_path.read_text())
        except (OSError, ValueError):
            return None
        return saved if isinstance(saved, dict) else None

    def _set_stamp(self, stamp: dict[str, Any]) -> None:
        tmp = self._stamp_path.with_name(self._stamp_path.name + ".tmp")
        with tmp.open("w") as fh:
            fh.write(json.dumps(stamp))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._stamp_path)

    def reload(self) -> None:
        """See the last commit (made by this process or another)."""
        self._index.reload()

    def rebuild(self, claims: Iterable[tuple[int, str]], stamp: dict[str, Any]) -> None:
        """Replace the whole index with ``claims`` (id, terms joined by spaces), then stamp."""
        self._stamp_path.unlink(missing_ok=True)
        writer = self._index.writer(heap_size=_BUILD_HEAP, num_threads=min(os.cpu_count() or 1, 4))
        writer.delete_all_documents()
        for claim_id, terms in claims:
            writer.add_document(tantivy.Document(id=claim_id, terms=terms))
        writer.commit()
        writer.wait_merging_threads()
        self._set_stamp(stamp)
        self._index.reload()

    def apply(
        self,
        changes: Sequence[tuple[Sequence[int], Sequence[tuple[int, str]]]],
        base: dict[str, Any],
        stamp: dict[str, Any],
    ) -> bool:
        """Apply committed writes (claims removed, claims added), in order, in one commit.

        Only if the index stands at ``base``; False if it does not (it is then stale).
        """
        if self.stamp() != base:
            return False
        if any(removed or added for removed, added in changes):
            writer = self._index.writer(heap_size=_WRITE_HEAP, num_threads=1)
            for removed, added in changes:  # a delete only hides documents added before it
                if removed:
                    writer.delete_documents_by_query(
                        tantivy.Query.term_set_query(self._schema, "id", list(removed))
                    )
                for claim_id, terms in added:
                    writer.add_document(tantivy.Document(id=claim_id, terms=terms))
            writer.commit()
            writer.wait_merging_threads()  # merges small segments before the lock goes
        self._set_stamp(stamp)
        self._index.reload()
        return True

    def candidates(self, phrases: Sequence[Phrase], n: int, rows: int | None) -> list[int]:
        """Ids of the best ``n`` claims holding any term of ``phrases``.

        With ``rows`` (FTS5's row count), each term's BM25 is boosted by FTS5's idf over
        tantivy's: both share the rest of the formula (k1, b, the length norm), so the
        pruned search ranks by FTS5's BM25 up to tantivy's one-byte document lengths
        (exact to 40 terms) and float32 sums. Without, tantivy's own BM25.
        """
        searcher = self._index.searcher()
        total, weights = int(searcher.num_docs), dict[str, float]()
        for phrase in phrases:
            for term in phrase:
                df = int(searcher.doc_freq("terms", term))
                if df and rows is None:
                    weights[term] = 1.0
                elif df:  # two words with one stem weigh twice, as in FTS5
                    weight = fts5_idf(rows or 0, df) / math.log(1 + (total - df + 0.5) / (df + 0.5))
                    weights[term] = weights.get(term, 0.0) + weight
        if not weights:
            return []
        query = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.term_query(self._schema, "terms", term), weight
                    ),
                )
                for term, weight in weights.items()
            ]
        )
        # count=False: counting every match would defeat the pruning
        hits = searcher.search(query, n, count=False).hits
        values = searcher.fast_field_values("id", [a for _, a in hits])
        return [i for i in values if isinstance(i, int)]  # every document has its id

    def doc_freqs(self, phrases: Sequence[Phrase]) -> list[int]:
        """Claims holding each phrase; a phrase of several terms is counted by its rarest."""
        searcher = self._index.searcher()
        return [
            min((int(searcher.doc_freq("terms", t)) for t in phrase), default=0)
            for phrase in phrases
        ]

    def num_docs(self) -> int:
        """Claims in the index."""
        return int(self._index.searcher().num_docs)

    def close(self) -> None:
        """Release the lock file (the index itself needs no closing)."""
        self._lock_file.close()
