"""Runs the engine's CPU-bound calls in worker threads, bounded in number and in time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio
from anyio import to_thread

from service.errors import OverloadedError
from service.metrics import QUEUE_DEPTH

R = TypeVar("R")
Ts = TypeVarTuple("Ts")


class ModelRunner:
    """At most ``threads`` model calls at once; each call, queueing included, has a deadline.

    A call past its deadline answers 503 at once. Its thread cannot be interrupted and runs
    to its end in the background (a write still commits whole or not at all; ingestion is
    idempotent, so the client's retry is safe), but it no longer holds a worker slot.
    """

    def __init__(self, threads: int, deadline_s: float) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self.deadline_s = deadline_s

    async def run(self, fn: Callable[[*Ts], R], *args: *Ts) -> R:
        """``fn(*args)`` in a worker thread, or OverloadedError (503) past the deadline."""
        queued = True
        QUEUE_DEPTH.inc()
        try:
            with anyio.fail_after(self.deadline_s):
                async with self.limiter:
                    QUEUE_DEPTH.dec()
                    queued = False
                    return await to_thread.run_sync(fn, *args, abandon_on_cancel=True)
        except TimeoutError:
            raise OverloadedError(
                f"the model call did not finish within {self.deadline_s:g} s", retry_after=2
            ) from None
        finally:
            if queued:
                QUEUE_DEPTH.dec()
