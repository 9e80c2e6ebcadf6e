"""The SQLite store's group commit: writes queued by many runs, committed together.

The event loop queues each write into the open batch; the database thread commits a
batch in one transaction and hands every writer in it the same outcome.
"""

from __future__ import annotations

import asyncio
import functools
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
# Selecting from gai_runs inserts nothing for an unknown run: the shortfall in the row
# count says that some write must be retried one by one to find it.
_INSERT_NUMBERED = (
    "INSERT INTO gai_checkpoints (run_key, seq, kind, step_number, payload)"
    " SELECT run_key, ?, ?, ?, ? FROM gai_runs WHERE run_id = ?"
)
_STATUS = (
    "UPDATE gai_runs SET status = ?, result = ?, error = ?, derived_messages = ?,"
    " updated_at = ? WHERE run_id = ?"
)
_TOUCH = "UPDATE gai_runs SET updated_at = ? WHERE run_id = ?"

# A batch's writes of one kind go to the database as few statements of many rows each,
# not as one `executemany` step per row: the sqlite3 module lets go of the GIL around
# every step, and each time the event loop's thread may take it, so a batch of a
# hundred rows would hand the GIL back and forth a hundred times. Row counts come from
# a short ladder, so each kind has a handful of distinct statements, all in the
# connection's statement cache. `?1` is the batch's timestamp; the rows' `?` follow it.
_LADDER = (256, 64, 16, 4, 1)

# UPDATE ... FROM arrived in SQLite 3.33; an older library updates statuses row by row.
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)


@functools.cache
def _values(width: int, rows: int) -> str:
    row = "(" + ",".join("?" * width) + ")"
    return ",".join((row,) * rows)


@functools.cache
def _create_rows(rows: int) -> str:
    return (
        "INSERT INTO gai_runs (run_id, model, created_at, updated_at, snapshot, status)"
        " SELECT v.column1, v.column2, ?1, ?1, v.column3, 'running'"
        f" FROM (VALUES {_values(3, rows)}) AS v"
    )


@functools.cache
def _checkpoint_rows(rows: int) -> str:
    # CROSS JOIN keeps the plan: each queued row looks its run up by id, never a scan.
    return (
        "INSERT INTO gai_checkpoints (run_key, seq, kind, step_number, payload)"
        " SELECT r.run_key, v.column1, v.column2, v.column3, v.column4"
        f" FROM (VALUES {_values(5, rows)}) AS v CROSS JOIN gai_runs r ON r.run_id = v.column5"
    )


@functools.cache
def _status_rows(rows: int) -> str:
    return (
        "UPDATE gai_runs SET status = v.column1, result = v.column2, error = v.column3,"
        " derived_messages = v.column4, updated_at = ?1"
        f" FROM (VALUES {_values(5, rows)}) AS v WHERE gai_runs.run_id = v.column5"
    )


def _in_chunks(
    conn: sqlite3.Connection,
    sql: Callable[[int], str],
    flat: list[Any],
    width: int,
    ladder: tuple[int, ...],
    now: str | None = None,
) -> int:
    """Write `flat`'s rows with statements of `ladder` row counts; the rows changed."""
    left = len(flat) // width
    start = changed = 0
    head = [] if now is None else [now]
    for rows in ladder:
        end = start + rows * width
        while left >= rows:
            changed += conn.execute(sql(rows), head + flat[start:end]).rowcount
            start, end = end, end + rows * width
            left -= rows
    return changed


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
    binds slices of each list to statements of many rows, with no Python code per row.

    A transaction commits them kind by kind: new runs, then checkpoints, then statuses.
    A run's own writes keep their order that way (its record is queued before its
    checkpoints, its status after them), and the transaction shows only the end state.
    """

    __slots__ = ("creates", "numbered", "statuses")

    def __init__(self) -> None:
        self.creates: list[Any] = []  # run_id, model, snapshot
        self.numbered: list[Any] = []  # seq, kind, step_number, payload, run_id
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

    def __init__(self, path: str, max_variables: int = 999) -> None:
        self.path = path
        # The rows a statement may hold: the widest row (5 values) and the timestamp
        # must fit the library's limit on bound variables (999 before SQLite 3.32).
        self.ladder = tuple(n for n in _LADDER if 5 * n + 1 <= max_variables) or (1,)
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
        ladder = self.ladder
        if writes.creates:
            _in_chunks(conn, _create_rows, writes.creates, 3, ladder, now)
        numbered = writes.numbered
        if (
            numbered
            and _in_chunks(conn, _checkpoint_rows, numbered, 5, ladder) != len(numbered) // 5
        ):
            raise _Retry
        statuses = writes.statuses
        if statuses and self._statuses(conn, statuses, now) != len(statuses) // 5:
            raise _Retry
        self._touch(conn, writes, now)

    def _statuses(self, conn: sqlite3.Connection, s: list[Any], now: str) -> int:
        run_ids = s[4::5]
        # UPDATE ... FROM updates a run named twice once, with either row, and counts it
        # once: the count would send the batch to be redone row by row. Such a batch (a
        # run paused and resumed within milliseconds) goes row by row, in order, at once.
        if _UPDATE_FROM and len(set(run_ids)) == len(run_ids):
            return _in_chunks(conn, _status_rows, s, 5, self.ladder, now)
        rows = zip(s[0::5], s[1::5], s[2::5], s[3::5], repeat(now), run_ids)
        return conn.executemany(_STATUS, rows).rowcount

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
        for row in _rows(writes.numbered, 5):
            run_id = row[-1]
            if run_id in failures:
                continue
            try:
                changed = conn.execute(_INSERT_NUMBERED, row).rowcount
            except sqlite3.IntegrityError:
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
