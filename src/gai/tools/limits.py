"""Tool scheduling limits shared by every run in the process: per tool, per group, global.

Limits are enforced with one semaphore per limit and event loop, so every run on a
loop shares them (runs on other threads' loops have their own). Results always keep
the model's call order, whatever order the calls ran in.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator

from gai.errors import UserError

__all__ = ["clear_limits", "set_global_tool_limit", "set_group_limit", "tool_slot"]

_LOCK = threading.Lock()
_GROUP_LIMITS: dict[str, int] = {}
_GLOBAL_LIMIT: list[int | None] = [None]
_SEMAPHORES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)
# Per-tool semaphores live as long as their tool: keyed by the tool object, not by its
# id(), which a later tool may reuse once the first is garbage.
_TOOL_SEMAPHORES: weakref.WeakKeyDictionary[
    object, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


def set_group_limit(group: str, limit: int) -> None:
    """Let at most `limit` calls of tools in `group` (`@tool(group=...)`) run at once.

    Raises:
        UserError: `limit` is below 1.
    """
    if limit < 1:
        raise UserError(f"Group limit must be at least 1, got {limit}.")
    with _LOCK:
        _GROUP_LIMITS[group] = limit
        for semaphores in _SEMAPHORES.values():
            semaphores.pop(f"group:{group}", None)


def set_global_tool_limit(limit: int | None) -> None:
    """Let at most `limit` tool calls run at once in the process (None: no cap).

    Raises:
        UserError: `limit` is below 1.
    """
    if limit is not None and limit < 1:
        raise UserError(f"Global tool limit must be at least 1 or None, got {limit}.")
    with _LOCK:
        _GLOBAL_LIMIT[0] = limit
        for semaphores in _SEMAPHORES.values():
            semaphores.pop("global", None)


def clear_limits() -> None:
    """Remove every group and global limit (mainly for tests)."""
    with _LOCK:
        _GROUP_LIMITS.clear()
        _GLOBAL_LIMIT[0] = None
        _SEMAPHORES.clear()
        _TOOL_SEMAPHORES.clear()


def has_global() -> bool:
    """Whether a process-wide tool cap is set."""
    return _GLOBAL_LIMIT[0] is not None


def _tool_semaphore(tool: object, limit: int) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    with _LOCK:
        per_loop = _TOOL_SEMAPHORES.setdefault(tool, weakref.WeakKeyDictionary())
        semaphore = per_loop.get(loop)
        if semaphore is None:
            semaphore = per_loop[loop] = asyncio.Semaphore(limit)
        return semaphore


def _semaphore(key: str, limit: int) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    with _LOCK:
        semaphores = _SEMAPHORES.setdefault(loop, {})
        semaphore = semaphores.get(key)
        if semaphore is None:
            semaphore = semaphores[key] = asyncio.Semaphore(limit)
        return semaphore


@contextlib.asynccontextmanager
async def tool_slot(
    tool: object, concurrency: int | None, group: str | None
) -> AsyncIterator[None]:
    """Hold the tool's, its group's and the global slot while a call runs."""
    async with contextlib.AsyncExitStack() as stack:
        if concurrency is not None:
            await stack.enter_async_context(_tool_semaphore(tool, concurrency))
        if group is not None:
            limit = _GROUP_LIMITS.get(group)
            if limit is not None:
                await stack.enter_async_context(_semaphore(f"group:{group}", limit))
        global_limit = _GLOBAL_LIMIT[0]
        if global_limit is not None:
            await stack.enter_async_context(_semaphore("global", global_limit))
        yield
