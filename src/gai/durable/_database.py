"""The DBOS system database, made ready before DBOS opens it."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

__all__ = ["prepare_database"]


def prepare_database(database_url: str) -> None:
    """Put a SQLite system database in WAL mode (PostgreSQL needs nothing).

    DBOS leaves SQLite in its default rollback-journal mode, where every commit writes,
    syncs and deletes a journal file: with a commit or two per run, that was a quarter
    of an empty durable run's CPU. In WAL mode a commit appends to one log and syncs it
    once, readers do not block the writer, and the mode stays with the file, so every
    process that opens it later (workers, clients) uses it too.
    """
    url = sa.make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    conn = sqlite3.connect(url.database, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
