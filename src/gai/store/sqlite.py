"""`SQLiteStore`: the embedded default — one file, WAL, safe across threads and processes."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import orjson

from gai.errors import RunExistsError, RunNotFoundError, SchemaVersionError, StoreError
from gai.store import _rows
from gai.store._migrations import SQLITE_MIGRATIONS
from gai.store.base import BaseStore, result_json, snapshot_json
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


# Queued writes wait in one flat list per event loop, _WIDTH items each:
# (op, run_id, a, b, c, d). A tuple or future per write would be garbage-collector work
# for every run in flight while its batch commits.
_CREATE, _CHECKPOINT, _STATUS = 0, 1, 2
_WIDTH = 6

_TOUCH_EVERY = 1.0
"""Seconds between refreshes of a running run's `updated_at` by its checkpoints."""

Failures = Mapping[str, Exception]
"""What a committed batch hands its writers: the error of each run whose write failed."""

_NO_FAILURES: Failures = MappingProxyType({})

# Checkpoint rows whose writer numbered them, and rows numbered here (the `append`
# protocol). Selecting from gai_runs inserts nothing for an unknown run: the shortfall
# in the row count says that some write must be retried one by one to find it.
_INSERT_NUMBERED = (
    "INSERT INTO gai_checkpoints (run_key, seq, kind, step_number, payload)"
    " SELECT run_key, ?, ?, ?, ? FROM gai_runs WHERE run_id = ?"
)
_INSERT_NEXT = (
    "INSERT INTO gai_checkpoints (run_key, seq, kind, step_number, payload)"
    " SELECT r.run_key, (SELECT COALESCE(MAX(c.seq), 0) + 1 FROM gai_checkpoints c"
    " WHERE c.run_key = r.run_key), ?, ?, ? FROM gai_runs r WHERE r.run_id = ?"
)


class _Batch(asyncio.Future[Failures]):
    """A batch's commit, awaited by every run with a write in it.

    Cancelling one of those runs must not cancel the commit the others wait for (nor
    leave it unresolvable): the batch refuses, and the cancelled run gets its
    `CancelledError` once the batch has committed, milliseconds later.
    """

    def cancel(self, msg: Any = None) -> bool:
        return False


class _Retry(Exception):
    """A batch wrote fewer checkpoints than queued; redo it write by write."""


def _not_found(run_id: str, path: str) -> RunNotFoundError:
    return RunNotFoundError(f"No run {run_id!r} in SQLite store {path}.")


def _create(
    conn: sqlite3.Connection, run_id: str, model: str, snapshot: str, now: str, path: str
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


def _status(
    conn: sqlite3.Connection,
    run_id: str,
    status: str,
    result: str | None,
    error: str | None,
    derived: bool,
    now: str,
    path: str,
) -> None:
    changed = conn.execute(
        "UPDATE gai_runs SET status = ?, result = ?, error = ?, derived_messages = ?,"
        " updated_at = ? WHERE run_id = ?",
        (status, result, error, int(derived), now, run_id),
    ).rowcount
    if not changed:
        raise _not_found(run_id, path)


def _checkpoint(
    conn: sqlite3.Connection,
    run_id: str,
    kind: str,
    step_number: int,
    data: str,
    seq: int | None,
    path: str,
) -> None:
    try:
        if seq is None:
            cursor = conn.execute(_INSERT_NEXT, (kind, step_number, data, run_id))
        else:
            cursor = conn.execute(_INSERT_NUMBERED, (seq, kind, step_number, data, run_id))
    except sqlite3.IntegrityError:
        raise StoreError(
            f"Checkpoint {seq} of run {run_id!r} is already in SQLite store {path}: another "
            f"process is writing this run. Run each run in one place at a time."
        ) from None
    if not cursor.rowcount:
        raise _not_found(run_id, path)


class _Writer:
    """The database thread's side of the write queue."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.touched_at: dict[str, float] = {}

    def write(self, conn: sqlite3.Connection, items: list[Any]) -> Failures:
        """Commit a batch in one transaction; the errors of runs whose writes failed.

        Consecutive checkpoints go to SQLite in one `executemany`: most of a busy batch is
        checkpoints, and one call per row costs more than SQLite's own work.
        """
        now = utcnow().isoformat()
        try:
            _in_transaction(conn, lambda conn: self._fast(conn, items, now))
        except (_Retry, sqlite3.IntegrityError, RunExistsError, RunNotFoundError):
            failures: dict[str, Exception] = {}
            _in_transaction(conn, lambda conn: self._one_by_one(conn, items, now, failures))
            return failures
        return _NO_FAILURES

    def _fast(self, conn: sqlite3.Connection, items: list[Any], now: str) -> None:
        numbered: list[tuple[Any, ...]] = []
        unnumbered: list[tuple[Any, ...]] = []
        for i in range(0, len(items), _WIDTH):
            op, run_id, a, b, c, d = items[i : i + _WIDTH]
            if op == _CHECKPOINT:
                if d is None:
                    unnumbered.append((a, b, c, run_id))
                else:
                    numbered.append((d, a, b, c, run_id))
                continue
            self._checkpoints(conn, numbered, unnumbered)
            if op == _CREATE:
                _create(conn, run_id, a, b, now, self.path)
            else:
                _status(conn, run_id, a, b, c, d, now, self.path)
        self._checkpoints(conn, numbered, unnumbered)
        self._touch(conn, items, now)

    @staticmethod
    def _checkpoints(
        conn: sqlite3.Connection,
        numbered: list[tuple[Any, ...]],
        unnumbered: list[tuple[Any, ...]],
    ) -> None:
        for sql, rows in ((_INSERT_NUMBERED, numbered), (_INSERT_NEXT, unnumbered)):
            if rows:
                if conn.executemany(sql, rows).rowcount != len(rows):
                    raise _Retry
                rows.clear()

    def _one_by_one(
        self, conn: sqlite3.Connection, items: list[Any], now: str, failures: dict[str, Exception]
    ) -> None:
        for i in range(0, len(items), _WIDTH):
            op, run_id, a, b, c, d = items[i : i + _WIDTH]
            if run_id in failures:
                continue  # a run's later writes must not land after one that failed
            try:
                if op == _CHECKPOINT:
                    _checkpoint(conn, run_id, a, b, c, d, self.path)
                elif op == _CREATE:
                    _create(conn, run_id, a, b, now, self.path)
                else:
                    _status(conn, run_id, a, b, c, d, now, self.path)
            except (RunExistsError, RunNotFoundError, StoreError) as exc:
                failures[run_id] = exc
        self._touch(conn, items, now)

    def _touch(self, conn: sqlite3.Connection, items: list[Any], now: str) -> None:
        # A running run's updated_at follows its checkpoints to within _TOUCH_EVERY:
        # an UPDATE per run per batch would cost as much as the checkpoints themselves.
        clock = time.monotonic()
        touched_at = self.touched_at
        due: dict[str, None] = {}
        for i in range(0, len(items), _WIDTH):
            op, run_id = items[i], items[i + 1]
            if op == _CHECKPOINT:
                if clock - touched_at.get(run_id, -_TOUCH_EVERY) >= _TOUCH_EVERY:
                    due[run_id] = None
            elif op == _CREATE or items[i + 2] == "running":
                touched_at[run_id] = clock
            else:  # the run has ended here: forget it
                touched_at.pop(run_id, None)
                due.pop(run_id, None)
        if due:
            conn.executemany(
                "UPDATE gai_runs SET updated_at = ? WHERE run_id = ?",
                [(now, run_id) for run_id in due],
            )
            for run_id in due:
                touched_at[run_id] = clock


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
    and several processes on one machine can write at once. Writes queued while the
    previous batch commits go to the database together, in one transaction (group
    commit), so a killed process loses at most the writes not yet committed. Calls run
    on one worker thread per store, off the event loop.

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
        self._writer = _Writer(self.path)
        self._batches: dict[
            asyncio.AbstractEventLoop, tuple[asyncio.Future[Failures], list[Any]]
        ] = {}
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
            if version > len(SQLITE_MIGRATIONS):
                raise SchemaVersionError(
                    f"SQLite store {self.path}", version, len(SQLITE_MIGRATIONS)
                )
            for statements in SQLITE_MIGRATIONS[version:]:
                for sql in statements:
                    conn.execute(sql)
            conn.execute(
                "INSERT INTO gai_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(len(SQLITE_MIGRATIONS)),),
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
        await self._checked(self.queue_run(run_id, model, snapshot), run_id)

    def queue_run(self, run_id: str, model: str, snapshot: RunSnapshot) -> asyncio.Future[Failures]:
        """Queue a new run's record without waiting for it.

        The future is the batch's, as with `queue_checkpoint`; the run's later
        checkpoints queue behind the record and commit with or after it.
        """
        return self._queue(_CREATE, run_id, model, snapshot_json(snapshot), None, None)

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
        return self._checked(
            self._queue(_CHECKPOINT, run_id, kind, step_number, data, None), run_id
        )

    def queue_checkpoint(
        self, run_id: str, kind: CheckpointKind, step_number: int, data: str, seq: int
    ) -> asyncio.Future[Failures]:
        """Queue checkpoint number `seq` of a run (JSON text) without waiting for it.

        The future is shared by every write of the batch; it resolves once the batch has
        committed, to the errors of the runs whose writes failed (an unknown run, or a
        `seq` another writer already used). The run loop waits for it before its tools
        start and at the end of each step.
        """
        return self._queue(_CHECKPOINT, run_id, kind, step_number, data, seq)

    @staticmethod
    async def _checked(batch: asyncio.Future[Failures], run_id: str) -> None:
        failures = await batch
        if failures and run_id in failures:
            raise failures[run_id]

    def _queue(
        self, op: int, run_id: str, a: Any, b: Any, c: Any, d: Any
    ) -> asyncio.Future[Failures]:
        """Queue a write; the batch's future resolves once its transaction has committed.

        One flusher per event loop writes everything queued in one transaction; what
        arrives meanwhile waits for the next one. The busier the store, the larger the
        batches, so commits and trips to the database thread stay few.
        """
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = (_Batch(loop=loop), [])
            if loop not in self._flushers:
                self._flushers[loop] = loop.create_task(self._flush_all(loop))
        batch[1].extend((op, run_id, a, b, c, d))
        return batch[0]

    async def _flush_all(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while batch := self._batches.pop(loop, None):
                done, items = batch
                try:
                    failures = await self._run(functools.partial(self._writer.write, items=items))
                except Exception as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(failures)
        finally:
            del self._flushers[loop]

    async def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: TextResult | None = None,
        error: str | None = None,
        derived_messages: bool = False,
    ) -> None:
        """Record the run's status.

        Args:
            run_id: The run.
            status: Its new status.
            result: Its result, if it ended or paused.
            error: What went wrong, if it failed.
            derived_messages: The result's conversation is the run's input plus what
                each logged step added: it is stored without it, and reading the run
                rebuilds it.
        """
        batch = self.queue_status(
            run_id, status, result=result, error=error, derived_messages=derived_messages
        )
        await self._checked(batch, run_id)

    def queue_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: TextResult | None = None,
        error: str | None = None,
        derived_messages: bool = False,
    ) -> asyncio.Future[Failures]:
        """`set_status` without waiting; the future is the batch's, as with `queue_run`."""
        data = result_json(status, result, without_messages=derived_messages)
        return self._queue(_STATUS, run_id, status, data, error, derived_messages)

    async def _load_row(self, run_id: str) -> RunRecord | None:
        row = await self._run(
            lambda conn: conn.execute(
                f"SELECT {_rows.RUN_COLUMNS}, derived_messages FROM gai_runs WHERE run_id = ?",
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
                " WHERE run_key = (SELECT run_key FROM gai_runs WHERE run_id = ?) ORDER BY seq",
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
                f"SELECT {_rows.SQLITE_SUMMARY_COLUMNS}"
                f" FROM gai_runs r {where} ORDER BY r.created_at DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        )
        return [_rows.summary(r) for r in rows]

    async def delete_run(self, run_id: str) -> None:
        """Forget a run."""

        def delete(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM gai_checkpoints"
                " WHERE run_key = (SELECT run_key FROM gai_runs WHERE run_id = ?)",
                (run_id,),
            )
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
