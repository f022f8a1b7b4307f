"""The micro-batcher's logic, with a stand-in batch function (no models)."""

from __future__ import annotations

import threading

import pytest

from service.batching import MicroBatcher
from service.errors import FactCheckError, OverloadedError


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


def test_single_checks_go_first_into_the_next_call() -> None:
    run = Recorder()
    run.release.clear()
    batcher: MicroBatcher[int, int] = MicroBatcher(run, max_batch=3, max_wait_s=0.0, max_queue=10)
    batcher.submit([0])
    assert run.inside.wait(10)
    bulk = batcher.submit([2, 4, 6, 8], caller="batch")
    single = batcher.submit([10], caller="editor", single=True)
    run.release.set()
    assert single[0].result(10) == 100 and [f.result(10) for f in bulk] == [20, 40, 60, 80]
    assert run.batches == [[0], [10, 2, 4], [6, 8]]
    batcher.close()
