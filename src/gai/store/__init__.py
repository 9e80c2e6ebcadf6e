"""Stores for run checkpoints and workflow state: memory, SQLite (default), PostgreSQL, Redis.

`open_store(url)` picks the backend from a URL: `memory://`, `sqlite:///path/to/gai.db`
(or a plain path), `postgresql://...`, `redis://...`. PostgreSQL and Redis need the
`gai[postgres]` and `gai[redis]` extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gai.errors import UserError
from gai.store.base import BaseStore, RunStore, StateStorage
from gai.store.entries import Entry, LogEntry, NewRun, StatusChange
from gai.store.memory import MemoryStore
from gai.store.records import (
    SCHEMA_VERSION,
    Checkpoint,
    PendingStep,
    RecordedResponse,
    RunRecord,
    RunSnapshot,
    RunStatus,
    RunSummary,
    SessionItem,
    SessionSummary,
    WorkflowState,
)
from gai.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from gai.store.postgres import PostgresStore
    from gai.store.redis import RedisStore

__all__ = [
    "SCHEMA_VERSION",
    "BaseStore",
    "Checkpoint",
    "Entry",
    "LogEntry",
    "MemoryStore",
    "NewRun",
    "PendingStep",
    "PostgresStore",
    "RecordedResponse",
    "RedisStore",
    "RunRecord",
    "RunSnapshot",
    "RunStatus",
    "RunStore",
    "RunSummary",
    "SQLiteStore",
    "SessionItem",
    "SessionSummary",
    "StateStorage",
    "StatusChange",
    "WorkflowState",
    "open_store",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from gai.store.postgres import PostgresStore

        return PostgresStore
    if name == "RedisStore":
        from gai.store.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module 'gai.store' has no attribute {name!r}")


async def open_store(url: str, *, create: bool = True) -> BaseStore:
    """Open the store a URL names.

    Args:
        url: `memory://`, `sqlite:///path.db` or a file path, `postgresql://...`,
            `redis://...`.
        create: Create a SQLite file (and its folder) that does not exist yet; with
            False, a missing file is an error (for commands that only read).

    Raises:
        UserError: The URL's scheme is not a known store.
        StoreError: `create` is False and there is no SQLite file at the path, or the
            file is not a gai store.
        MissingExtraError: The backend's extra is not installed.
    """
    if url.startswith("memory:"):
        return MemoryStore()
    if url.startswith(("postgresql://", "postgres://")):
        from gai.store.postgres import PostgresStore

        return await PostgresStore.open(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from gai.store.redis import RedisStore

        return await RedisStore.open(url)
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:").removeprefix("//") or "gai.db"
    elif "://" in url:
        raise UserError(
            f"Unknown store URL {url!r}: use memory://, sqlite:///path.db, postgresql://... "
            f"or redis://..."
        )
    else:
        path = url
    return SQLiteStore(path, create=create)
