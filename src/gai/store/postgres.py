"""`PostgresStore`: runs and state in PostgreSQL, shared by many processes (extra: postgres)."""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import json
from collections.abc import Awaitable, Generator, Sequence
from typing import Any

from gai.errors import (
    MissingExtraError,
    RunExistsError,
    RunNotFoundError,
    SchemaVersionError,
    SessionConflictError,
    StoreError,
)
from gai.store import _rows
from gai.store._migrations import MIGRATIONS
from gai.store.base import BaseStore, prepare_serializers, result_json, snapshot_json
from gai.store.entries import Entry, LogEntry, NewRun
from gai.store.records import (
    Checkpoint,
    RunRecord,
    RunStatus,
    RunSummary,
    SessionItem,
    SessionSummary,
    utcnow,
)

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
        self._batches: dict[asyncio.AbstractEventLoop, _Batch] = {}
        self._flushers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

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

    def write(self, entries: Sequence[Entry]) -> Awaitable[None]:
        """Queue `entries` for the next transaction; awaiting the result waits for it.

        The writes of all runs of this process that arrive while a transaction commits
        go to the database together in the next one (group commit): one connection,
        one commit for many runs. A batch that fails is written again one write at a
        time, so each run gets its own error and the others are not held back by it.
        """
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = _Batch(loop)
            if loop not in self._flushers:
                self._flushers[loop] = loop.create_task(self._flush_all(loop))
        return batch.add(entries)

    async def _flush_all(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while batch := self._batches.pop(loop, None):
                try:
                    async with self._pool.connection() as conn, conn.transaction():
                        await self._write_batch(conn, batch.writes)
                except Exception:
                    batch.done([await self._alone(entries) for entries in batch.writes])
                else:
                    batch.done([None] * len(batch.writes))
        finally:
            del self._flushers[loop]

    async def _alone(self, entries: Sequence[Entry]) -> BaseException | None:
        """`entries` written in a transaction of their own: None, or the error."""
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await self._write_batch(conn, [entries])
        except psycopg.errors.UniqueViolation as exc:
            entry = entries[0]
            if isinstance(exc.diag.table_name, str) and exc.diag.table_name == "gai_runs":
                return RunExistsError(
                    f"Run {entry.run_id!r} already exists; resume it or use another run_id."
                )
            return StoreError(
                f"A checkpoint of run {entry.run_id!r} is already in the PostgreSQL store: "
                f"another process is writing this run. Run each run in one place at a time."
            )
        except Exception as exc:
            return exc
        return None

    async def _write_batch(self, conn: Any, writes: Sequence[Sequence[Entry]]) -> None:
        # New runs first, then every run's log entries in one statement, then status
        # changes: a run's later writes never come before its creation, and the log
        # entries of a batch, most of its writes, cost one round trip together.
        now = utcnow().isoformat()
        logs: list[LogEntry] = []
        changes: list[Entry] = []
        for entries in writes:
            for entry in entries:
                if isinstance(entry, LogEntry):
                    logs.append(entry)
                elif isinstance(entry, NewRun):
                    await self._write_one(conn, entry, now)
                else:
                    changes.append(entry)
        if logs:
            await self._append(conn, logs, now)
        for entry in changes:
            await self._write_one(conn, entry, now)

    @staticmethod
    async def _append(conn: Any, entries: Sequence[LogEntry], now: str) -> None:
        # One statement: the runs' rows are touched (updated_at) and their entries
        # added; the entries of a run that is not there are not. The entries travel as
        # one JSON text: psycopg adapts text arrays element by element in Python, which
        # cost more CPU than the rest of the write.
        rows = json.dumps(
            [[e.run_id, e.seq, e.kind, e.step_number, e.data] for e in entries],
            ensure_ascii=False,
        )
        cur = await conn.execute(
            "WITH c AS (SELECT x->>0 AS run_id, (x->>1)::int AS seq, x->>2 AS kind,"
            " (x->>3)::int AS step_number, x->>4 AS payload"
            " FROM json_array_elements(%s::json) AS x),"
            " r AS (UPDATE gai_runs SET updated_at = %s"
            " WHERE run_id IN (SELECT run_id FROM c) RETURNING run_id)"
            " INSERT INTO gai_checkpoints (run_id, seq, kind, step_number, payload)"
            " SELECT c.run_id, c.seq, c.kind, c.step_number, c.payload"
            " FROM c JOIN r USING (run_id)",
            (rows, now),
        )
        if cur.rowcount != len(entries):
            ids = list(dict.fromkeys(e.run_id for e in entries))
            cur = await conn.execute("SELECT run_id FROM gai_runs WHERE run_id = ANY(%s)", (ids,))
            found = {row[0] for row in await cur.fetchall()}
            missing = next((run_id for run_id in ids if run_id not in found), ids[0])
            raise RunNotFoundError(f"No run {missing!r} in the PostgreSQL store.")

    @staticmethod
    async def _write_one(conn: Any, entry: Entry, now: str) -> None:
        if isinstance(entry, NewRun):
            await conn.execute(
                "INSERT INTO gai_runs (run_id, status, model, created_at, updated_at, snapshot)"
                " VALUES (%s, 'running', %s, %s, %s, %s)",
                (entry.run_id, entry.model, now, now, snapshot_json(entry.snapshot)),
            )
            return
        assert not isinstance(entry, LogEntry)  # appended by `_append`, in groups
        cur = await conn.execute(
            "UPDATE gai_runs SET status = %s, result = %s, error = %s, updated_at = %s"
            " WHERE run_id = %s",
            (
                entry.status,
                result_json(entry.status, entry.result),
                entry.error,
                now,
                entry.run_id,
            ),
        )
        if cur.rowcount == 0:
            raise RunNotFoundError(f"No run {entry.run_id!r} in the PostgreSQL store.")

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
        self,
        status: RunStatus | None = None,
        limit: int = 100,
        *,
        model: str | None = None,
        search: str | None = None,
        before: RunSummary | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first."""
        where, args = _rows.run_filter(status, model, search, before, since, until, "%s", "ILIKE")
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_rows.SUMMARY_COLUMNS} FROM gai_runs r{where}"
                " ORDER BY r.created_at DESC, r.run_id DESC LIMIT %s",
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

    async def _session_items(self, session_id: str) -> builtins.list[SessionItem]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_rows.SESSION_COLUMNS} FROM gai_session_items"
                " WHERE session_id = %s ORDER BY seq",
                (session_id,),
            )
            rows = await cur.fetchall()
        return [_rows.session_item(r) for r in rows]

    async def _session_append(self, session_id: str, items: Sequence[SessionItem]) -> None:
        now = utcnow().isoformat()
        try:
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor() as cur,
            ):
                await cur.executemany(
                    f"INSERT INTO gai_session_items (session_id, {_rows.SESSION_COLUMNS})"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [_rows.session_row(session_id, item, now) for item in items],
                )
        except psycopg.errors.UniqueViolation:
            raise SessionConflictError(
                f"Item {items[0].seq} of session {session_id!r} is taken: another run wrote "
                f"to the session meanwhile. Run the turn again; it starts from the "
                f"conversation as it now is."
            ) from None

    async def _session_truncate(self, session_id: str, from_seq: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM gai_session_items WHERE session_id = %s AND seq >= %s",
                (session_id, from_seq),
            )

    async def list_sessions(self, limit: int = 100) -> builtins.list[SessionSummary]:
        """Sessions, most recently written first."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(_rows.SESSION_LIST.format("%s"), (limit,))
            rows = await cur.fetchall()
        return [_rows.session_summary(r) for r in rows]

    async def aclose(self) -> None:
        """Close the pool (after committing the writes still queued)."""
        flusher = self._flushers.get(asyncio.get_running_loop())
        if flusher is not None:
            await asyncio.gather(flusher, return_exceptions=True)
        await self._pool.close()


class _Batch:
    """The writes that go in one transaction, and the errors they came back with."""

    __slots__ = ("_done", "writes")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.writes: list[Sequence[Entry]] = []
        self._done: asyncio.Future[list[BaseException | None]] = loop.create_future()

    def add(self, entries: Sequence[Entry]) -> _Commit:
        self.writes.append(entries)
        return _Commit(self._done, len(self.writes) - 1)

    def done(self, errors: list[BaseException | None]) -> None:
        self._done.set_result(errors)


class _Commit:
    """One write's share of its batch's commit, awaited for that write's error.

    Not a coroutine: a run that stops without waiting for its writes (they commit all
    the same) must not leave a coroutine that was never awaited.
    """

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: asyncio.Future[list[BaseException | None]], index: int) -> None:
        self._batch = batch
        self._index = index

    def __await__(self) -> Generator[Any, None, None]:
        errors = yield from self._batch.__await__()
        error = errors[self._index]
        if error is not None:
            raise error
