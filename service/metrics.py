"""Prometheus metrics (official ``prometheus_client``); ``/metrics`` serves them.

The objects live in the process-wide default registry, so any module may import and update
them (a batcher sets ``QUEUE_DEPTH``). Request counts and latencies are recorded by
:class:`service.telemetry.RequestContextMiddleware`, per route template, method and status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "factcheck"
P = ParamSpec("P")
R = TypeVar("R")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter(
    f"{PREFIX}_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    f"{PREFIX}_request_duration_seconds",
    "HTTP request latency, first byte received to last byte sent",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(f"{PREFIX}_requests_in_flight", "HTTP requests being served")
MODEL_SECONDS = Histogram(
    f"{PREFIX}_model_inference_seconds",
    "Time of one model call (a batch), by model",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    f"{PREFIX}_model_batch_size",
    "Texts (or statement-passage pairs) per model call, by model",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
QUEUE_DEPTH = Gauge(
    f"{PREFIX}_queue_depth", "Model work items waiting for a worker (or a batch) to take them"
)
CORPUS_DOCUMENTS = Gauge(f"{PREFIX}_corpus_documents", "Documents in the store")
CORPUS_CLAIMS = Gauge(f"{PREFIX}_corpus_claims", "Searchable claims (vectors) in the store")


@contextmanager
def model_call(model: str, size: int) -> Iterator[None]:
    """Record one model call's batch size and duration."""
    BATCH_SIZE.labels(model).observe(size)
    start = time.perf_counter()
    try:
        yield
    finally:
        MODEL_SECONDS.labels(model).observe(time.perf_counter() - start)


def timed(
    model: str, fn: Callable[Concatenate[Sequence[Any], P], R]
) -> Callable[Concatenate[Sequence[Any], P], R]:
    """``fn`` (a model call on a batch) recording its batch sizes and durations as ``model``."""

    def call(batch: Sequence[Any], /, *args: P.args, **kwargs: P.kwargs) -> R:
        with model_call(model, len(batch)):
            return fn(batch, *args, **kwargs)

    return call
