"""Rows of the SQL stores (SQLite, PostgreSQL) as store records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson

from gai.store.records import (
    Checkpoint,
    RunRecord,
    RunSnapshot,
    RunSummary,
    SessionItem,
    SessionSummary,
)
from gai.types import TextResult

__all__ = [
    "RUN_COLUMNS",
    "SESSION_COLUMNS",
    "SESSION_LIST",
    "SQLITE_SUMMARY_COLUMNS",
    "SUMMARY_COLUMNS",
    "checkpoints",
    "matches",
    "record",
    "run_filter",
    "session_item",
    "session_row",
    "session_summary",
    "summary",
]

RUN_COLUMNS = "run_id, status, model, created_at, updated_at, snapshot, result, error"
SUMMARY_COLUMNS = (
    "r.run_id, r.status, r.model, r.created_at, r.updated_at, r.error,"
    # Steps completed: an entry of step n means step n - 1 ended (SQLite merges a
    # step's end into the next entry's row, so `step_finished` rows alone undercount).
    " (SELECT COALESCE(MAX(CASE WHEN c.kind = 'step_finished' THEN c.step_number"
    "  ELSE c.step_number - 1 END), 0) FROM gai_checkpoints c WHERE c.run_id = r.run_id)"
)
SQLITE_SUMMARY_COLUMNS = SUMMARY_COLUMNS.replace("c.run_id = r.run_id", "c.run_key = r.run_key")
"""SQLite keys checkpoints by the run's integer key (schema v2)."""


def record(row: Sequence[Any]) -> RunRecord:
    """A `RUN_COLUMNS` row as a record (without its checkpoints).

    SQLite adds a ninth column, `derived_messages`.
    """
    return RunRecord(
        run_id=row[0],
        status=row[1],
        model=row[2],
        created_at=row[3],
        updated_at=row[4],
        snapshot=RunSnapshot.model_validate_json(row[5]),
        result=TextResult.model_validate_json(row[6]) if row[6] else None,
        error=row[7],
        derived_messages=bool(row[8]) if len(row) > 8 else False,
    )


def checkpoints(rows: Sequence[Sequence[Any]]) -> list[Checkpoint]:
    """(seq, kind, step_number, payload) rows as checkpoints."""
    return [
        Checkpoint(seq=r[0], kind=r[1], step_number=r[2], payload=orjson.loads(r[3])) for r in rows
    ]


def summary(row: Sequence[Any]) -> RunSummary:
    """A `SUMMARY_COLUMNS` row as a summary."""
    return RunSummary(
        run_id=row[0],
        status=row[1],
        model=row[2],
        created_at=row[3],
        updated_at=row[4],
        error=row[5],
        steps=row[6],
    )


SESSION_COLUMNS = "seq, turn, kind, data, run_id, created_at"
SESSION_LIST = (
    "SELECT session_id, COUNT(*), MAX(turn), MAX(created_at) FROM gai_session_items"
    " GROUP BY session_id ORDER BY MAX(created_at) DESC LIMIT {}"
)
"""Sessions, most recently written first; `{}` is the driver's placeholder."""


def session_item(row: Sequence[Any]) -> SessionItem:
    """A `SESSION_COLUMNS` row as an item."""
    created = row[5]
    return SessionItem(
        seq=row[0],
        turn=row[1],
        kind=row[2],
        data=row[3],
        run_id=row[4],
        # Built without validation (a value), so the stored text is parsed here.
        created_at=dt.datetime.fromisoformat(created) if isinstance(created, str) else created,
    )


def session_row(session_id: str, item: SessionItem, now: str) -> tuple[Any, ...]:
    """The values of an item's row, in the order of `INSERT ... (session_id, SESSION_COLUMNS)`."""
    return (session_id, item.seq, item.turn, item.kind, item.data, item.run_id, now)


def session_summary(row: Sequence[Any]) -> SessionSummary:
    """A `SESSION_LIST` row as a summary."""
    return SessionSummary(session_id=row[0], items=row[1], turns=row[2], updated_at=row[3])


def _like(text: str) -> str:
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def run_filter(
    status: str | None,
    model: str | None,
    search: str | None,
    before: RunSummary | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    mark: str,
    like: str = "LIKE",
) -> tuple[str, list[Any]]:
    """The WHERE clause of `list_runs`'s filters.

    `mark` is the driver's placeholder, `like` its case-insensitive LIKE (SQLite's LIKE
    is one; PostgreSQL's is ILIKE). `before` pages by (created_at, run_id), the order of
    the created_at index.
    """
    clauses: list[str] = []
    args: list[Any] = []
    if status is not None:
        clauses.append(f"r.status = {mark}")
        args.append(status)
    if model is not None:
        clauses.append(f"r.model = {mark}")
        args.append(model)
    if search:
        clauses.append(f"(r.run_id {like} {mark} ESCAPE '!' OR r.error {like} {mark} ESCAPE '!')")
        args += [_like(search), _like(search)]
    if since is not None:
        clauses.append(f"r.created_at >= {mark}")
        args.append(_utc(since))
    if until is not None:
        clauses.append(f"r.created_at < {mark}")
        args.append(_utc(until))
    if before is not None:
        created = before.created_at.isoformat()
        clauses.append(f"(r.created_at < {mark} OR (r.created_at = {mark} AND r.run_id < {mark}))")
        args += [created, created, before.run_id]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def matches(
    summary: RunSummary,
    status: str | None,
    model: str | None,
    search: str | None,
    before: RunSummary | None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> bool:
    """Whether `summary` passes `list_runs`'s filters (stores that filter in Python)."""
    if status is not None and summary.status != status:
        return False
    if model is not None and summary.model != model:
        return False
    if search:
        needle = search.lower()
        if needle not in summary.run_id.lower() and needle not in (summary.error or "").lower():
            return False
    if since is not None and summary.created_at < _aware(since):
        return False
    if until is not None and summary.created_at >= _aware(until):
        return False
    if before is not None:
        return (summary.created_at, summary.run_id) < (before.created_at, before.run_id)
    return True


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("list_runs(since=, until=) takes timezone-aware datetimes")
    return moment


def _utc(moment: dt.datetime) -> str:
    """`moment` as the stores write creation times (ISO, UTC), for text comparison."""
    return _aware(moment).astimezone(dt.UTC).isoformat()
