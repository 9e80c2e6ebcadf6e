"""Events of a run, as `stream_text` yields them (and observers will receive them).

Every event has a `kind` (past-tense snake case, or `*_delta` for pieces of output),
the `run_id`, and the `step_number` it belongs to (0 before the first step).
"""

from __future__ import annotations

import time as _time
from dataclasses import field
from typing import Any, Literal, TypeAlias

from gai.types.base import readonly
from gai.types.messages import Message
from gai.types.results import Step, TextResult, ToolCall, ToolResult
from gai.types.usage import Usage


def _now() -> float:
    # Event timestamps are wall-clock on purpose: they are compared across processes.
    return _time.time()  # noqa: TID251


__all__ = [
    "BudgetWarning",
    "ModelCallFinished",
    "ModelCallRetried",
    "ModelCallStarted",
    "ReasoningDelta",
    "RunEvent",
    "RunFailed",
    "RunFinished",
    "RunStarted",
    "StepFinished",
    "StepStarted",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolFinished",
    "ToolStarted",
]


@readonly(eq=False)
class RunStarted:
    """The run began."""

    run_id: str
    model: str
    step_number: int = 0
    kind: Literal["run_started"] = "run_started"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""
    metadata: dict[str, Any] | None = None
    """The run's `metadata=`, if given."""


@readonly(eq=False)
class StepStarted:
    """A step began: the model is about to be called."""

    run_id: str
    step_number: int
    model: str
    kind: Literal["step_started"] = "step_started"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ModelCallStarted:
    """The model is being called for this step."""

    run_id: str
    step_number: int
    model: str
    messages: tuple[Message, ...] = ()
    """The conversation sent (for tracing with content capture)."""
    kind: Literal["model_call_started"] = "model_call_started"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ModelCallFinished:
    """The model answered (after any retries)."""

    run_id: str
    step_number: int
    model: str
    duration: float
    usage: Usage
    finish_reason: str
    response_model: str | None
    tool_calls: int
    attempts: int
    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    kind: Literal["model_call_finished"] = "model_call_finished"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class TextDelta:
    """A piece of the model's text, as it streams."""

    run_id: str
    step_number: int
    text: str
    kind: Literal["text_delta"] = "text_delta"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ReasoningDelta:
    """A piece of the model's reasoning, as it streams (before its text and tool calls)."""

    run_id: str
    step_number: int
    text: str
    kind: Literal["reasoning_delta"] = "reasoning_delta"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ModelCallRetried:
    """A streamed model call failed part-way and is being retried.

    The text and tool-call deltas of this step sent so far are void; the next attempt
    streams the step again from the start.
    """

    run_id: str
    step_number: int
    attempt: int
    reason: str
    kind: Literal["model_call_retried"] = "model_call_retried"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ToolCallStarted:
    """The model began a tool call (its name is known, its arguments may still stream)."""

    run_id: str
    step_number: int
    index: int
    call_id: str | None
    name: str
    kind: Literal["tool_call_started"] = "tool_call_started"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ToolCallDelta:
    """A fragment of a tool call's JSON arguments."""

    run_id: str
    step_number: int
    index: int
    arguments: str
    kind: Literal["tool_call_delta"] = "tool_call_delta"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ToolCallFinished:
    """A tool call is complete, with its parsed arguments; it is about to run."""

    run_id: str
    step_number: int
    index: int
    call: ToolCall
    kind: Literal["tool_call_finished"] = "tool_call_finished"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ToolStarted:
    """A tool began running."""

    run_id: str
    step_number: int
    call: ToolCall
    kind: Literal["tool_started"] = "tool_started"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class ToolFinished:
    """A tool finished (successfully or with an error result)."""

    run_id: str
    step_number: int
    result: ToolResult
    kind: Literal["tool_finished"] = "tool_finished"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class StepFinished:
    """A step is complete: model call and tools."""

    run_id: str
    step_number: int
    step: Step
    kind: Literal["step_finished"] = "step_finished"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class BudgetWarning:
    """A budget limit crossed its soft ratio: the run is close to it."""

    run_id: str
    step_number: int
    limit: str
    used: float
    maximum: float
    kind: Literal["budget_warning"] = "budget_warning"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class RunFinished:
    """The run ended normally; `result` is the same `TextResult` generate_text returns."""

    run_id: str
    step_number: int
    result: TextResult
    kind: Literal["run_finished"] = "run_finished"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


@readonly(eq=False)
class RunFailed:
    """The run ended with an error; the error is raised right after this event."""

    run_id: str
    step_number: int
    error: str
    partial_result: TextResult
    kind: Literal["run_failed"] = "run_failed"
    time: float = field(default_factory=_now)
    """Wall-clock time of the event, seconds since the epoch."""


RunEvent: TypeAlias = (
    RunStarted
    | StepStarted
    | ModelCallStarted
    | ModelCallFinished
    | TextDelta
    | ReasoningDelta
    | ModelCallRetried
    | ToolCallStarted
    | ToolCallDelta
    | ToolCallFinished
    | ToolStarted
    | ToolFinished
    | StepFinished
    | BudgetWarning
    | RunFinished
    | RunFailed
)
"""Any event of a run."""
