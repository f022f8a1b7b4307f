"""Slow clients against a real ``factcheck serve``: deadlines for a request's head and body,
and a connection limit, so that dripped bytes cannot hold the server's connections.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("slow")
    live = LiveServer(
        tmp / "store.db",
        tmp / "server.log",
        header_timeout_s="1",
        body_timeout_s="1",
        max_connections="4",
    )
    with live:
        yield live


def _connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float:
    """Seconds until the server closes ``sock`` (dripping a byte every 0.2 s meanwhile)."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            if drip:
                sock.sendall(drip)
        except ConnectionError:
            return time.monotonic() - start
    raise AssertionError(f"the connection was still open after {seconds} s")


def test_a_silent_connection_is_closed(server: LiveServer) -> None:
    with _connect(server) as sock:
        assert _closed_within(sock, 5) < 4


def test_a_dripped_request_head_is_closed(server: LiveServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n")
        assert _closed_within(sock, 5, drip=b"X") < 4


def test_a_stalled_body_is_closed_and_the_server_still_serves(server: LiveServer) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"statement": '
        )
        assert _closed_within(sock, 5) < 4
    ok = httpx.post(f"{server.url}/v1/check", json={"statement": "Port closed"}, timeout=60)
    assert ok.status_code == 200, ok.text


def test_connections_beyond_the_limit_get_503_not_a_hang(server: LiveServer) -> None:
    held = [_connect(server) for _ in range(4)]
    try:
        busy = httpx.get(f"{server.url}/health/live", timeout=10)
        assert busy.status_code == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)
    assert httpx.get(f"{server.url}/health/live", timeout=10).status_code == 200


def test_the_log_names_no_error(server: LiveServer) -> None:
    lines = Path(server.log).read_text().splitlines()
    assert not [line for line in lines if '"level": "error"' in line]
