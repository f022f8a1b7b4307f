"""Work of a client that went away, or of a request past its deadline, stops.

A live uvicorn server, the real models and SQLite store; the stance model is counted
(or slowed) so that the test sees how many model calls still run.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest

from service.engine import Engine
from service.settings import Settings
from service.stance import StanceModel
from tests.conftest import serve
from tests.test_api import ARTICLE

STORM = "A storm damaged cranes in the port of Rotterdam"


class CountingStance:
    """The real stance model, counting its calls, each made a little slower."""

    def __init__(self, inner: StanceModel, delay_s: float = 0.05) -> None:
        self.inner = inner
        self.name = inner.name
        self.delay_s = delay_s
        self.calls = 0

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:  # type: ignore[type-arg]
        self.calls += 1
        time.sleep(self.delay_s)
        return self.inner.predict(pairs, batch_size=batch_size)


@pytest.fixture
def counted(
    settings: Settings, engine_factory: Callable[[Settings], Engine], stance: StanceModel
) -> Iterator[tuple[str, CountingStance]]:
    counter = CountingStance(stance)

    def factory(s: Settings) -> Engine:
        engine = engine_factory(s)
        engine.stance = counter  # type: ignore[assignment]
        return engine

    small = msgspec.structs.replace(
        settings, microbatch_size=2, stream_window=4, microbatch_workers=1
    )
    for url in serve(small, factory):
        httpx.post(f"{url}/v1/documents", json=ARTICLE, timeout=60).raise_for_status()
        yield url, counter


def _settled(counter: CountingStance, quiet_s: float = 1.5, limit_s: float = 30) -> int:
    """The call count once it has not moved for ``quiet_s``."""
    deadline = time.monotonic() + limit_s
    last = counter.calls
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        if counter.calls == last:
            return last
        last = counter.calls
    raise AssertionError("model calls never stopped")


def _abandon_stream(url: str, body: bytes, *, finish_body: bool) -> bytes:
    """POST ``body`` to the stream (chunked), read the first result line, then hang up.

    A raw socket: an HTTP client library sends the whole body before reading a response.
    """
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(
            b"POST /v1/check/stream HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(body):x}\r\n".encode()
            + body
            + b"\r\n"
            + (b"0\r\n\r\n" if finish_body else b"")
        )
        received = b""
        while b"\r\n\r\n" not in received or b'"index"' not in received:
            received += sock.recv(65536)
        sock.shutdown(socket.SHUT_RDWR)
    return received


@pytest.mark.parametrize("finish_body", [True, False], ids=["after-body", "mid-body"])
def test_an_abandoned_stream_stops_being_checked(
    counted: tuple[str, CountingStance], finish_body: bool
) -> None:
    url, counter = counted
    lines = [msgspec.json.encode({"id": i, "statement": f"{STORM} {i}"}) for i in range(200)]
    before = counter.calls
    answer = _abandon_stream(url, b"\n".join(lines) + b"\n", finish_body=finish_body)
    assert b" 200 OK" in answer.split(b"\r\n")[0]
    # 200 statements at 2 per call would be 100 calls; the window (4) and one call in
    # progress bound what runs after the disconnect
    calls = _settled(counter) - before
    assert calls <= 10, calls
    assert httpx.post(f"{url}/v1/check", json={"statement": STORM}, timeout=60).status_code == 200


def test_metrics_count_client_disconnects_apart_from_server_errors(
    counted: tuple[str, CountingStance],
) -> None:
    url, counter = counted
    with (
        httpx.Client(timeout=60) as http,
        http.stream(
            "POST",
            f"{url}/v1/check/stream",
            content=b"".join(msgspec.json.encode({"statement": STORM}) + b"\n" for _ in range(50)),
            headers={"content-type": "application/x-ndjson"},
        ) as response,
    ):
        next(response.iter_lines())
    _settled(counter, quiet_s=0.5)
    text = httpx.get(f"{url}/metrics", timeout=10).text
    stream = [
        line
        for line in text.splitlines()
        if line.startswith("factcheck_requests_total{") and "/v1/check/stream" in line
    ]
    assert any('status="499"' in line for line in stream), stream
    assert not any('status="5' in line for line in stream), stream


class SlowEmbedder:
    """The real embedder, each call slowed down, recording texts and overlapping calls."""

    def __init__(self, inner: Any, delay_s: float = 0.3) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.texts = self.active = self.max_active = 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def encode(self, texts: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.delay_s)
            self.texts += len(texts)
            return self.inner.encode(texts, *args, **kwargs)
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def slow_ingest(
    settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> Iterator[tuple[str, SlowEmbedder]]:
    slow: list[SlowEmbedder] = []

    def factory(s: Settings) -> Engine:
        engine = engine_factory(s)
        slow.append(SlowEmbedder(engine.embedder))
        engine.embedder = slow[0]  # type: ignore[assignment]
        return engine

    for url in serve(msgspec.structs.replace(settings, request_timeout_s=2.0), factory):
        while httpx.get(f"{url}/health/ready", timeout=10).status_code != 200:
            time.sleep(0.05)
        yield url, slow[0]


def _texts_settled(embedder: SlowEmbedder, quiet_s: float = 1.5) -> int:
    last = -1
    while embedder.texts != last:
        last = embedder.texts
        time.sleep(quiet_s)
    return last


def test_an_ingest_past_its_deadline_stops_and_holds_its_key_until_it_has(
    slow_ingest: tuple[str, SlowEmbedder],
) -> None:
    url, embedder = slow_ingest
    sentences = " ".join(f"The harbour crane number {i} was repaired on site." for i in range(40))
    docs = [{"id": f"bulk-{d}", "text": sentences.replace("crane", f"crane{d}")} for d in range(30)]
    headers = {"Idempotency-Key": "bulk-ingest-1"}
    with httpx.Client(base_url=url, timeout=120) as http:
        first = http.post("/v1/documents", json=docs, headers=headers)
        assert first.status_code == 503, first.text
        # the retry waits for the first copy to stop, then runs (and misses the deadline too)
        retry = http.post("/v1/documents", json=docs, headers=headers)
        assert retry.status_code == 503, retry.text
        embedded = _texts_settled(embedder)
        assert embedder.max_active == 1  # never two copies at once
        # 1,200 claims, 16 per call at 0.3 s or more: each copy stopped at its next call
        assert embedded <= 2 * 16 * 10, embedded
        assert http.get("/v1/documents").json()["total"] == 0  # and nothing was committed
        # the key was dropped with the work: no response is recorded for work never done.
        # The copy may still be between model calls (spaCy under load): until it stops the
        # key is held (422 for another body); a key kept with a response stays 422.
        small = {"id": "small", "text": "The harbour reopened."}
        deadline = time.monotonic() + 30
        while (
            status := http.post("/v1/documents", json=small, headers=headers).status_code
        ) == 422:
            assert time.monotonic() < deadline, "the key was never dropped"
            time.sleep(0.5)
        assert status == 201
