"""`Run`: the loop's mutable bookkeeping for one run, and the model it calls."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gai._registry import resolve_model
from gai._scope import RunScope
from gai.engine._control import Control
from gai.engine.hooks import MODEL_HOOK
from gai.engine.request import Request, StepOverrides, check_tool_choice, normalize_tools
from gai.providers.base import Model, ToolChoice
from gai.providers.wire import MessageHistory
from gai.tools import Tool
from gai.types import Message, RunState, Step, StopReason, TextResult, ToolCall, Usage, system

if TYPE_CHECKING:
    from gai.context import ContextPolicy, TokenCounter
    from gai.control.budget import BudgetUse
    from gai.engine._checkpoint import Checkpointer
    from gai.engine._context import Replayed
    from gai.engine.session import SessionTurn
    from gai.resilience.retry import RetryPolicy
    from gai.resilience.timeout import Timeouts
    from gai.store.records import PendingStep
    from gai.types import RunEvent

__all__ = ["NO_CONTROL", "Emit", "Run", "prepare_model", "timeouts_of", "wrap_model"]

Emit = Callable[["RunEvent"], None]

NO_CONTROL = Control()
"""Shared by runs that configure no run control: with nothing configured it never changes."""


class _NoTimeouts:
    run: float | None = None
    step: float | None = None
    model_call: float | None = None


_NO_TIMEOUTS = _NoTimeouts()


def timeouts_of(request: Request) -> Timeouts | _NoTimeouts:
    """The request's deadlines (`Request.__post_init__` made a number `Timeouts(run=)`)."""
    timeout = request.timeout
    return timeout if timeout is not None and not isinstance(timeout, int | float) else _NO_TIMEOUTS


@dataclass(slots=True)
class Run:
    """The loop's mutable bookkeeping for one run."""

    request: Request
    model: Model
    run_id: str
    started: float
    tools: list[Tool]
    tool_choice: ToolChoice
    system: str | None
    messages: list[Message]
    scope: RunScope
    """The run as the layers below the engine see it: its start order and phase."""
    steps: list[Step] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    raw: Any = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    checkpoint: Checkpointer | None = None
    transcript_edited: bool = False
    """Whether anything but the steps (a nudge, a new system prompt) changed the
    conversation; if not, a store can rebuild it from the input and the steps."""
    pending: PendingStep | None = None
    """The step a resumed run was in when it stopped (its recorded parts are reused)."""
    emit: Emit | None = None
    stream: bool = False
    control: Control = field(default_factory=lambda: NO_CONTROL)
    budget_use: BudgetUse | None = None
    history: MessageHistory = field(default_factory=MessageHistory)
    """The transcript in wire form, so each step encodes only the new messages."""
    system_message: Message | None = None
    """`system` as a message, built once so the transcript's head keeps its identity."""
    context: ContextPolicy | Replayed | None = None
    """The context policy applied before each model call (the run's or its session's),
    or a replayed recording's edits."""
    tokens: TokenCounter | None = None
    """Counts tokens for the context policy, scaled to what the provider reports."""
    sent_estimate: int = 0
    """The unscaled estimate of the last request, to compare with its billed tokens."""
    session: SessionTurn | None = None
    """The run's turn on its session, which it writes each step to."""

    def state(self) -> RunState:
        return RunState(
            run_id=self.run_id,
            steps=tuple(self.steps),
            usage=self.usage,
            elapsed=time.perf_counter() - self.started,
            messages=tuple(self.transcript()),
            model=self.model.name,
            budget_left=self.budget_use.left if self.budget_use is not None else None,
        )

    def transcript(self) -> list[Message]:
        if self.system is None:
            return self.messages
        head = self.system_message
        if head is None or head.text != self.system:
            head = self.system_message = system(self.system)
        return [head, *self.messages]

    def result(self, reason: StopReason, pending: Sequence[ToolCall] = ()) -> TextResult:
        return TextResult(
            text=self.steps[-1].text if self.steps else "",
            steps=tuple(self.steps),
            usage=self.usage,
            stop_reason=reason,
            messages=tuple(self.transcript()),
            run_id=self.run_id,
            started_at=self.started_at,
            pending_approvals=tuple(pending),
            raw=self.raw,
            metadata=None if self.request.metadata is None else dict(self.request.metadata),
        )

    def apply(self, overrides: StepOverrides) -> None:
        if overrides.model is not None:
            self.model = prepare_model(overrides.model, self.request)
        if overrides.tools is not None:
            self.tools = normalize_tools(overrides.tools)
        if overrides.tool_choice is not None:
            self.tool_choice = overrides.tool_choice
        if overrides.system is not None:
            self.system = overrides.system
            self.transcript_edited = True
        check_tool_choice(self.tool_choice, self.tools)

    def done(self, what: str) -> str:
        return f"run {what} after {len(self.steps)} completed step(s)"


def prepare_model(model: Model | str, request: Request) -> Model:
    """Resolve the model and wrap it with the request's model-call timeout and retry."""
    wrapped = wrap_model(resolve_model(model), request.retry, timeouts_of(request).model_call)
    hook = MODEL_HOOK.get()
    return wrapped if hook is None else hook(wrapped)


def wrap_model(base: Model, retry: RetryPolicy | bool | None, model_call: float | None) -> Model:
    """Wrap `base` with a per-call timeout and a retry policy (None: the model's default)."""
    resolved = base
    if model_call is not None:
        from gai.resilience.timeout import TimeoutModel

        resolved = TimeoutModel(resolved, model_call)
    policy = retry
    if policy is None:
        policy = getattr(base, "retry_by_default", False)
    if policy is False:
        return resolved
    from gai.resilience.retry import DEFAULT_RETRY, RetryModel

    return RetryModel(resolved, DEFAULT_RETRY if policy is True else policy)
