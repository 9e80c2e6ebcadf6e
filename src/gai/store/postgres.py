"""`PostgresStore`: runs and state in PostgreSQL, shared by many processes (extra: postgres)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import orjson

from gai.errors import (
    MissingExtraError,
    RunExistsError,
    RunNotFoundError,
    SchemaVersionError,
    StoreError,
)
from gai.store import _rows
from gai.store._migrations import MIGRATIONS
from gai.store.base import BaseStore, prepare_serializers, result_json, snapshot_json
from gai.store.records import (
    Checkpoint,
    CheckpointKind,
    RunRecord,
    RunSnapshot,
    RunStatus,
    RunSummary,
    utcnow,
)
from gai.types import TextResult

try:
    import psycopg
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("psycopg", "postgres") from exc

__all__ = ["PostgresStore"]

# Two processes migrating at once take turns on this advisory lock.
_MIGRATION_LOCK = 0x6A61_6931


class PostgresStore(BaseStore):
    """Runs and state in PostgreSQL, through an async connection pool (psycopg 3).

    Use `await PostgresStore.open(dsn)`; the schema is created or migrated on open.

    Args:
        pool: An open psycopg `AsyncConnectionPool`.
    """

    kind = "postgres"

    def __init__(self, pool: AsyncConnectionPool) -> None:
        prepare_serializers()
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> PostgresStore:
        """Connect, then create or migrate the schema.

        Raises:
            SchemaVersionError: The database was migrated by a newer gai.
            StoreError: The database cannot be reached.
        """
        pool = AsyncConnectionPool(dsn, min_size=min_size, max_size=max_size, open=False)
        try:
            await pool.open(wait=True, timeout=30)
        except Exception as exc:
            await pool.close()
            raise StoreError(f"Cannot connect to PostgreSQL ({exc}).") from exc
        store = cls(pool)
        try:
            await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def _migrate(self) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS gai_meta (key TEXT PRIMARY KEY, value TEXT)"
            )
            cur = await conn.execute("SELECT value FROM gai_meta WHERE key = 'schema_version'")
            row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise SchemaVersionError("PostgreSQL store", version, len(MIGRATIONS))
            for statements in MIGRATIONS[version:]:
                for sql in statements:
                    await conn.execute(sql)
            await conn.execute(
                "INSERT INTO gai_meta (key, value) VALUES ('schema_version', %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(len(MIGRATIONS)),),
            )

    async def create_run(self, run_id: str, model: str, snapshot: RunSnapshot) -> None:
        """Record a new run."""
        now = utcnow().isoformat()
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO gai_runs (run_id, status, model, created_at, updated_at, snapshot)"
                    " VALUES (%s, 'running', %s, %s, %s, %s)",
                    (run_id, model, now, now, snapshot_json(snapshot)),
                )
        except psycopg.errors.UniqueViolation:
            raise RunExistsError(
                f"Run {run_id!r} already exists; resume it or use another run_id."
            ) from None

    async def append(
        self, run_id: str, kind: CheckpointKind, step_number: int, payload: dict[str, Any]
    ) -> None:
        """Append a checkpoint in its own transaction."""
        await self.append_json(run_id, kind, step_number, orjson.dumps(payload).decode())

    def append_json(
        self, run_id: str, kind: CheckpointKind, step_number: int, data: str
    ) -> Awaitable[None]:
        """`append` with the payload already serialised as a JSON object."""
        return self._append_json(run_id, kind, step_number, data)

    async def _append_json(
        self, run_id: str, kind: CheckpointKind, step_number: int, data: str
    ) -> None:
        now = utcnow().isoformat()
        async with self._pool.connection() as conn, conn.transaction():
            # Locking the run row orders concurrent appends to one run.
            cur = await conn.execute(
                "UPDATE gai_runs SET updated_at = %s WHERE run_id = %s RETURNING run_id",
                (now, run_id),
            )
            if await cur.fetchone() is None:
                raise RunNotFoundError(f"No run {run_id!r} in the PostgreSQL store.")
            await conn.execute(
                "INSERT INTO gai_checkpoints (run_id, seq, kind, step_number, payload)"
                " SELECT %s, COALESCE(MAX(seq), 0) + 1, %s, %s, %s"
                " FROM gai_checkpoints WHERE run_id = %s",
                (run_id, kind, step_number, data, run_id),
            )

    async def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: TextResult | None = None,
        error: str | None = None,
    ) -> None:
        """Record the run's status."""
        data = result_json(status, result)
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE gai_runs SET status = %s, result = %s, error = %s, updated_at = %s"
                " WHERE run_id = %s",
                (status, data, error, utcnow().isoformat(), run_id),
            )
            if cur.rowcount == 0:
                raise RunNotFoundError(f"No run {run_id!r} in the PostgreSQL store.")

    async def _load_row(self, run_id: str) -> RunRecord | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_rows.RUN_COLUMNS} FROM gai_runs WHERE run_id = %s",
                (run_id,),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return _rows.record(row)

    async def _load_checkpoints(self, run_id: str) -> list[Checkpoint]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT seq, kind, step_number, payload FROM gai_checkpoints"
                " WHERE run_id = %s ORDER BY seq",
                (run_id,),
            )
            rows = await cur.fetchall()
        return _rows.checkpoints(rows)

    async def list_runs(
        self, status: RunStatus | None = None, limit: int = 100
    ) -> list[RunSummary]:
        """Runs, newest first."""
        where, args = ("WHERE r.status = %s", (status,)) if status else ("", ())
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_rows.SUMMARY_COLUMNS}"
                f" FROM gai_runs r {where} ORDER BY r.created_at DESC LIMIT %s",
                (*args, limit),
            )
            rows = await cur.fetchall()
        return [_rows.summary(r) for r in rows]

    async def delete_run(self, run_id: str) -> None:
        """Forget a run."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM gai_checkpoints WHERE run_id = %s", (run_id,))
            await conn.execute("DELETE FROM gai_runs WHERE run_id = %s", (run_id,))

    async def _save_state(self, key: str, data: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO gai_state (key, data, updated_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (key, data, utcnow().isoformat()),
            )

    async def _load_state(self, key: str) -> str | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT data FROM gai_state WHERE key = %s", (key,))
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def delete(self, key: str) -> None:
        """Remove a state key."""
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM gai_state WHERE key = %s", (key,))

    async def list(self, prefix: str = "") -> list[str]:
        """State keys with `prefix`."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT key FROM gai_state WHERE left(key, %s) = %s ORDER BY key",
                (len(prefix), prefix),
            )
            rows = await cur.fetchall()
        return [str(r[0]) for r in rows]

    async def aclose(self) -> None:
        """Close the pool."""
        await self._pool.close()
