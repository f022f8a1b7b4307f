"""The SQLite store on a real file with the real embedder: reindex through the CLI, two
processes on one file, FTS5 query building."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.cli import main
from service.embed import Embedder
from service.engine import embedding_info
from service.errors import ModelMismatchError
from service.ingest import ingest
from service.schemas import DocumentIn
from service.store import EmbeddingInfo, SearchFilter, SqliteStore
from service.store.sqlite_schema import fts_query

DOC = DocumentIn(
    id="port",
    title="Port",
    source="harbour-news",
    published_at="2024-02-06",
    text="The port of Rotterdam was closed on Tuesday after a storm damaged two cranes.\n"
    "Officials said repairs would take at least a week.",
)


def test_store_refuses_another_embedding_model(tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path, embedding_info(embedder)).close()
    other = EmbeddingInfo(model="sentence-transformers/all-mpnet-base-v2", dimension=768)
    with pytest.raises(ModelMismatchError, match="factcheck reindex"):
        SqliteStore(path, other)


def test_reindex_re_embeds_and_records_the_model(tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "s.db"
    old = EmbeddingInfo(model="an-older-model", dimension=embedder.dimension)
    store = SqliteStore(path, old)
    # Vectors of the "old" model: random, so search by the real model finds nothing useful.
    ingest(store, lambda texts: _random(len(texts), embedder.dimension), [DOC])
    store.close()

    cli_store = ["--store", str(path)]
    assert main(["check", "Rotterdam port storm", *cli_store]) == 1  # refused: other model
    assert main(["reindex", *cli_store]) == 0

    store = SqliteStore(path, embedding_info(embedder))
    query = embedder.encode(["A storm damaged cranes in the Rotterdam port"])[0]
    (claim_id, cosine), *_ = store.search_vector(query, 1, SearchFilter())
    assert cosine > 0.6
    assert "cranes" in store.fetch([claim_id])[claim_id][0].text
    assert store.index_version() == "2"
    store.close()


def test_two_store_instances_on_one_file_see_each_others_writes(
    tmp_path: Path, embedder: Embedder
) -> None:
    path = tmp_path / "s.db"
    info = embedding_info(embedder)
    first, second = SqliteStore(path, info), SqliteStore(path, info)
    query = embedder.encode(["storm damaged cranes in Rotterdam"])[0]
    assert second.search_vector(query, 5, SearchFilter()) == []
    ingest(first, embedder.encode, [DOC])
    found = second.search_vector(query, 5, SearchFilter())
    assert len(found) == 2  # reloaded from the file: the index version moved
    first.delete_document("port")
    assert second.search_vector(query, 5, SearchFilter()) == []
    assert second.search_text("Rotterdam cranes", 5, SearchFilter()) == []


def test_fts_query_quotes_words_and_drops_syntax() -> None:
    assert (
        fts_query('Xi "visited" Moscow OR NEAR(2022)')
        == '"xi" OR "visited" OR "moscow" OR "near" OR "2022"'
    )
    assert fts_query("the of and") == ""


def _random(n: int, dim: int) -> np.ndarray:
    v = np.random.default_rng(0).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
