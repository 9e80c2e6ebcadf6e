"""Seams for running model and tool calls elsewhere: durable execution (`gai.durable`).

While `MODEL_HOOK` (a context variable) is set, every run's model is passed through it
once retries and the call timeout are applied. While `TOOL_HOOKS` is set, the engine
hands each step's tool calls to it: `reserve` once per step in the model's call order before any
call starts, then `run` per call. Durable engines number their steps in the order the
steps begin, which concurrent calls would make arbitrary; `reserve` lets them number
the calls in the model's order instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Protocol

from gai.providers.base import Model
from gai.tools import Tool
from gai.types import ToolCall, ToolResult

__all__ = ["MODEL_HOOK", "TOOL_HOOKS", "ToolHooks", "interrupted_result"]


class ToolHooks(Protocol):
    """Runs tool calls on behalf of the engine."""

    def reserve(self, calls: Sequence[ToolCall], tools: Mapping[str, Tool]) -> None:
        """Called once per step with the calls about to run, in the model's order."""
        ...

    async def run(
        self, call: ToolCall, tool: Tool | None, invoke: Callable[[], Awaitable[ToolResult]]
    ) -> ToolResult:
        """Run one call; `invoke` runs it in this process and returns its result."""
        ...


TOOL_HOOKS: ContextVar[ToolHooks | None] = ContextVar("gai_tool_hooks", default=None)


def interrupted_result(call: ToolCall) -> ToolResult:
    """The result of a non-idempotent call that may have run before a crash."""
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        error=(
            f"Tool '{call.name}' was interrupted (the run stopped while it ran) before its "
            f"result was recorded; whether it took effect is unknown. Check before calling "
            f"it again."
        ),
    )


MODEL_HOOK: ContextVar[Callable[[Model], Model] | None] = ContextVar("gai_model_hook", default=None)
"""Wraps every run's model (after its retry policy and call timeout) while set."""
