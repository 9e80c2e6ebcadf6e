"""What stores keep: run snapshots, checkpoints, run records, and workflow state."""

from __future__ import annotations

import datetime as dt
from dataclasses import field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gai.types import (
    Citation,
    ContextEdit,
    FinishReason,
    HostedTool,
    Message,
    Reasoning,
    Step,
    TextResult,
    ToolCall,
    ToolDefinition,
    ToolResult,
    Usage,
)
from gai.types.base import Frozen, Value, readonly

__all__ = [
    "SCHEMA_VERSION",
    "Checkpoint",
    "CheckpointKind",
    "PendingStep",
    "RecordedResponse",
    "RunRecord",
    "RunSnapshot",
    "RunStatus",
    "RunSummary",
    "SessionItem",
    "SessionItemKind",
    "SessionSummary",
    "WorkflowState",
    "utcnow",
]

SCHEMA_VERSION = 1
"""Version of the stored layout this gai writes and reads."""

RunStatus = Literal["running", "completed", "failed", "cancelled", "paused"]
CheckpointKind = Literal[
    "model_response", "tools_started", "tool_result", "tool_results", "step_finished"
]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class RunSnapshot(Frozen):
    """The parts of a run's request that can be stored (functions cannot)."""

    messages: list[Message]
    """The input conversation."""
    system: str | None = None
    tools: list[ToolDefinition] = Field(default_factory=list)
    """Definitions of the tools offered (their functions must be given again to resume)."""
    stop_condition: str | None = None
    """Description of `stop_when`, if any (it must be given again to resume)."""
    tool_choice: str = "auto"
    max_steps_limit: int = 50
    settings: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    """The run's `metadata=`, if given."""
    parent_run_id: str | None = None
    """For a fork (`gai.fork`): the run it was forked from."""
    forked_at: int | None = None
    """For a fork: the parent's step it starts after (its steps up to it are copied)."""
    added_messages: list[tuple[int, list[Message]]] | None = None
    """For a fork: messages added to the conversation (a new prompt), each list after
    the step whose number it is paired with (0: after the input)."""


@readonly(kw_only=True)
class RecordedResponse(Value):
    """A model answer as recorded, with a fingerprint of the request that produced it.

    A value like a step (written once per model answer), not a document.
    """

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: list[Reasoning] | None = None
    hosted_tools: list[HostedTool] | None = None
    citations: list[Citation] | None = None
    usage: Usage = field(default_factory=Usage)
    finish_reason: FinishReason = "stop"
    refusal: str | None = None
    model_name: str | None = None
    answered_by: str | None = None
    attempts: int = 1
    model_duration: float = 0.0
    request_tools: list[str] = field(default_factory=list)
    """Names of the tools offered in the request."""
    request_messages: int = 0
    """Number of messages sent."""
    request_tool_results: list[tuple[str, str]] = field(default_factory=list)
    """(call id, content) of the tool results sent back in the request."""
    context: ContextEdit | None = None
    """How the context policy rewrote the conversation before this call, if it did."""
    tools_started: list[str] | None = None
    """Call ids whose tools began right after this answer, when the log records that in
    this entry rather than in a `tools_started` entry of its own (SQLite does)."""


class Checkpoint(Frozen):
    """One entry of a run's append-only log.

    Kinds: `model_response` (a `RecordedResponse`), `tools_started` (`call_ids`),
    `tool_result` (a `ToolResult`) and `step_finished` (what of the `Step` its earlier
    entries do not hold); see `gai.store.LogEntry`. Fields whose value is None are left
    out. Older logs may also hold merged entries (see `gai.store.base.ENDED_STEP`).
    """

    seq: int
    kind: CheckpointKind
    step_number: int
    payload: dict[str, Any]


class PendingStep(Frozen):
    """A step that began but did not finish before the run stopped."""

    step_number: int
    response: RecordedResponse | None = None
    started: list[str] = Field(default_factory=list)
    """Tool call ids whose execution began."""
    results: dict[str, ToolResult] = Field(default_factory=dict)
    """Results recorded so far, by call id."""


class RunSummary(Frozen):
    """A line of `list_runs`."""

    run_id: str
    status: RunStatus
    model: str
    created_at: dt.datetime
    updated_at: dt.datetime
    steps: int = 0
    error: str | None = None


class RunRecord(Frozen):
    """Everything stored about a run: request, completed steps, the step in progress."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    status: RunStatus
    model: str
    created_at: dt.datetime
    updated_at: dt.datetime
    snapshot: RunSnapshot
    steps: list[Step] = Field(default_factory=list)
    pending: PendingStep | None = None
    responses: list[RecordedResponse] = Field(default_factory=list)
    """Every recorded model answer, in order (for replay)."""
    result: TextResult | None = None
    error: str | None = None
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    derived_messages: bool = Field(default=False, exclude=True)
    """Set by a store that kept the result without its conversation, because the run's
    input and steps make it; `fold_checkpoints` rebuilds it."""


SessionItemKind = Literal["message", "reset"]


@readonly(kw_only=True)
class SessionItem(Value):
    """One entry of a session's append-only log.

    Kinds: `message` (`data` is one `Message` as JSON) and `reset` (`data` is a JSON
    list of messages that replaces the conversation so far: a context policy dropped or
    summarised older turns). Items are numbered from 1 per session; a store refuses an
    item whose number is taken, so two writers never interleave one conversation.
    """

    seq: int
    """Position in the session, from 1."""
    turn: int
    """The turn (one run, or one `Session.add`) that wrote it, from 1."""
    kind: SessionItemKind
    data: str
    """JSON: a message, or a list of them for a reset."""
    run_id: str | None = None
    """The run that wrote it."""
    created_at: dt.datetime | None = None


class SessionSummary(Frozen):
    """A line of `list_sessions`."""

    session_id: str
    items: int
    """Entries in its log."""
    turns: int
    """Turns so far (the last turn's number)."""
    updated_at: dt.datetime


class WorkflowState(BaseModel):
    """The seed's workflow state: phase, progress, data, metrics and errors.

    Not a value but the record a `StateManager` keeps up to date, so it is mutable.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: int = 1
    phase: str = "initialization"
    progress: float = 0.0
    data: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    start_time: dt.datetime = Field(default_factory=utcnow)
    last_update: dt.datetime = Field(default_factory=utcnow)
