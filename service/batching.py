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
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from service.errors import FactCheckError, OverloadedError

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """A bounded queue in front of ``run(items) -> results`` (one result or exception each)."""

    def __init__(
        self,
        run: Callable[[list[T]], Sequence[R | Exception]],
        *,
        max_batch: int,
        max_wait_s: float,
        max_queue: int,
        retry_after: int = 1,
        workers: int = 1,
        name: str = "microbatcher",
    ) -> None:
        self._run = run
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.max_queue = max_queue
        self.retry_after = retry_after
        self._name = name
        self._queue: deque[tuple[T, Future[R]]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._workers = workers
        self._threads: list[threading.Thread] = []

    @property
    def waiting(self) -> int:
        """How many items are queued and not yet taken by the worker."""
        with self._cond:
            return len(self._queue)

    def submit(self, items: Sequence[T]) -> list[Future[R]]:
        """Queue every item, or none of them when the queue has no room for them all.

        Raises:
            OverloadedError: The queue cannot take ``len(items)`` more items now.
            FactCheckError: The batcher is closed.
        """
        futures: list[Future[R]] = [Future() for _ in items]
        with self._cond:
            if self._closed:
                raise FactCheckError("the service is shutting down")
            if len(self._queue) + len(items) > self.max_queue:
                raise OverloadedError(
                    f"{len(self._queue)} statements are waiting to be checked "
                    f"(at most {self.max_queue}); retry later",
                    retry_after=self.retry_after,
                )
            self._queue.extend(zip(items, futures, strict=True))
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True)
                    for i in range(self._workers)
                ]
                for thread in self._threads:
                    thread.start()
            self._cond.notify()
        return futures

    def close(self) -> None:
        """Refuse new items, finish the queued ones, and stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    def _take(self) -> list[tuple[T, Future[R]]] | None:
        """The next batch: wait for a first item, then gather more for up to ``max_wait_s``."""
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None  # closed and drained
            deadline = time.monotonic() + self.max_wait_s
            while len(self._queue) < self.max_batch and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            if self._queue:
                self._cond.notify()  # more than one batch is waiting: wake another worker
            return batch

    def _work(self) -> None:
        while (batch := self._take()) is not None:
            # callers that gave up (a closed connection cancels its future) cost nothing
            live = [(item, fut) for item, fut in batch if fut.set_running_or_notify_cancel()]
            if live:
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
