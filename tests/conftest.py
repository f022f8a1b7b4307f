"""Shared fixtures: the real models (loaded once per session) and apps on real SQLite files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=str(tmp_path / "factcheck.db"), demo_path=str(SEEDS))


@pytest.fixture(scope="session")
def session_engine_factory(embedder: Embedder, stance: StanceModel) -> Callable[[Settings], Engine]:
    """Opens a fresh store on each call but reuses the session's models."""

    def factory(settings: Settings) -> Engine:
        store = open_store(
            settings.store, embedding_info(embedder), vector_index=settings.vector_index
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


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with make_client() as c:
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
