"""What only the PostgreSQL store has: migrations, its indexes, a server that can be lost."""

from __future__ import annotations

import threading

import numpy as np
import psycopg
import pytest

from service.errors import StoreError
from service.store import EmbeddingInfo, SearchFilter, open_store
from service.store.migrate import migrate, migrations
from service.store.postgres import PostgresStore

INFO = EmbeddingInfo(model="test/model", dimension=8)


def test_migrations_are_numbered_and_shipped() -> None:
    steps = migrations()
    assert [s.version for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0].name == "init" and "CREATE EXTENSION IF NOT EXISTS vector" in steps[0].sql


def test_replicas_starting_together_migrate_once(pg_database: str) -> None:
    barrier = threading.Barrier(4)
    opened: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            store = open_store(pg_database, INFO)
            assert isinstance(store, PostgresStore)
            opened.append(store)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in opened:
        store.close()
    assert errors == [] and len(opened) == 4
    with psycopg.connect(pg_database, autocommit=True) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m.version for m in migrations()]
        assert migrate(conn) == []  # idempotent: a restart applies nothing
        assert conn.execute("SELECT count(*) FROM store_state").fetchone() == (1,)


def test_unfiltered_search_uses_the_hnsw_index(pg_database: str) -> None:
    store = open_store(pg_database, INFO)
    store.close()
    query = "[" + ",".join(["0.5"] * 8) + "]"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")  # a tiny table: make the planner show its options
        plan = conn.execute(
            "EXPLAIN SELECT id FROM claims WHERE searchable "
            f"ORDER BY embedding <=> '{query}' LIMIT 5"
        ).fetchall()
        assert "claims_embedding_hnsw" in "\n".join(r[0] for r in plan)
        kind = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'claims'::regclass AND attname = 'embedding'"
        ).fetchone()
        assert kind == ("vector(8)",)


def test_a_lost_server_is_a_store_error_without_the_password(pg_database: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store("postgresql://factcheck:s3cret@/nowhere?host=/nonexistent", INFO)
    assert "s3cret" not in str(info.value) and "nowhere" in str(info.value)

    store = open_store(pg_database, INFO)
    try:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreError):
            store.search_vector(np.ones(8, np.float32), 5, SearchFilter())
        assert store.count_claims() == 0  # the pool replaced the broken connection
    finally:
        store.close()
