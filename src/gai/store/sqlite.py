"""`SQLiteStore`: the embedded default — one file, WAL, safe across threads and processes."""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import functools
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from gai.errors import ConfigError, SchemaVersionError, SessionConflictError, StoreError
from gai.store import _rows
from gai.store._migrations import SQLITE_MIGRATIONS
from gai.store._sqlite_batch import Batch, Failures, Writer, Writes, in_transaction
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

__all__ = ["SQLiteStore"]

T = TypeVar("T")


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
        create: Create the file when it is missing; with False, a missing file is a
            `StoreError` (for tools that only read, so a typo is not a new empty store).

    Raises:
        SchemaVersionError: The file was written by a newer gai.
        StoreError: The file cannot be opened as a store, or is missing and `create`
            is False.
    """

    kind = "sqlite"

    def __init__(
        self, path: str | Path = "gai.db", *, busy_timeout: float = 30.0, create: bool = True
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ConfigError(
                f"SQLiteStore takes a file path (e.g. 'runs.db'), got {type(path).__name__}."
            )
        self.path = str(path)
        if self.path != ":memory:" and Path(self.path).is_dir():
            raise ConfigError(
                f"{self.path} is a directory; give SQLiteStore a file path inside it "
                f"(e.g. {Path(self.path) / 'runs.db'})."
            )
        if not create and self.path != ":memory:" and not Path(self.path).is_file():
            raise StoreError(
                f"No store at {self.path}: check the path (or --store / GAI_STORE); a run "
                f"given run_store= creates it."
            )
        prepare_serializers()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gai-sqlite")
        self._writer = Writer(self.path, self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
        self._batches: dict[asyncio.AbstractEventLoop, tuple[Batch, Writes]] = {}
        self._flushers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        try:
            with self._lock:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
        except sqlite3.Error as exc:
            self._conn.close()
            self._executor.shutdown(wait=False)
            raise StoreError(
                f"SQLite store {self.path} cannot be opened ({exc}); check that the path "
                f"names a gai store, or pass another one."
            ) from exc

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

        in_transaction(self._conn, migrate)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            with self._lock:
                try:
                    return fn(self._conn)
                except sqlite3.Error as exc:
                    raise StoreError(f"SQLite store {self.path}: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def write(self, entries: Sequence[Entry]) -> Awaitable[None]:
        """Queue `entries` into the next batch now; awaiting the result waits for its commit.

        Entries from concurrent runs are committed together (group commit): each writer
        waits for its own commit, but many runs share one transaction and one trip to
        the database thread. A run's entries after one that failed are not written.
        """
        batch, writes = self._open_batch()
        for entry in entries:
            if isinstance(entry, LogEntry):
                writes.numbered += (
                    entry.seq,
                    entry.kind,
                    entry.step_number,
                    entry.data,
                    entry.run_id,
                )
            elif isinstance(entry, NewRun):
                writes.creates += (entry.run_id, entry.model, snapshot_json(entry.snapshot))
            else:
                derived = entry.derived_messages
                data = result_json(entry.status, entry.result, without_messages=derived)
                writes.statuses += (entry.status, data, entry.error, int(derived), entry.run_id)
        return _Commit(batch, entries)

    def _open_batch(self) -> tuple[Batch, Writes]:
        """The batch a write joins; its future resolves once its transaction has committed.

        One flusher per event loop writes everything queued in one transaction; what
        arrives meanwhile waits for the next one. The busier the store, the larger the
        batches, so commits and trips to the database thread stay few.
        """
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = (Batch(loop=loop), Writes())
            if loop not in self._flushers:
                self._flushers[loop] = loop.create_task(self._flush_all(loop))
        return batch

    async def _flush_all(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while batch := self._batches.pop(loop, None):
                done, writes = batch
                try:
                    failures = await self._run(functools.partial(self._writer.write, writes=writes))
                except Exception as exc:
                    done.set_exception(exc)
                else:
                    done.set_result(failures)
        finally:
            del self._flushers[loop]

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
        where, args = _rows.run_filter(status, model, search, before, since, until, "?")
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {_rows.SQLITE_SUMMARY_COLUMNS} FROM gai_runs r{where}"
                " ORDER BY r.created_at DESC, r.run_id DESC LIMIT ?",
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

    async def _session_items(self, session_id: str) -> builtins.list[SessionItem]:
        rows = await self._run(
            lambda conn: conn.execute(
                f"SELECT {_rows.SESSION_COLUMNS} FROM gai_session_items"
                " WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
        )
        return [_rows.session_item(r) for r in rows]

    async def _session_append(self, session_id: str, items: Sequence[SessionItem]) -> None:
        now = utcnow().isoformat()
        rows = [_rows.session_row(session_id, item, now) for item in items]

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                f"INSERT INTO gai_session_items (session_id, {_rows.SESSION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

        def append(conn: sqlite3.Connection) -> bool:
            try:
                in_transaction(conn, insert)
            except sqlite3.IntegrityError:
                return False
            return True

        if not await self._run(append):
            raise _session_conflict(session_id, items)

    async def _session_truncate(self, session_id: str, from_seq: int) -> None:
        await self._run(
            lambda conn: conn.execute(
                "DELETE FROM gai_session_items WHERE session_id = ? AND seq >= ?",
                (session_id, from_seq),
            )
        )

    async def list_sessions(self, limit: int = 100) -> builtins.list[SessionSummary]:
        """Sessions, most recently written first."""
        rows = await self._run(
            lambda conn: conn.execute(_rows.SESSION_LIST.format("?"), (limit,)).fetchall()
        )
        return [_rows.session_summary(r) for r in rows]

    async def aclose(self) -> None:
        """Close the database (after committing checkpoints still queued)."""
        flusher = self._flushers.get(asyncio.get_running_loop())
        if flusher is not None:
            await asyncio.gather(flusher, return_exceptions=True)
        await self._run(lambda conn: conn.close())
        self._executor.shutdown(wait=False)


def _session_conflict(session_id: str, items: Sequence[SessionItem]) -> SessionConflictError:
    return SessionConflictError(
        f"Item {items[0].seq} of session {session_id!r} is taken: another run (in another "
        f"process) wrote to the session meanwhile. Run the turn again; it starts from the "
        f"conversation as it now is."
    )


class _Commit:
    """A write's batch commit, awaited for this write's runs' errors.

    Not a coroutine: a run that stops without waiting for its writes (they commit all
    the same) must not leave a coroutine that was never awaited.
    """

    __slots__ = ("_batch", "_entries")

    def __init__(self, batch: asyncio.Future[Failures], entries: Sequence[Entry]) -> None:
        self._batch = batch
        self._entries = entries

    def __await__(self) -> Generator[Any, None, None]:
        failures = yield from self._batch.__await__()
        if failures:
            for entry in self._entries:
                if entry.run_id in failures:
                    raise failures[entry.run_id]
