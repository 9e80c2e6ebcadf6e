"""Tool calls and results, steps, stop reasons, run state and the final result of a run."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal

from gai.types.base import Value, readonly
from gai.types.context import ContextEdit
from gai.types.files import File
from gai.types.messages import Arguments, Citation, HostedTool, Message, Reasoning
from gai.types.usage import Usage

if TYPE_CHECKING:
    from gai.types.trace import RunTrace

__all__ = [
    "Degradation",
    "FinishReason",
    "RunState",
    "Step",
    "StopKind",
    "StopReason",
    "TextResult",
    "ToolCall",
    "ToolResult",
    "new_call_id",
]

FinishReason = Literal[
    "stop", "tool_calls", "length", "refusal", "content_filter", "error", "other"
]
"""Why the model stopped producing output, normalised across providers.

"refusal": the model declined to answer (its words in `refusal`); "content_filter": the
provider's safety system blocked the answer.
"""

StopKind = Literal[
    "no_more_tools",
    "max_steps",
    "tool_seen",
    "condition",
    "step_limit",
    "budget",
    "deadline",
    "cancelled",
    "approval_pending",
    "error",
]
"""Why a run stopped."""


def new_call_id() -> str:
    """Return a fresh tool-call identifier."""
    return f"call_{uuid.uuid4().hex[:16]}"


@readonly(kw_only=True)
class ToolCall(Value):
    """A request from the model to run a tool."""

    call_id: str = field(default_factory=new_call_id)
    """Identifier pairing the call with its result (generated when not given)."""
    name: str
    """Tool name."""
    arguments: Arguments = field(default_factory=dict)
    """Arguments, as decoded from the model's JSON."""
    invalid_arguments: str | None = None
    """The raw argument text when it was not a JSON object; the call then fails with an
    error the model can correct."""
    provider_data: dict[str, Any] | None = None
    """Opaque data the provider needs echoed back with the call (e.g. a thought signature)."""


@readonly(kw_only=True)
class ToolResult(Value):
    """The outcome of one tool call.

    Exactly one of `output` and `error` is meaningful: when `error` is set the call
    failed and `output` is None.
    """

    call_id: str
    """The call this answers."""
    name: str
    """Tool name."""
    output: Any = None
    """The tool's return value, converted to JSON-compatible data."""
    error: str | None = None
    """Why the call failed, in words the model can act on; None on success."""
    duration: float = 0.0
    """Seconds the call took (wall time)."""
    start_offset: float | None = None
    """When the call started, in seconds since the run started."""
    usage: Usage | None = None
    """Tokens spent by runs the tool started (a sub-agent); the run's usage includes them."""
    files: tuple[File, ...] = ()
    """Files the tool returned (an image it drew, a page it fetched), sent to the model
    with the result."""

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None

    @property
    def content(self) -> str:
        """What the model reads: a string output as is, other output as JSON, or the error."""
        if self.error is not None:
            return self.error
        if isinstance(self.output, str):
            return self.output
        if self.output is None and self.files:
            return ""  # the files are the result
        return json.dumps(self.output, ensure_ascii=False, separators=(",", ":"))


@readonly(kw_only=True)
class Step(Value):
    """One model call plus the execution of every tool call it asked for."""

    step_number: int
    """Position in the run, from 1."""
    text: str = ""
    """Text the model produced in this step."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls the model asked for, in its order."""
    reasoning: tuple[Reasoning, ...] = ()
    """The model's reasoning before its answer, when it reasoned (see `Reasoning`)."""
    hosted_tools: tuple[HostedTool, ...] = ()
    """Tools the provider ran itself while answering (web search, code execution)."""
    citations: tuple[Citation, ...] = ()
    """Sources the answer cites."""
    tool_results: tuple[ToolResult, ...] = ()
    """Their results, in the same order."""
    usage: Usage = field(default_factory=Usage)
    """Tokens used by this step's model call."""
    duration: float = 0.0
    """Seconds of wall time for the model call plus the tools."""
    model_duration: float = 0.0
    """Seconds the model call took."""
    finish_reason: FinishReason = "stop"
    """Why the model stopped producing output."""
    refusal: str | None = None
    """The model's words when it declined to answer (finish reason "refusal")."""
    model: str | None = None
    """gai name of the model that answered (e.g. "openai:gpt-4o-mini")."""
    response_model: str | None = None
    """The model version the provider reported (e.g. "gpt-4o-mini-2024-07-18")."""
    attempts: int = 1
    """Model calls this step took (more than 1 when the call was retried)."""
    start_offset: float | None = None
    """When the step started, in seconds since the run started."""
    memory_mb: float | None = None
    """Resident memory of the process after the step (when the budget watches memory)."""
    error: str | None = None
    """Summary of the tool calls that failed in this step; None when all succeeded."""
    context: ContextEdit | None = None
    """How the run's context policy rewrote the conversation before this step's model
    call (messages dropped, summarised or shortened); None when it left it as it was."""

    @property
    def tools_duration(self) -> float:
        """Seconds spent running this step's tools (they run concurrently)."""
        return max(0.0, self.duration - self.model_duration)


@readonly(kw_only=True)
class StopReason(Value):
    """Why a run stopped: a kind to branch on, words for people, and what fired."""

    kind: StopKind
    """Category of the reason."""
    detail: str
    """Human-readable explanation naming the specifics (which tool, how many steps)."""
    condition: str | None = None
    """Description of the stop condition that fired, if one did."""

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@readonly(kw_only=True)
class Degradation(Value):
    """How a run was degraded to get an answer at all."""

    level: Literal["essential_tools", "no_tools"]
    """What the run was reduced to."""
    reason: str
    """The error that made the full run fail."""


@readonly(kw_only=True)
class TextResult(Value):
    """The result of a run."""

    text: str
    """Text of the last step."""
    steps: tuple[Step, ...]
    """Every step, in order."""
    usage: Usage
    """Usage summed over all steps."""
    stop_reason: StopReason
    """Why the run stopped."""
    messages: tuple[Message, ...] = ()
    """The whole conversation, including the input messages and every tool result."""
    run_id: str = ""
    """Identifier of the run."""
    started_at: dt.datetime | None = None
    """Wall-clock time the run started (UTC)."""
    run_attempts: int = 1
    """Times the whole run was started (more than 1 with run-level recovery)."""
    degraded: Degradation | None = None
    """Set when the answer came from a degraded run (fewer or no tools)."""
    pending_approvals: tuple[ToolCall, ...] = ()
    """Tool calls waiting for a person's decision (stop reason "approval_pending")."""
    raw: Any = None
    """The provider's raw payload for the last model call, when it kept one."""
    output: Any = None
    """The validated answer, when the run was given an `output_type`."""
    metadata: dict[str, Any] | None = None
    """The run's `metadata=`, as given (and as stored)."""

    @property
    def tool_calls(self) -> list[ToolCall]:
        """All tool calls of all steps, in order."""
        return [c for s in self.steps for c in s.tool_calls]

    @property
    def tool_results(self) -> list[ToolResult]:
        """All tool results of all steps, in order."""
        return [r for s in self.steps for r in s.tool_results]

    def to_trace(self) -> RunTrace:
        """The run as a timeline: steps, model calls and parallel tool calls over time."""
        from gai.types.trace import RunTrace  # loaded on first use, to keep `import gai` light

        return RunTrace.from_result(self)


@readonly(kw_only=True)
class RunState(Value):
    """What a stop condition or `prepare_step` sees: the run so far.

    It is rebuilt for every check, so conditions reading it keep no state of their own.
    """

    run_id: str
    """Identifier of the run."""
    steps: tuple[Step, ...] = ()
    """Completed steps, in order."""
    usage: Usage = field(default_factory=Usage)
    """Usage summed over the completed steps."""
    elapsed: float = 0.0
    """Seconds since the run started."""
    messages: tuple[Message, ...] = ()
    """The conversation so far."""
    model: str | None = None
    """Name of the model used for the next step."""
    budget_left: dict[str, float] | None = None
    """What remains of each budget limit, when the run has a budget."""

    @property
    def step_number(self) -> int:
        """Number of completed steps."""
        return len(self.steps)

    @property
    def last_step(self) -> Step | None:
        """The most recent completed step, if any."""
        return self.steps[-1] if self.steps else None
