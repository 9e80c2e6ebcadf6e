"""`Request`: one multi-step run described as a value (the seed's `core.Request`)."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import orjson

from gai._checks import numbers
from gai.errors import UserError
from gai.providers.base import Model, ToolChoice
from gai.tools import Tool, tool
from gai.types import Message, RunState, Step, user

if TYPE_CHECKING:
    from gai.context import ContextLike
    from gai.control.budget import Budget
    from gai.control.cancel import StopToken
    from gai.control.continuation import ContinueWhen
    from gai.control.guards import Guard
    from gai.engine.session import Session
    from gai.observe.hub import Observer
    from gai.resilience.recovery import Recovery
    from gai.resilience.retry import RetryPolicy
    from gai.resilience.timeout import Timeouts
    from gai.stop import StopWhen
    from gai.store.base import RunStore

__all__ = ["OnStepFinish", "PrepareStep", "Request", "StepOverrides"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOverrides:
    """What `prepare_step` may change for the next step; None leaves a setting as it is."""

    model: Model | str | None = None
    """Model to call instead."""
    tools: Sequence[Tool] | None = None
    """Tools to offer instead (a subset or another set)."""
    tool_choice: ToolChoice | None = None
    """Tool choice to use instead."""
    system: str | None = None
    """System prompt to use instead."""


OnStepFinish: TypeAlias = Callable[[Step], Awaitable[None] | None]
"""Called with each step once it is complete (sync or async)."""

PrepareStep: TypeAlias = Callable[
    [RunState], Awaitable[StepOverrides | None] | StepOverrides | None
]
"""Called before each step with the run so far; may return `StepOverrides`."""

ToolLike: TypeAlias = Tool | Callable[..., Any]

Tools: TypeAlias = Sequence[ToolLike] | ToolLike
"""What `tools=` takes: a list of tools or functions, or one on its own."""


@dataclass(kw_only=True)
class Request:
    """Messages, tools, stop condition and options for one run.

    Pass it to `await model.generate_text(request)` or use `gai.generate_text(...)`
    with the same arguments. Exactly one of `messages` and `prompt` is required.
    Plain functions in `tools` are turned into tools with `@tool`.

    Raises:
        UserError: An option is out of range, tool names clash, or the input is empty.
    """

    messages: Sequence[Message] = ()
    """The conversation to start from."""
    prompt: str | None = None
    """Shortcut for `messages=[gai.user(prompt)]`."""
    system: str | None = None
    """System prompt, sent first."""
    tools: Sequence[ToolLike] = ()
    """Tools the model may call."""
    stop_when: StopWhen | None = None
    """When to stop; None means a single step (tools run once, model not called again)."""
    tool_choice: ToolChoice = "auto"
    """"auto", "none", "required", or the name of one tool."""
    max_parallel_tools: int | None = None
    """At most this many tool calls run at once; None means no limit."""
    tool_timeout: float | None = None
    """Seconds each tool call may take; None means no limit."""
    max_steps_limit: int = 50
    """Hard ceiling on steps, whatever `stop_when` says."""
    on_step_finish: OnStepFinish | None = None
    """Called with each completed step."""
    prepare_step: PrepareStep | None = None
    """Called before each step; may change model, tools, tool choice or system prompt."""
    deps: Any = None
    """Anything tools should reach through `ToolContext.deps`."""
    run_id: str | None = None
    """Identifier of the run; generated when not given."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Model settings (temperature, max_tokens...) passed to every model call."""
    retry: RetryPolicy | bool | None = None
    """Retry policy for model calls; None retries real providers with the default policy,
    False never retries."""
    timeout: float | Timeouts | None = None
    """Seconds the whole run may take, or `Timeouts` for run, step and model-call limits."""
    recovery: Recovery | None = None
    """Run-level retry and graceful degradation when the whole run fails."""
    run_store: RunStore | None = None
    """Where to checkpoint each step so the run can be resumed (`gai.resume`)."""
    observers: Sequence[Observer] = ()
    """Functions called with every event of this run (see `gai.observe`)."""
    budget: Budget | None = None
    """Limits on steps, calls, tokens, cost, time and memory (see `gai.Budget`)."""
    continue_when: StopWhen | ContinueWhen | None = None
    """Holds while the job is not done: a tool-less answer then gets a nudge, not an end."""
    guards: Sequence[Guard] = ()
    """Loop guards that nudge, block a tool or stop the run."""
    stop_token: StopToken | None = None
    """Lets the caller stop the run at the next step boundary."""
    metadata: Mapping[str, Any] | None = None
    """Your JSON-serialisable data about the run: stored, on events and spans, in the result."""
    session: Session | None = None
    """The conversation the run continues and adds to (`gai.Session`)."""
    context: ContextLike | None = None
    """Keeps each model request within a token budget (see `gai.context`)."""

    def __post_init__(self) -> None:
        if self.prompt is not None:
            if self.messages:
                raise UserError("Pass either messages= or prompt=, not both.")
            _check_str("prompt", self.prompt)
            self.messages = [user(self.prompt)]
            self.prompt = None  # folded into messages, so dataclasses.replace() works
        if not self.messages:
            raise UserError("A run needs input: pass messages=[...] or prompt='...'.")
        _check_messages(self.messages)
        if self.system is not None:
            _check_str("system", self.system)
        if self.run_id is not None:
            _check_str("run_id", self.run_id)
        _check_options(self)
        if self.max_steps_limit < 1:
            raise UserError(f"max_steps_limit must be at least 1, got {self.max_steps_limit}.")
        if self.max_parallel_tools is not None and self.max_parallel_tools < 1:
            raise UserError(
                f"max_parallel_tools must be at least 1 or None, got {self.max_parallel_tools}."
            )
        if self.tool_timeout is not None and self.tool_timeout <= 0:
            raise UserError(f"tool_timeout must be positive or None, got {self.tool_timeout}.")
        if self.timeout is not None:
            from gai.resilience.timeout import Timeouts

            if isinstance(self.timeout, int | float) and not isinstance(self.timeout, bool):
                self.timeout = Timeouts(run=float(self.timeout))
            elif not isinstance(self.timeout, Timeouts):
                raise UserError(
                    f"timeout must be seconds (a number) or gai.Timeouts(...), "
                    f"got {type(self.timeout).__name__}."
                )
        if self.metadata is not None:
            self.metadata = _json_object(self.metadata)
        self.tools = normalize_tools(self.tools)
        check_tool_choice(self.tool_choice, self.tools)
        if self.run_store is None and any(
            t.needs_approval for t in self.tools if isinstance(t, Tool)
        ):
            raise UserError(
                "Tools that need approval pause the run until a person decides, so the run "
                "needs run_store= to be resumed with gai.resume(run_id, approvals=...)."
            )


def _check_str(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise UserError(f"{name} must be a string, got {type(value).__name__}: {value!r:.60}.")


def _check_messages(messages: Any) -> None:
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence):
        raise UserError(
            f"messages must be a list of gai.Message (e.g. [gai.user('Hi')]), "
            f"got {type(messages).__name__}; for a single question use prompt='...'."
        )
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            hint = (
                " (a dict: build it with gai.user(...), gai.assistant(...) or gai.system(...), "
                "or validate stored JSON with gai.Message.model_validate)"
                if isinstance(message, Mapping)
                else ""
            )
            raise UserError(
                f"messages[{index}] must be a gai.Message, got {type(message).__name__}{hint}."
            )


def _check_options(request: Request) -> None:
    """Options of the wrong kind, rejected before the run starts rather than halfway."""
    numbers(
        "",
        ("max_steps_limit", request.max_steps_limit),
        ("max_parallel_tools", request.max_parallel_tools),
        whole=True,
    )
    numbers("", ("tool_timeout", request.tool_timeout))
    _check_str("tool_choice", request.tool_choice)
    if not isinstance(request.settings, Mapping):
        raise UserError(
            f"settings must be a dict of provider settings (e.g. {{'temperature': 0}}), "
            f"got {type(request.settings).__name__}."
        )
    for name, value, module, kind, example in (
        ("retry", request.retry, "gai.resilience.retry", "RetryPolicy", "gai.RetryPolicy(...)"),
        ("recovery", request.recovery, "gai.resilience.recovery", "Recovery", "gai.Recovery(...)"),
        ("budget", request.budget, "gai.control.budget", "Budget", "gai.Budget(max_cost=1.0)"),
        ("stop_token", request.stop_token, "gai.control.cancel", "StopToken", "gai.StopToken()"),
    ):
        # Imported only when given: a run that uses none of them loads none of them.
        if value is None or (name == "retry" and isinstance(value, bool)):
            continue
        if not isinstance(value, getattr(importlib.import_module(module), kind)):
            raise UserError(f"{name} must be {example}, got {type(value).__name__}.")
    if request.guards:
        from gai.control.guards import Guard

        for guard in request.guards:
            if not isinstance(guard, Guard):
                raise UserError(
                    f"guards must be gai.Guard(...) values, got {type(guard).__name__}."
                )
    for name, fn in (
        ("on_step_finish", request.on_step_finish),
        ("prepare_step", request.prepare_step),
    ):
        if fn is not None and not callable(fn):
            raise UserError(f"{name} must be a function, got {type(fn).__name__}.")
    if request.session is not None:
        from gai.engine.session import Session

        if not isinstance(request.session, Session):
            raise UserError(
                f"session must be a gai.Session (e.g. gai.Session('chat-1', store=...)), "
                f"got {type(request.session).__name__}."
            )
    if request.context is not None:
        from gai.context import as_policy

        request.context = as_policy(request.context)
    store = request.run_store
    if store is not None and not callable(getattr(store, "write", None)):
        raise UserError(
            f"run_store must be a run store (e.g. gai.store.SQLiteStore('runs.db')), "
            f"got {type(store).__name__}."
        )
    for observer in request.observers:
        if not callable(observer):
            raise UserError(
                f"observers must be callables taking a run event (or objects with "
                f"__call__), got {type(observer).__name__}."
            )


def _json_object(metadata: Any) -> dict[str, Any]:
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise UserError(f"metadata must be a dict with string keys, got {type(metadata).__name__}.")
    try:
        # A copy through JSON: what the store keeps is exactly what the result shows.
        copied: dict[str, Any] = orjson.loads(orjson.dumps(dict(metadata)))
    except TypeError as exc:
        raise UserError(
            f"metadata must be JSON-serialisable (str, numbers, bools, None, lists and "
            f"dicts of them): {exc}."
        ) from exc
    return copied


def normalize_tools(tools: Tools) -> list[Tool]:
    """Wrap plain functions as tools and reject duplicate names."""
    if isinstance(tools, Tool) or (callable(tools) and not hasattr(tools, "__iter__")):
        tools = [tools]  # one tool given on its own: tools=divide
    elif isinstance(tools, str | bytes) or not hasattr(tools, "__iter__"):
        raise UserError(
            f"tools must be a list of tools or functions (e.g. tools=[divide]), "
            f"got {type(tools).__name__}."
        )
    out: list[Tool] = []
    seen: set[str] = set()
    for t in tools:
        made = t if isinstance(t, Tool) else tool(t)
        if made.name in seen:
            raise UserError(
                f"Two tools are named {made.name!r}; tool names must be unique in a run."
            )
        seen.add(made.name)
        out.append(made)
    return out


def check_tool_choice(choice: ToolChoice, tools: Sequence[Tool]) -> None:
    """Reject a tool choice naming a tool that is not offered."""
    if choice in ("auto", "none", "required"):
        return
    names = [t.name for t in tools]
    if choice not in names:
        raise UserError(
            f"tool_choice={choice!r} names no offered tool; use 'auto', 'none', 'required' "
            f"or one of: {', '.join(names) or '(no tools given)'}."
        )
