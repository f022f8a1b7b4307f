"""The micro-batcher's logic, with a stand-in batch function (no models)."""

from __future__ import annotations

import threading
import time

import pytest

from service.batching import MicroBatcher
from service.errors import FactCheckError, OverloadedError
from service.priority import Gate, Priority, current, running_as


class Recorder:
    """A batch function that records its batches and can hold the worker inside a call."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.inside = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, items: list[int]) -> list[int | Exception]:
        self.batches.append(items)
        self.inside.set()
        assert self.release.wait(10)
        if -1 in items:
            raise RuntimeError("the model call failed")
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


def test_items_waiting_during_a_call_go_together_into_the_next_one() -> None:
    run = Recorder()
    run.release.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=3, max_wait_s=0.0, max_queue=10)
    first = batcher.submit([0])
    assert run.inside.wait(10)
    later = batcher.submit([2, 4]) + batcher.submit([6, 8])
    assert batcher.waiting == 4
    run.release.set()
    assert first[0].result(10) == 0
    assert [f.result(10) for f in later] == [20, 40, 60, 80]
    assert run.batches == [[0], [2, 4, 6], [8]]  # at most max_batch per call, in order
    batcher.close()


def test_workers_run_batches_at_the_same_time() -> None:
    both_inside = threading.Barrier(2, timeout=10)  # broken unless two calls overlap

    def run(items: list[int]) -> list[int | Exception]:
        both_inside.wait()
        return [i * 10 for i in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(
        run, max_batch=2, max_wait_s=0.0, max_queue=10, workers=2
    )
    futures = batcher.submit([1, 2, 3, 4])  # two batches, one per worker
    assert [f.result(20) for f in futures] == [10, 20, 30, 40]
    batcher.close()


def test_results_and_errors_go_to_their_own_items() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(
        Recorder(), max_batch=8, max_wait_s=0.05, max_queue=8
    )
    futures = batcher.submit([2, 3, 4])
    assert futures[0].result(10) == 20 and futures[2].result(10) == 40
    with pytest.raises(ValueError, match="odd 3"):
        futures[1].result(10)
    batcher.close()
    batcher = MicroBatcher(run := Recorder(), max_batch=8, max_wait_s=0.05, max_queue=8)
    poisoned = batcher.submit([2, -1, 4])  # -1 fails the whole call: each item runs alone
    assert poisoned[0].result(10) == 20 and poisoned[2].result(10) == 40
    with pytest.raises(RuntimeError, match="model call failed"):
        poisoned[1].result(10)
    assert run.batches == [[2, -1, 4], [2], [-1], [4]]
    assert batcher.submit([6])[0].result(10) == 60  # the worker survives
    batcher.close()


def test_a_full_queue_refuses_all_or_nothing_and_close_drains() -> None:
    run = Recorder()
    run.release.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(
        run, max_batch=1, max_wait_s=0.0, max_queue=2, retry_after=3
    )
    held = batcher.submit([0])
    assert run.inside.wait(10)
    queued = batcher.submit([2])
    with pytest.raises(OverloadedError) as full:
        batcher.submit([4, 6])  # one place left, two asked: none queued
    assert full.value.retry_after == 3 and batcher.waiting == 1
    queued += batcher.submit([4])
    cancelled = queued[0].cancel()  # a caller that gave up costs no model time
    run.release.set()
    batcher.close()
    assert held[0].result(10) == 0 and queued[1].result(10) == 40
    assert cancelled and [0] in run.batches and [2] not in run.batches
    with pytest.raises(FactCheckError, match="shutting down"):
        batcher.submit([8])


def test_single_checks_have_a_lane_of_their_own_and_never_share_a_call() -> None:
    held, started = threading.Event(), threading.Event()
    calls: list[tuple[list[int], Priority]] = []

    def run(items: list[int]) -> list[int | Exception]:
        calls.append((items, current()))
        started.set()
        if 0 in items:
            assert held.wait(10)
        return [i * 10 for i in items]

    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=3, max_wait_s=0.0, max_queue=10)
    bulk = batcher.submit([0, 2], caller="batch")
    assert started.wait(10)  # the bulk worker holds [0, 2]
    more = batcher.submit([4], caller="batch")
    single = batcher.submit([10, 12], caller="editor", single=True)
    # served while the bulk call still runs, on its own lane, at interactive priority
    assert [f.result(10) for f in single] == [100, 120] and not bulk[0].done()
    held.set()
    assert [f.result(10) for f in bulk + more] == [0, 20, 40]
    assert calls == [
        ([0, 2], Priority.BULK),
        ([10, 12], Priority.INTERACTIVE),
        ([4], Priority.BULK),
    ]
    batcher.close()


def test_the_gate_lets_the_highest_priority_waiter_in_first() -> None:
    gate = Gate()
    order: list[str] = []
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gate.slot():
            entered.set()
            assert release.wait(10)

    def wait_as(name: str, at: Priority) -> None:
        with running_as(at), gate.slot():
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    waiters = [
        threading.Thread(target=wait_as, args=(name, at))
        for name, at in (
            ("bulk 1", Priority.BULK),
            ("bulk 2", Priority.BULK),
            ("editor", Priority.INTERACTIVE),
        )
    ]
    for queued, thread in enumerate(waiters, start=1):  # each queued before the next starts
        thread.start()
        deadline = time.monotonic() + 10
        while gate.waiting < queued:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    release.set()
    for thread in [holder, *waiters]:
        thread.join(10)
    assert order == ["editor", "bulk 1", "bulk 2"]
    assert current() == Priority.BULK  # a thread's priority is its own
