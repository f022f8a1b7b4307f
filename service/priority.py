"""Who goes first on the cores: an editor's single check before batches and ingests.

A lone check's latency is mostly waiting for work already running. Every model forward
pass (one chunk of a stance or embedding call) and every spaCy batch takes a slot of a
:class:`Gate`; when the slot frees, the waiter of the highest priority takes it (in
arrival order within a priority). Calls are cut into chunks of ``stance_batch_size``
pairs and ``embed_batch_size`` texts, so an interactive call waits for at most one chunk
of bulk work, not for a micro-batch of 64 statements or a whole ingest.

The priority belongs to the thread doing the work (:func:`running_as`): the
micro-batcher's worker runs a call of single checks as :attr:`Priority.INTERACTIVE`,
everything else runs as :attr:`Priority.BULK`. Work handed to another thread carries its
priority with it (:func:`current`, then :func:`running_as` there).

One gate per resource and process (the cores are the process's): model calls
(:data:`MODELS`) and the spaCy pipeline, which is not thread-safe
(``service.judge.annotate``). Holding a slot while waiting for the other gate never
happens: each is taken around one chunk of its own work only.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum


class Priority(IntEnum):
    """Lower goes first."""

    INTERACTIVE = 0  # /v1/check and the panel: an editor is waiting
    BULK = 1  # batches, streams, ingests, maintenance


_local = threading.local()


def current() -> Priority:
    """The priority of the work this thread is doing (BULK unless set)."""
    value: Priority = getattr(_local, "priority", Priority.BULK)
    return value


@contextmanager
def running_as(priority: Priority) -> Iterator[None]:
    """Run the block's gated work at ``priority`` (restored afterwards)."""
    before = current()
    _local.priority = priority
    try:
        yield
    finally:
        _local.priority = before


class Gate:
    """One slot, granted to the highest-priority waiter (first come within a priority)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._waiting: list[tuple[int, int]] = []  # heap of (priority, arrival)
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        """How many threads wait for the slot."""
        with self._cond:
            return len(self._waiting)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold the slot for the block, at this thread's :func:`current` priority."""
        ticket = (int(current()), next(self._arrivals))
        with self._cond:
            heapq.heappush(self._waiting, ticket)
            try:
                while self._held or self._waiting[0] != ticket:
                    self._cond.wait()
            except BaseException:  # a waiter that leaves must not block the ones behind
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._cond.notify_all()
                raise
            heapq.heappop(self._waiting)
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()


MODELS = Gate()
"""Every forward pass of the embedding and stance models."""
