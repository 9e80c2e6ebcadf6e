"""Run one step's tool calls concurrently, keeping the model's call order."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gai._lazy import lazy_module
from gai.engine.hooks import TOOL_HOOKS
from gai.tools import Tool
from gai.tools.invoke import invoke_tool
from gai.tools.limits import has_global, tool_slot
from gai.types import ToolCall, ToolResult

if TYPE_CHECKING:
    from gai.types import RunEvent, events
else:
    events = lazy_module("gai.types.events")

__all__ = ["Recorder", "run_tool_calls"]

Recorder = Callable[[int, ToolResult], None]
"""Hands a result (step number, result) to the run store as soon as it is known."""


async def run_tool_calls(
    calls: Sequence[ToolCall],
    tools: Mapping[str, Tool],
    *,
    run_id: str,
    step_number: int,
    model: str | None,
    max_parallel: int | None,
    default_timeout: float | None,
    deps: Any,
    emit: Callable[[RunEvent], None] | None = None,
    record: Recorder | None = None,
    run_started: float | None = None,
) -> tuple[ToolResult, ...]:
    """Run every call at once (at most `max_parallel` at a time); results in call order.

    `record` gets each result as it comes. Cancelling the caller cancels every running
    call.
    """
    semaphore = asyncio.Semaphore(max_parallel) if max_parallel else None
    invoke = functools.partial(
        invoke_tool,
        tools,
        run_id=run_id,
        step_number=step_number,
        model=model,
        default_timeout=default_timeout,
        deps=deps,
        run_started=run_started,
    )

    hooks = TOOL_HOOKS.get()

    async def run_one(call: ToolCall) -> ToolResult:
        if emit is not None:
            emit(events.ToolStarted(run_id, step_number, call))
        if hooks is None:
            result = await invoke(call)
        else:
            result = await hooks.run(call, tools.get(call.name), functools.partial(invoke, call))
        if record is not None:
            record(step_number, result)
        if emit is not None:
            emit(events.ToolFinished(run_id, step_number, result))
        return result

    async def limited(call: ToolCall) -> ToolResult:
        tool = tools.get(call.name)
        if tool is None or (tool.concurrency is None and tool.group is None and not has_global()):
            return await run_one(call)
        async with tool_slot(tool, tool.concurrency, tool.group):
            return await run_one(call)

    async def one(call: ToolCall) -> ToolResult:
        if semaphore is None:
            return await limited(call)
        async with semaphore:
            return await limited(call)

    def start(call: ToolCall) -> Coroutine[Any, Any, ToolResult]:
        # Only the layers a call needs: most calls have no limit, and with no hooks,
        # events or store the tool's own coroutine runs as the task.
        tool = tools.get(call.name)
        if semaphore is not None or (
            tool is not None and (tool.concurrency is not None or tool.group is not None or limits)
        ):
            return one(call)
        if hooks is None and emit is None and record is None:
            return invoke(call)
        return run_one(call)

    if not calls:
        return ()
    if hooks is not None:
        hooks.reserve(calls, tools)
    limits = has_global()
    if len(calls) == 1:
        return (await start(calls[0]),)
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(start(call)) for call in calls]
    except BaseExceptionGroup as group_error:
        # Tool failures are results, so only an internal error gets here; raise it as
        # itself rather than wrapped in a group.
        raise group_error.exceptions[0] from None
    return tuple(task.result() for task in tasks)
