"""`SQLiteStore`: the embedded default — one file, WAL, safe across threads and processes."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from gai.errors import RunExistsError, RunNotFoundError, SchemaVersionError, StoreError
from gai.store import _rows
from gai.store._migrations import MIGRATIONS
from gai.store.base import BaseStore
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

__all__ = ["SQLiteStore"]

T = TypeVar("T")


_Write = Callable[..., None]
"""A queued write: called as write(conn, touched, path, *args); `touched` notes which
runs this transaction has already found (and stamped)."""
_Entry = tuple[_Write, tuple[Any, ...], "asyncio.Future[None]"]


def _touch(
    conn: sqlite3.Connection, touched: dict[str, bool], path: str, run_id: str, now: str
) -> None:
    if run_id not in touched:
        touched[run_id] = bool(
            conn.execute(
                "UPDATE gai_runs SET updated_at = ? WHERE run_id = ?", (now, run_id)
            ).rowcount
        )
    if not touched[run_id]:
        raise RunNotFoundError(f"No run {run_id!r} in SQLite store {path}.")


def _insert_run(
    conn: sqlite3.Connection,
    touched: dict[str, bool],
    path: str,
    run_id: str,
    model: str,
    now: str,
    snapshot: str,
) -> None:
    try:
        conn.execute(
            "INSERT INTO gai_runs (run_id, status, model, created_at, updated_at, snapshot)"
            " VALUES (?, 'running', ?, ?, ?, ?)",
            (run_id, model, now, now, snapshot),
        )
    except sqlite3.IntegrityError:
        raise RunExistsError(
            f"Run {run_id!r} already exists; resume it or use another run_id."
        ) from None
    touched[run_id] = True


_INSERT_CHECKPOINT = (
    "INSERT INTO gai_checkpoints (run_id, seq, kind, step_number, payload)"
    " SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM gai_checkpoints WHERE run_id = ?"
)


def _insert_checkpoint(
    conn: sqlite3.Connection,
    touched: dict[str, bool],
    path: str,
    run_id: str,
    kind: str,
    step_number: int,
    data: str,
    now: str,
) -> None:
    _touch(conn, touched, path, run_id, now)
    conn.execute(_INSERT_CHECKPOINT, (run_id, kind, step_number, data, run_id))


def _write_batch(
    conn: sqlite3.Connection, ops: list[tuple[_Write, tuple[Any, ...]]], path: str
) -> list[Exception | None]:
    """Run queued writes in order; each one's error (unknown or duplicate run) or None.

    Consecutive checkpoints go to SQLite in one `executemany`: most of a busy batch is
    checkpoints, and one call per row costs more than SQLite's own work.
    """
    touched: dict[str, bool] = {}
    outcomes: list[Exception | None] = []
    rows: list[tuple[Any, ...]] = []
    for op, args in ops:
        try:
            if op is _insert_checkpoint:
                run_id, kind, step_number, data, now = args
                _touch(conn, touched, path, run_id, now)
                rows.append((run_id, kind, step_number, data, run_id))
            else:
                if rows:
                    conn.executemany(_INSERT_CHECKPOINT, rows)
                    rows.clear()
                op(conn, touched, path, *args)
        except (RunExistsError, RunNotFoundError) as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)
    if rows:
        conn.executemany(_INSERT_CHECKPOINT, rows)
    return outcomes


def _update_status(
    conn: sqlite3.Connection,
    touched: dict[str, bool],
    path: str,
    run_id: str,
    status: str,
    result: str | None,
    error: str | None,
    now: str,
) -> None:
    changed = conn.execute(
        "UPDATE gai_runs SET status = ?, result = ?, error = ?, updated_at = ? WHERE run_id = ?",
        (status, result, error, now, run_id),
    ).rowcount
    if not changed:
        raise RunNotFoundError(f"No run {run_id!r} in SQLite store {path}.")
    touched[run_id] = True


def _in_transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], None]) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue on the
    # busy timeout instead of failing halfway through.
    conn.execute("BEGIN IMMEDIATE")
    try:
        body(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SQLiteStore(BaseStore):
    """Runs and state in a SQLite file.

    The database runs in WAL mode with a busy timeout, so several runs in one process
    and several processes on one machine can write at once. Each checkpoint is its own
    committed transaction, so a killed process loses at most the write in progress.
    Calls run on one worker thread per store, off the event loop.

    Args:
        path: Database file (created with its folder if missing), or ":memory:".
        busy_timeout: Seconds to wait for another writer's lock.

    Raises:
        SchemaVersionError: The file was written by a newer gai.
    """

    kind = "sqlite"

    def __init__(self, path: str | Path = "gai.db", *, busy_timeout: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gai-sqlite")
        self._queues: dict[asyncio.AbstractEventLoop, list[_Entry]] = {}
        self._flushers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()

    def _migrate(self) -> None:
        def migrate(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS gai_meta (key TEXT PRIMARY KEY, value TEXT)")
            row = conn.execute("SELECT value FROM gai_meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise SchemaVersionError(f"SQLite store {self.path}", version, len(MIGRATIONS))
            for statements in MIGRATIONS[version:]:
                for sql in statements:
                    conn.execute(sql)
            conn.execute(
                "INSERT INTO gai_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(len(MIGRATIONS)),),
            )

        _in_transaction(self._conn, migrate)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            with self._lock:
                try:
                    return fn(self._conn)
                except sqlite3.Error as exc:
                    raise StoreError(f"SQLite store {self.path}: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def create_run(self, run_id: str, model: str, snapshot: RunSnapshot) -> None:
        """Record a new run."""
        now = utcnow().isoformat()
        await self._write(_insert_run, (run_id, model, now, snapshot.model_dump_json()))

    async def append(
        self, run_id: str, kind: CheckpointKind, step_number: int, payload: dict[str, Any]
    ) -> None:
        """Append a checkpoint; it is committed before this returns.

        Checkpoints from concurrent runs are committed together (group commit): each
        caller still waits for its own commit, but many runs share one transaction and
        one trip to the database thread.
        """
        await self.append_json(run_id, kind, step_number, orjson.dumps(payload).decode())

    def append_json(
        self, run_id: str, kind: CheckpointKind, step_number: int, data: str
    ) -> Awaitable[None]:
        """`append` with the payload already serialised as a JSON object."""
        # A plain function handing back the commit's future: with many runs in flight,
        # every coroutine and closure held while a batch commits is garbage-collector work.
        return self._write(
            _insert_checkpoint, (run_id, kind, step_number, data, utcnow().isoformat())
        )

    def _write(self, write: _Write, args: tuple[Any, ...]) -> asyncio.Future[None]:
        """Queue a write; the future resolves once its transaction has committed.

        One flusher per event loop writes everything queued in one transaction; what
        arrives meanwhile waits for the next one. The busier the store, the larger the
        batches, so commits and trips to the database thread stay few.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queues.setdefault(loop, []).append((write, args, done))
        if loop not in self._flushers:
            self._flushers[loop] = loop.create_task(self._flush_all(loop))
        return done

    async def _flush_all(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while batch := self._queues.pop(loop, None):
                await self._flush(batch)
        finally:
            del self._flushers[loop]

    async def _flush(self, batch: list[_Entry]) -> None:
        def write(conn: sqlite3.Connection) -> list[Exception | None]:
            outcomes: list[Exception | None] = []
            ops = [(op, args) for op, args, _ in batch]

            def write_all(conn: sqlite3.Connection) -> None:
                outcomes.extend(_write_batch(conn, ops, self.path))

            _in_transaction(conn, write_all)
            return outcomes

        try:
            outcomes = await self._run(write)
        except Exception as exc:
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for (_, _, done), error in zip(batch, outcomes, strict=True):
            if done.done():
                continue
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    async def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: TextResult | None = None,
        error: str | None = None,
    ) -> None:
        """Record the run's status."""
        data = result.model_dump_json() if result is not None else None
        await self._write(_update_status, (run_id, status, data, error, utcnow().isoformat()))

    async def _load_row(self, run_id: str) -> RunRecord | None:
        row = await self._run(
            lambda conn: conn.execute(
                f"SELECT {_rows.RUN_COLUMNS} FROM gai_runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        )
        if row is None:
            return None
        return _rows.record(row)

    async def _load_checkpoints(self, run_id: str) -> list[Checkpoint]:
        rows = await self._run(
            lambda conn: conn.execute(
                "SELECT seq, kind, step_number, payload FROM gai_checkpoints"
                " WHERE run_id = ? ORDER BY seq",
                (run_id,),
            ).fetchall()
        )
        return _rows.checkpoints(rows)

    async def list_runs(
        self, status: RunStatus | None = None, limit: int = 100
    ) -> list[RunSummary]:
        """Runs, newest first."""
        where, args = ("WHERE r.status = ?", (status,)) if status else ("", ())
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {_rows.SUMMARY_COLUMNS}"
                f" FROM gai_runs r {where} ORDER BY r.created_at DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        )
        return [_rows.summary(r) for r in rows]

    async def delete_run(self, run_id: str) -> None:
        """Forget a run."""

        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM gai_checkpoints WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM gai_runs WHERE run_id = ?", (run_id,))

        await self._run(delete)

    async def _save_state(self, key: str, data: str) -> None:
        now = utcnow().isoformat()
        await self._run(
            lambda conn: conn.execute(
                "INSERT INTO gai_state (key, data, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (key, data, now),
            )
        )

    async def _load_state(self, key: str) -> str | None:
        row = await self._run(
            lambda conn: conn.execute("SELECT data FROM gai_state WHERE key = ?", (key,)).fetchone()
        )
        return None if row is None else str(row[0])

    async def delete(self, key: str) -> None:
        """Remove a state key."""
        await self._run(lambda conn: conn.execute("DELETE FROM gai_state WHERE key = ?", (key,)))

    async def list(self, prefix: str = "") -> list[str]:
        """State keys with `prefix`."""
        # substr compares exactly; LIKE would ignore case.
        rows = await self._run(
            lambda conn: conn.execute(
                "SELECT key FROM gai_state WHERE substr(key, 1, ?) = ? ORDER BY key",
                (len(prefix), prefix),
            ).fetchall()
        )
        return [str(r[0]) for r in rows]

    async def aclose(self) -> None:
        """Close the database (after committing checkpoints still queued)."""
        flusher = self._flushers.get(asyncio.get_running_loop())
        if flusher is not None:
            await asyncio.gather(flusher, return_exceptions=True)
        await self._run(lambda conn: conn.close())
        self._executor.shutdown(wait=False)
