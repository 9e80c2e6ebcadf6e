"""Run one tool call and turn every way it can fail into a `ToolResult` error."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pydantic
import pydantic_core

from gai.tools.context import ToolContext
from gai.tools.core import Tool
from gai.types import File, ToolCall, ToolResult, Usage

__all__ = ["format_validation_error", "invoke_tool", "nested_usage"]

nested_usage: contextvars.ContextVar[list[Usage] | None] = contextvars.ContextVar(
    "gai_nested_usage", default=None
)
"""While a tool runs: where runs it starts (a sub-agent) add their usage when they end."""

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    # asyncio's default executor has min(32, cpus + 4) threads, which would cap how many
    # sync tools run at once on small machines; tools wait on I/O, so allow many more.
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            workers = int(os.environ.get("GAI_TOOL_THREADS", "64"))
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gai-tool")
        return _POOL


def _call_guarded(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except StopIteration as exc:
        # A Future cannot hold StopIteration: left alone it would never resolve and hang
        # the run, so it becomes an ordinary error like in coroutines (PEP 479).
        raise RuntimeError(f"the tool raised StopIteration {exc.value!r}") from exc


async def _in_thread(fn: Callable[[], Any]) -> Any:
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_pool(), ctx.run, _call_guarded, fn)


async def _run(tool: Tool, bound: Callable[[], Any]) -> Any:
    if tool.is_async:
        return await bound()
    output = await _in_thread(bound)
    if asyncio.iscoroutine(output):
        output = await output
    return output


def format_validation_error(tool_name: str, exc: pydantic.ValidationError) -> str:
    """Say which argument is wrong and why, in words a model can act on."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"]) or "(arguments)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unexpected argument"
        elif err["type"] != "missing":
            msg = f"{msg} (got {err['input']!r})"
        problems.append(f"'{loc}': {msg}")
    return (
        f"Invalid arguments for tool '{tool_name}': {'; '.join(problems)}. "
        f"Call the tool again with corrected arguments."
    )


def _total(spent: list[Usage]) -> Usage | None:
    if not spent:
        return None
    total = spent[0]
    for usage in spent[1:]:
        total = total + usage
    return total


def _failure(
    call: ToolCall, message: str, started: float, base: float | None, spent: list[Usage]
) -> ToolResult:
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        error=message,
        duration=time.perf_counter() - started,
        start_offset=None if base is None else started - base,
        usage=_total(spent),
    )


async def invoke_tool(
    tools: Mapping[str, Tool],
    call: ToolCall,
    *,
    run_id: str,
    step_number: int,
    model: str | None,
    default_timeout: float | None,
    deps: Any,
    run_started: float | None = None,
) -> ToolResult:
    """Validate and run one tool call.

    Unknown names, invalid arguments, exceptions, timeouts and unserialisable output
    all come back as a `ToolResult` with `error` set; only cancellation propagates.
    `run_started` (a `perf_counter` value) dates the result within its run.
    """
    started = time.perf_counter()
    tool = tools.get(call.name)
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        return _failure(
            call,
            f"Unknown tool '{call.name}'. Available tools: {available}.",
            started,
            run_started,
            [],
        )
    if call.invalid_arguments is not None:
        return _failure(
            call,
            f"Arguments for tool '{call.name}' are not a valid JSON object: "
            f"{call.invalid_arguments[:200]!r}. Call the tool again with a JSON object.",
            started,
            run_started,
            [],
        )
    try:
        validated = tool.validate(call.arguments)
    except pydantic.ValidationError as exc:
        return _failure(call, format_validation_error(call.name, exc), started, run_started, [])

    limit = tool.timeout if tool.timeout is not None else default_timeout
    ctx: ToolContext[Any] | None = None
    if tool.takes_context:
        ctx = ToolContext(
            call_id=call.call_id,
            tool_name=call.name,
            run_id=run_id,
            step_number=step_number,
            model=model,
            deadline=None if limit is None else started + limit,
            deps=deps,
        )
    bound = tool.bind(validated, ctx)
    spent: list[Usage] = []
    token = nested_usage.set(spent)
    try:
        if limit is None:
            # An async tool is awaited here: one coroutine less per call than `_run`.
            output = await bound() if tool.is_async else await _run(tool, bound)
        else:
            async with asyncio.timeout(limit):
                output = await _run(tool, bound)
    except TimeoutError:
        return _failure(
            call,
            f"Tool '{call.name}' timed out after {limit:g} seconds and was abandoned. "
            f"Try again with a smaller request or use another tool.",
            started,
            run_started,
            spent,
        )
    except Exception as exc:  # a tool's failure is reported to the model, never raised
        detail = str(exc) or "(no message)"
        return _failure(
            call,
            f"Tool '{call.name}' failed: {type(exc).__name__}: {detail}",
            started,
            run_started,
            spent,
        )
    finally:
        nested_usage.reset(token)

    files: tuple[File, ...] = ()
    if isinstance(output, _MAY_HOLD_FILES):
        output, files = _split_files(output)
    if not isinstance(output, str):
        try:
            output = pydantic_core.to_jsonable_python(output)
        except pydantic_core.PydanticSerializationError as exc:
            return _failure(
                call,
                f"Tool '{call.name}' returned a {type(output).__name__}, which cannot be "
                f"converted to JSON: {exc}",
                started,
                run_started,
                spent,
            )
    result = ToolResult(
        call_id=call.call_id,
        name=call.name,
        output=output,
        error=None,
        duration=time.perf_counter() - started,
        start_offset=None if run_started is None else started - run_started,
        usage=_total(spent),
        files=files,
    )
    return result


_MAY_HOLD_FILES = (File, list, tuple)  # a tuple: `File | list` would build a union per call


def _split_files(output: Any) -> tuple[Any, tuple[File, ...]]:
    """The output less the files in it, and those files.

    A tool may return a `File`, or a list of files and other values.
    """
    if isinstance(output, File):
        return None, (output,)
    files = tuple(item for item in output if isinstance(item, File))
    if not files:
        return output, ()
    rest = [item for item in output if not isinstance(item, File)]
    return (rest[0] if len(rest) == 1 else rest or None), files
