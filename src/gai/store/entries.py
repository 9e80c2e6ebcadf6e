"""What a run writes to its store: one definition per kind of entry.

A run hands its store a list of these at a time (`RunStore.write`); the store makes
them durable in order. Like run events, they are `readonly` slotted dataclasses: a run
makes a few dozen, and nothing changes them after.
"""

from __future__ import annotations

from typing import TypeAlias

from gai.store.records import CheckpointKind, RunSnapshot, RunStatus
from gai.types import TextResult
from gai.types.base import readonly

__all__ = ["Entry", "LogEntry", "NewRun", "StatusChange"]


@readonly()
class NewRun:
    """A new run's record; writing it fails with `RunExistsError` if the id is taken."""

    run_id: str
    model: str
    snapshot: RunSnapshot


@readonly()
class LogEntry:
    """Entry `seq` (from 1, numbered by the run) of a run's append-only log.

    Kinds, with what `data` (a JSON object) holds:

    - `model_response`: a `RecordedResponse`, the model's answer for the step;
    - `tools_started`: `{"call_ids": [...]}`, calls whose tools are about to run (durable
      before they do, so a resumed run never runs a non-idempotent call twice);
    - `tool_result`: a `ToolResult`;
    - `step_finished`: what of the `Step` its earlier entries do not hold.

    Writing it fails with `RunNotFoundError` for an unknown run and `StoreError` when
    another writer took `seq`.
    """

    run_id: str
    seq: int
    kind: CheckpointKind
    step_number: int
    data: str


@readonly()
class StatusChange:
    """A run's new status, with its result or error when it ended or paused.

    `derived_messages`: the result's conversation is the run's input plus what each
    logged step added, so a store may keep the result without it (reading the run
    rebuilds it). A completed or paused run's steps are all in its log, so a store may
    keep its result without them too (see `result_json`).
    """

    run_id: str
    status: RunStatus
    result: TextResult | None = None
    error: str | None = None
    derived_messages: bool = False


Entry: TypeAlias = NewRun | LogEntry | StatusChange
