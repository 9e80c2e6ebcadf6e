"""The SQLite store's group commit: writes queued by many runs, committed together.

The event loop queues each write into the open batch; the database thread commits a
batch in one transaction and hands every writer in it the same outcome.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from itertools import repeat
from types import MappingProxyType
from typing import Any

from gai.errors import RunExistsError, RunNotFoundError, StoreError
from gai.store.records import utcnow

__all__ = ["Batch", "Failures", "Writer", "Writes", "in_transaction"]

TOUCH_EVERY = 1.0
"""Seconds between refreshes of a running run's `updated_at` by its checkpoints."""

Failures = Mapping[str, Exception]
"""What a committed batch hands its writers: the error of each run whose write failed."""

_NO_FAILURES: Failures = MappingProxyType({})

_CREATE = (
    "INSERT INTO gai_runs (run_id, model, created_at, updated_at, snapshot, status)"
    " VALUES (?, ?, ?, ?, ?, 'running')"
)
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
_STATUS = (
    "UPDATE gai_runs SET status = ?, result = ?, error = ?, derived_messages = ?,"
    " updated_at = ? WHERE run_id = ?"
)
_TOUCH = "UPDATE gai_runs SET updated_at = ? WHERE run_id = ?"


class Batch(asyncio.Future[Failures]):
    """A batch's commit, awaited by every run with a write in it.

    Cancelling one of those runs must not cancel the commit the others wait for (nor
    leave it unresolvable): the batch refuses, and the cancelled run gets its
    `CancelledError` once the batch has committed, milliseconds later.
    """

    def cancel(self, msg: Any = None) -> bool:
        return False


class Writes:
    """A batch's writes, by kind, each kind in the order it was queued.

    Each kind is one flat list of its statements' parameters, not a tuple per write: a
    write waits for its batch to commit, and an object per write would be one more for
    the garbage collector to go through for every run in flight. The database thread
    hands each list to one `executemany`, with no Python code per row.

    A transaction commits them kind by kind: new runs, then checkpoints, then statuses.
    A run's own writes keep their order that way (its record is queued before its
    checkpoints, its status after them), and the transaction shows only the end state.
    """

    __slots__ = ("creates", "numbered", "statuses", "unnumbered")

    def __init__(self) -> None:
        self.creates: list[Any] = []  # run_id, model, snapshot
        self.numbered: list[Any] = []  # seq, kind, step_number, payload, run_id
        self.unnumbered: list[Any] = []  # kind, step_number, payload, run_id
        self.statuses: list[Any] = []  # status, result, error, derived (0/1), run_id


def _rows(flat: list[Any], width: int) -> Iterator[tuple[Any, ...]]:
    # zip hands out one tuple it refills while nobody else holds it: no object per row.
    return zip(*(flat[k::width] for k in range(width)), strict=True)


def _not_found(run_id: str, path: str) -> RunNotFoundError:
    return RunNotFoundError(f"No run {run_id!r} in SQLite store {path}.")


def _exists(run_id: str) -> RunExistsError:
    return RunExistsError(f"Run {run_id!r} already exists; resume it or use another run_id.")


def _taken(run_id: str, seq: Any, path: str) -> StoreError:
    return StoreError(
        f"Checkpoint {seq} of run {run_id!r} is already in SQLite store {path}: another "
        f"process is writing this run. Run each run in one place at a time."
    )


class _Retry(Exception):
    """A batch changed fewer rows than queued; redo it write by write."""


class Writer:
    """The database thread's side of the write queue."""

    def __init__(self, path: str) -> None:
        self.path = path
        # Runs with checkpoints since updated_at was last refreshed, and when that was.
        self.touch_due: set[str] = set()
        self.touched = time.monotonic()

    def write(self, conn: sqlite3.Connection, writes: Writes) -> Failures:
        """Commit a batch in one transaction; the errors of runs whose writes failed."""
        now = utcnow().isoformat()
        try:
            in_transaction(conn, lambda conn: self._fast(conn, writes, now))
        except (_Retry, sqlite3.IntegrityError):
            failures: dict[str, Exception] = {}
            in_transaction(conn, lambda conn: self._one_by_one(conn, writes, now, failures))
            return failures
        return _NO_FAILURES

    def _fast(self, conn: sqlite3.Connection, writes: Writes, now: str) -> None:
        if writes.creates:
            c = writes.creates
            conn.executemany(_CREATE, zip(c[0::3], c[1::3], repeat(now), repeat(now), c[2::3]))
        for sql, flat, width in (
            (_INSERT_NUMBERED, writes.numbered, 5),
            (_INSERT_NEXT, writes.unnumbered, 4),
        ):
            if flat and conn.executemany(sql, _rows(flat, width)).rowcount != len(flat) // width:
                raise _Retry
        if writes.statuses:
            s = writes.statuses
            rows = zip(s[0::5], s[1::5], s[2::5], s[3::5], repeat(now), s[4::5])
            if conn.executemany(_STATUS, rows).rowcount != len(s) // 5:
                raise _Retry
        self._touch(conn, writes, now)

    def _one_by_one(
        self, conn: sqlite3.Connection, writes: Writes, now: str, failures: dict[str, Exception]
    ) -> None:
        # A run's later writes must not land after one that failed: each kind is tried
        # only for runs none of whose earlier writes failed.
        for run_id, model, snapshot in _rows(writes.creates, 3):
            try:
                conn.execute(_CREATE, (run_id, model, now, now, snapshot))
            except sqlite3.IntegrityError:
                failures[run_id] = _exists(run_id)
        for sql, flat, width in (
            (_INSERT_NUMBERED, writes.numbered, 5),
            (_INSERT_NEXT, writes.unnumbered, 4),
        ):
            for row in _rows(flat, width):
                run_id = row[-1]
                if run_id in failures:
                    continue
                try:
                    changed = conn.execute(sql, row).rowcount
                except sqlite3.IntegrityError:  # only a numbered row can collide
                    failures[run_id] = _taken(run_id, row[0], self.path)
                    continue
                if not changed:
                    failures[run_id] = _not_found(run_id, self.path)
        for status, result, error, derived, run_id in _rows(writes.statuses, 5):
            if run_id not in failures:
                row = (status, result, error, derived, now, run_id)
                if not conn.execute(_STATUS, row).rowcount:
                    failures[run_id] = _not_found(run_id, self.path)
        self._touch(conn, writes, now)

    def _touch(self, conn: sqlite3.Connection, writes: Writes, now: str) -> None:
        # A running run's updated_at follows its checkpoints to within TOUCH_EVERY: one
        # UPDATE per run per batch would cost as much as the checkpoints themselves.
        due = self.touch_due
        due.update(writes.numbered[4::5])
        due.update(writes.unnumbered[3::4])
        s = writes.statuses
        if s:  # an ended run is done with; a running one was just stamped
            due.difference_update(s[4::5])
        if writes.creates:
            due.difference_update(writes.creates[0::3])
        clock = time.monotonic()
        if due and clock - self.touched >= TOUCH_EVERY:
            conn.executemany(_TOUCH, zip(repeat(now), due))
            due.clear()
            self.touched = clock


def in_transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], None]) -> None:
    """Run `body` in one write transaction, rolled back if it raises."""
    # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue on the
    # busy timeout instead of failing halfway through.
    conn.execute("BEGIN IMMEDIATE")
    try:
        body(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
