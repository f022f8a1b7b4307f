"""Shared fixtures: the real models (loaded once per session) and apps on real stores.

Every test that uses ``settings`` (so every API test) runs twice: on a SQLite file and on
a fresh database of a real PostgreSQL 16 + pgvector server (``pgserver``), started once
per session in a temporary folder.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
from litestar.testing import TestClient

from service.app import create_app
from service.corpus import demo_documents
from service.embed import Embedder, offline_mode
from service.engine import Engine, embedding_info
from service.settings import DEFAULT_EMBEDDING_MODEL, PROJECT_ROOT, Settings
from service.stance import StanceModel
from service.store import open_store

SEEDS = PROJECT_ROOT.parent / "shared" / "data" / "seeds"

AppClient = TestClient  # type alias for readability in tests


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    offline_mode(True)
    return Embedder(DEFAULT_EMBEDDING_MODEL)


@pytest.fixture(scope="session")
def stance() -> StanceModel:
    offline_mode(True)
    return StanceModel(Settings.from_env().stance_model)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for the session; yields the URL of its maintenance database.

    Its data lives in a folder of its own under the system temp dir, not under pytest's
    ``basetemp``: as root, pgserver runs the server as a separate system user, and every
    pytest session resets ``/tmp/pytest-of-<user>`` to mode 0700, which would lock that
    user out of a server another session is still using.
    """
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import pgserver

        # As root, pgserver runs the server as a system user of its own (created on first use).
        pgdata = tempfile.mkdtemp(prefix="factcheck-pg-")
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


_DATABASES = itertools.count()


def database_url(server_url: str, name: str) -> str:
    """The server's URL with another database name."""
    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    name = f"test_{next(_DATABASES)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield database_url(pg_server, name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_stores`` run once per store; the others on the SQLite default."""
    if "store_location" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_stores"
    ):
        metafunc.parametrize("store_location", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ``store`` setting of a fresh, empty store (SQLite unless parametrized)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return str(tmp_path / "factcheck.db")
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def settings(store_location: str) -> Settings:
    return Settings(store=store_location, demo_path=str(SEEDS))


@pytest.fixture(scope="session")
def session_engine_factory(embedder: Embedder, stance: StanceModel) -> Callable[[Settings], Engine]:
    """Opens a fresh store on each call but reuses the session's models."""

    def factory(settings: Settings) -> Engine:
        store = open_store(
            settings.store,
            embedding_info(embedder),
            vector_index=settings.vector_index,
            lexical_index=settings.lexical_index,
        )
        return Engine(settings, store, embedder, stance)

    return factory


@pytest.fixture
def engine_factory(
    session_engine_factory: Callable[[Settings], Engine],
) -> Callable[[Settings], Engine]:
    return session_engine_factory


@pytest.fixture
def make_client(
    settings: Settings, engine_factory: Callable[[Settings], Engine]
) -> Callable[..., TestClient]:  # type: ignore[type-arg]
    def make(custom: Settings | None = None) -> TestClient:  # type: ignore[type-arg]
        app = create_app(custom or settings, engine_factory=engine_factory)
        return TestClient(app)

    return make


def wait_ready(client: TestClient, timeout: float = 60.0) -> None:  # type: ignore[type-arg]
    """Poll /health/ready until the lifespan has loaded the engine in the background."""
    deadline = time.monotonic() + timeout
    while (status := client.get("/health/ready").status_code) != 200:
        assert status == 503 and time.monotonic() < deadline, f"not ready: {status}"
        time.sleep(0.02)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with make_client() as c:
        wait_ready(c)
        yield c


@pytest.fixture
def demo_client(client: TestClient) -> TestClient:  # type: ignore[type-arg]
    """A client whose store holds the demo corpus, ingested over HTTP."""
    docs = [
        {
            "id": d.id,
            "title": d.title,
            "text": d.text,
            "published_at": d.published_at,
            "metadata": d.metadata,
        }
        for d in demo_documents(SEEDS)
    ]
    response = client.post("/v1/documents", json=docs)
    assert response.status_code == 201, response.text
    return client


def serve(settings: Settings, engine_factory: Callable[[Settings], Engine]) -> Iterator[str]:
    """Run the app under a real uvicorn in a thread on a free 127.0.0.1 port; yield its URL."""
    app = create_app(settings, engine_factory=engine_factory)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def live_url(settings: Settings, engine_factory: Callable[[Settings], Engine]) -> Iterator[str]:
    """The app served by a real uvicorn on 127.0.0.1 (a free port), in a thread."""
    yield from serve(settings, engine_factory)
