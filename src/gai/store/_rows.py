"""Rows of the SQL stores (SQLite, PostgreSQL) as store records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from gai.store.records import Checkpoint, RunRecord, RunSnapshot, RunSummary
from gai.types import TextResult

__all__ = [
    "RUN_COLUMNS",
    "SQLITE_SUMMARY_COLUMNS",
    "SUMMARY_COLUMNS",
    "checkpoints",
    "record",
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
