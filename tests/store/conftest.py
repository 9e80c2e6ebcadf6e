"""Store fixtures: the same tests run against memory, SQLite, PostgreSQL and Redis.

PostgreSQL and Redis tests run when GAI_TEST_POSTGRES_DSN / GAI_TEST_REDIS_URL are set
(`.ci/run` sets them; locally: eval "$(.ci/services.sh)").
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from gai.store import BaseStore, LogEntry, MemoryStore, SQLiteStore

BACKENDS = ["memory", "sqlite", "postgres", "redis"]


async def open_backend(kind: str, tmp_path: Path, *, fresh: bool = True) -> BaseStore:
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "gai.db")
    if kind == "postgres":
        dsn = os.environ.get("GAI_TEST_POSTGRES_DSN")
        if not dsn:
            pytest.skip('PostgreSQL tests need GAI_TEST_POSTGRES_DSN (eval "$(.ci/services.sh)")')
        from gai.store.postgres import PostgresStore

        store = await PostgresStore.open(dsn)
        if fresh:
            async with store._pool.connection() as conn:
                await conn.execute(
                    "TRUNCATE gai_runs, gai_checkpoints, gai_state, gai_session_items"
                )
        return store
    url = os.environ.get("GAI_TEST_REDIS_URL")
    if not url:
        pytest.skip('Redis tests need GAI_TEST_REDIS_URL (eval "$(.ci/services.sh)")')
    from gai.store.redis import RedisStore

    redis_store = await RedisStore.open(url)
    if fresh:
        await redis_store._redis.flushdb()
        await redis_store._redis.hset("gai:meta", "schema_version", "1")
    return redis_store


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStore]:
    backend = await open_backend(request.param, tmp_path)
    try:
        yield backend
    finally:
        await backend.aclose()


def log(run_id: str, seq: int, kind: Any, step_number: int, payload: object) -> LogEntry:
    """A log entry holding `payload` (a dict or a pydantic model) as JSON."""
    if isinstance(payload, BaseModel):
        data = payload.model_dump_json(exclude_none=True)
    else:
        data = orjson.dumps(payload).decode()
    return LogEntry(run_id, seq, kind, step_number, data)
