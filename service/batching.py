"""Micro-batching: work from concurrent callers gathered into one call of a batch function.

A model call on a batch of 32 statements costs far less than 32 calls on one, so every
check (a single ``/v1/check``, the items of a batch, the lines of a stream) is queued
here. A worker thread takes the first waiting item, keeps gathering for up to
``max_wait_s`` or until ``max_batch`` items are in hand, and runs the batch function
once on them all. With ``workers`` threads, that many batches run at once (on a machine
whose cores really run in parallel, a batch request can then keep each of them busy with
one intra-op thread per model call).
The queue is bounded: when it holds ``max_queue`` items, submitting
raises :class:`~service.errors.OverloadedError` (HTTP 503 with ``Retry-After``) instead
of letting the backlog, and every caller's latency, grow without limit.

Admission is fair: each submission names its caller (API key, else client address) and,
for a stream, the stream. One caller may hold at most ``caller_quota`` waiting items and
one stream ``stream_quota`` (:class:`~service.errors.QuotaExceededError`, HTTP 429:
that caller's limit, not the service's), and the last ``reserved`` places are kept for
single checks, so that batches and streams never lock out an editor's one statement.
Each error names the limit it hit (``limit``).

Single checks also have a lane of their own: one more worker takes only them, and a call
holds either single checks or batch and stream items, never both. A call of single
checks runs as :attr:`~service.priority.Priority.INTERACTIVE`, so its model passes go
before the bulk call's next chunk (:mod:`service.priority`): a lone statement waits for
one chunk of a bulk call, not for the whole call nor behind every batch queued before it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, NamedTuple, TypeVar

from service.errors import FactCheckError, OverloadedError, QuotaExceededError
from service.priority import Priority, running_as

T = TypeVar("T")
R = TypeVar("R")


class _Owner(NamedTuple):
    """Whose items these are, for the quotas."""

    caller: str
    stream: str | None
    single: bool


_Queue = deque[tuple[T, Future[R], _Owner]]


class MicroBatcher(Generic[T, R]):
    """A bounded queue in front of ``run(items) -> results`` (one result or exception each)."""

    def __init__(
        self,
        run: Callable[[list[T]], Sequence[R | Exception]],
        *,
        max_batch: int,
        max_wait_s: float,
        max_queue: int,
        caller_quota: int | None = None,
        stream_quota: int | None = None,
        reserved: int = 0,
        retry_after: int = 1,
        workers: int = 1,
        name: str = "microbatcher",
    ) -> None:
        self._run = run
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.caller_quota = caller_quota or max_queue
        self.stream_quota = stream_quota or max_queue
        self.reserved = reserved
        self.retry_after = retry_after
        self._name = name
        # single checks, then batches and streams: each in arrival order
        self._queues: tuple[_Queue[T, R], _Queue[T, R]] = (deque(), deque())
        self._callers: Counter[str] = Counter()
        self._streams: Counter[str] = Counter()
        self._bulk = 0  # waiting items that are not single checks
        self._cond = threading.Condition()
        self._closed = False
        self._workers = workers
        self._threads: list[threading.Thread] = []

    @property
    def waiting(self) -> int:
        """How many items are queued and not yet taken by the worker."""
        with self._cond:
            return self._waiting()

    def _waiting(self) -> int:
        return sum(map(len, self._queues))

    def submit(
        self,
        items: Sequence[T],
        *,
        caller: str = "",
        stream: str | None = None,
        single: bool = False,
    ) -> list[Future[R]]:
        """Queue every item, or none of them when a limit has no room for them all.

        Raises:
            QuotaExceededError: The caller or the stream holds its share of the queue.
            OverloadedError: The queue (or its part open to batches and streams) is full.
            FactCheckError: The batcher is closed.
        """
        owner = _Owner(caller, stream, single)
        futures: list[Future[R]] = [Future() for _ in items]
        with self._cond:
            if self._closed:
                raise FactCheckError("the service is shutting down")
            self._admit(owner, len(items))
            self._queues[0 if single else 1].extend(
                (item, future, owner) for item, future in zip(items, futures, strict=True)
            )
            self._count(owner, len(items))
            if not self._threads:
                # the bulk workers, then the single checks' lane
                self._threads = [
                    threading.Thread(
                        target=self._work,
                        args=(i == self._workers,),
                        name=f"{self._name}-{i}",
                        daemon=True,
                    )
                    for i in range(self._workers + 1)
                ]
                for thread in self._threads:
                    thread.start()
            self._cond.notify_all()  # the lanes wait for different items
        return futures

    def _admit(self, owner: _Owner, n: int) -> None:
        """Raise the error of the first limit that ``n`` more items of ``owner`` would pass."""
        waiting = self._waiting()
        if waiting + n > self.max_queue:
            raise OverloadedError(
                f"{waiting} statements are waiting to be checked (at most {self.max_queue}); "
                "retry later",
                retry_after=self.retry_after,
                limit="queue",
            )
        if not owner.single and self._bulk + n > self.max_queue - self.reserved:
            raise OverloadedError(
                f"{self._bulk} statements of batches and streams are waiting (at most "
                f"{self.max_queue - self.reserved}; the rest is kept for single checks); "
                "retry later",
                retry_after=self.retry_after,
                limit="batch_share",
            )
        if self._callers[owner.caller] + n > self.caller_quota:
            raise QuotaExceededError(
                f"this caller has {self._callers[owner.caller]} statements waiting (at most "
                f"{self.caller_quota} per caller); retry later",
                retry_after=self.retry_after,
                limit="caller_share",
            )
        if owner.stream is not None and self._streams[owner.stream] + n > self.stream_quota:
            raise QuotaExceededError(
                f"this stream has {self._streams[owner.stream]} statements waiting (at most "
                f"{self.stream_quota} per stream)",
                retry_after=self.retry_after,
                limit="stream_share",
            )

    def _count(self, owner: _Owner, n: int) -> None:
        """Add ``n`` (or take ``-n``) waiting items to ``owner``'s counts."""
        self._callers[owner.caller] += n
        if self._callers[owner.caller] <= 0:
            del self._callers[owner.caller]
        if owner.stream is not None:
            self._streams[owner.stream] += n
            if self._streams[owner.stream] <= 0:
                del self._streams[owner.stream]
        if not owner.single:
            self._bulk += n

    def close(self) -> None:
        """Refuse new items, finish the queued ones, and stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    def _take(self, singles_only: bool) -> tuple[list[tuple[T, Future[R]]], bool] | None:
        """The next call's items and whether they are single checks (``None``: closed).

        Waits for a first item this lane serves, then gathers more for up to
        ``max_wait_s``; single checks first, and never mixed with batch or stream items.
        """
        lanes = self._queues[:1] if singles_only else self._queues
        with self._cond:
            while True:
                while not any(lanes) and not self._closed:
                    self._cond.wait()
                if not any(lanes):
                    return None  # closed and drained
                deadline = time.monotonic() + self.max_wait_s
                while sum(map(len, lanes)) < self.max_batch and not self._closed:
                    if (remaining := deadline - time.monotonic()) <= 0:
                        break
                    self._cond.wait(remaining)
                if any(lanes):  # else another worker took them while this one gathered
                    break
            single = bool(self._queues[0])
            queue = self._queues[0 if single else 1]
            batch: list[tuple[T, Future[R]]] = []
            while queue and len(batch) < self.max_batch:
                item, future, owner = queue.popleft()
                self._count(owner, -1)
                batch.append((item, future))
            if self._waiting():
                self._cond.notify_all()  # more is waiting: wake the other workers
            return batch, single

    def _work(self, singles_only: bool) -> None:
        while (taken := self._take(singles_only)) is not None:
            batch, single = taken
            # callers that gave up (a closed connection cancels its future) cost nothing
            live = [(item, fut) for item, fut in batch if fut.set_running_or_notify_cancel()]
            if live:
                with running_as(Priority.INTERACTIVE if single else Priority.BULK):
                    self._complete(live)

    def _complete(self, live: list[tuple[T, Future[R]]]) -> None:
        """Run the batch function on ``live`` and settle each future with its own outcome."""
        try:
            results = self._run([item for item, _ in live])
            if len(results) != len(live):
                raise RuntimeError(f"{self._name}: {len(live)} items, {len(results)} results")
        except Exception as exc:
            if len(live) == 1:
                live[0][1].set_exception(exc)
                return
            # One item may have failed the whole call (a model call on its input): each
            # alone, so that only the items that fail alone get an error.
            for one in live:
                self._complete([one])
            return
        for (_, fut), result in zip(live, results, strict=True):
            if isinstance(result, Exception):
                fut.set_exception(result)
            else:
                fut.set_result(result)
