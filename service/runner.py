"""Runs the engine's CPU-bound calls in worker threads, bounded in number and in time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio
from anyio import to_thread

from service.errors import OverloadedError, WorkCancelledError
from service.metrics import QUEUE_DEPTH

R = TypeVar("R")
Ts = TypeVarTuple("Ts")


class Work:
    """One request's work in a worker thread, stoppable between its model calls.

    A thread cannot be interrupted, so the code it runs calls :meth:`checkpoint` before
    each model call: once the request is past its deadline (it has answered 503), the
    work stops there with WorkCancelledError instead of finishing for nobody.
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop the work at its next checkpoint."""
        self._cancelled.set()

    def checkpoint(self) -> None:
        """Raise WorkCancelledError if the work was cancelled."""
        if self._cancelled.is_set():
            raise WorkCancelledError("the request's deadline passed: its work stopped")


class ModelRunner:
    """At most ``threads`` model calls at once; each call, queueing included, has a deadline.

    A call past its deadline answers 503 at once. Its thread cannot be interrupted, but
    the ``work`` it was given is cancelled, so it stops at its next model call (a write
    still commits whole or not at all); meanwhile it no longer holds a worker slot.
    """

    def __init__(self, threads: int, deadline_s: float) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self.deadline_s = deadline_s

    async def run(self, fn: Callable[[*Ts], R], *args: *Ts, work: Work | None = None) -> R:
        """``fn(*args)`` in a worker thread, or OverloadedError (503) past the deadline.

        Past the deadline ``work`` (which ``fn`` checks between model calls) is cancelled.
        """
        queued = True
        QUEUE_DEPTH.inc()
        try:
            with anyio.fail_after(self.deadline_s):
                async with self.limiter:
                    QUEUE_DEPTH.dec()
                    queued = False
                    return await to_thread.run_sync(fn, *args, abandon_on_cancel=True)
        except TimeoutError:
            if work is not None:
                work.cancel()
            raise OverloadedError(
                f"the model call did not finish within {self.deadline_s:g} s",
                retry_after=2,
                limit="deadline",
            ) from None
        finally:
            if queued:
                QUEUE_DEPTH.dec()
