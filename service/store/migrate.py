"""Schema migrations of the PostgreSQL store: numbered SQL files applied once, in order.

``service/store/migrations/NNNN_name.sql`` files are the schema's history; a database
records what it has applied in ``schema_migrations``. Every replica runs :func:`migrate`
at start: a session advisory lock makes replicas that start together take turns, so the
second finds the work done and applies nothing. Each file runs in its own transaction
with its bookkeeping row, so a failed migration leaves no half-applied schema.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, NamedTuple

import psycopg

# Any fixed 64-bit key, shared by every replica of this service.
MIGRATION_LOCK = 0x66616374636B  # "factck"
_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


class Migration(NamedTuple):
    """One schema step."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations shipped with the package, oldest first."""
    found = []
    for entry in resources.files("service.store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the pending migrations on an autocommit connection; returns their versions."""
    applied: list[int] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
        done = {int(row[0]) for row in rows}
        for step in migrations():
            if step.version in done:
                continue
            with conn.transaction():
                conn.execute(step.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (step.version, step.name),
                )
            applied.append(step.version)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied
