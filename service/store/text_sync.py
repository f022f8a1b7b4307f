"""Committed changes reach the tantivy index in the background, several per tantivy commit.

A tantivy commit fsyncs every file of its new segment: 12-55 ms p50 on the project's VM
(bench/NOTES.md), where putting a document in SQLite takes ~2 ms. Made inline, it would
be most of the cost of storing a document. So a write returns once SQLite has
committed, and one thread per store puts what has been committed since its last pass into
the index in one commit (group commit), then stamps it with the file's ``index_version``.

Consistency: searches of the same store wait for the writes it committed (:meth:`wait`),
so a document is found as soon as its ingest returns. Other processes wait on the file
lock, which this process holds from before each claims transaction until the index has
caught up with it. A crash in between leaves the stamp behind the file: the index is
rebuilt at the next open, as after any other stale stamp.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from service.store.text_index import FtsTerms, TantivyIndex

_log = logging.getLogger(__name__)


class Change:
    """One committed transaction: the file's ``index_version`` before it, claims out and in."""

    __slots__ = ("added", "base", "removed")

    def __init__(self, base: int, removed: Sequence[int], added: Sequence[tuple[int, str]]) -> None:
        self.base, self.removed, self.added = base, list(removed), list(added)


class PendingWrites:
    """The changes committed to the file and not yet in the index, and the thread applying them.

    ``hold`` before a claims transaction begins, then ``submit`` its change once committed
    (or ``release`` when it changed nothing): the file lock is held while any change is
    pending, and released when the thread has applied the last one.
    """

    def __init__(
        self, index: TantivyIndex, terms: FtsTerms, stamp: Callable[[int], dict[str, Any]]
    ) -> None:
        self._index, self._terms, self._stamp = index, terms, stamp
        self._cond = threading.Condition()
        self._queue: list[Change] = []
        self._holds = 0  # transactions begun and changes submitted, not yet applied
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def hold(self) -> None:
        """Take the file lock for a claims transaction about to begin."""
        with self._cond:
            self._holds += 1
            first = self._holds == 1
        if first:  # outside the condition: waiting here must not stop the thread finishing
            self._index.lock()

    def release(self, count: int = 1) -> None:
        """A transaction changed nothing (or ``count`` changes were applied)."""
        with self._cond:
            self._holds -= count
            if self._holds == 0:
                self._index.unlock()

    def submit(self, change: Change) -> None:
        """Queue a committed change; its hold is released once it is applied."""
        with self._cond:
            self._queue.append(change)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tantivy-writes", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait(self) -> None:
        """Return once every submitted change has been applied (or found stale)."""
        with self._cond:
            while self._queue or self._busy:
                self._cond.wait()

    def close(self) -> None:
        """Apply what is pending, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                batch, self._queue, self._busy = self._queue, [], True
            try:
                self._apply(batch)
            except Exception as exc:  # the file is committed: the index is rebuilt when read
                _log.warning("lexical index not updated (%s); it will be rebuilt", exc)
            with self._cond:
                self._busy = False
                self.release(len(batch))
                self._cond.notify_all()

    def _apply(self, batch: list[Change]) -> None:
        """One tantivy commit for consecutive changes; a gap (another process) leaves it stale."""
        base = batch[0].base
        if any(change.base != base + i for i, change in enumerate(batch)):
            _log.warning("lexical index behind another writer's change; it will be rebuilt")
            return
        texts = [text for change in batch for _, text in change.added]
        terms = iter(self._terms.joined(texts))
        changes = [
            (change.removed, [(claim_id, next(terms)) for claim_id, _ in change.added])
            for change in batch
        ]
        self._index.apply(changes, self._stamp(base), self._stamp(base + len(batch)))
