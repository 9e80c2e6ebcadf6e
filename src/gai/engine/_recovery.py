"""Run-level recovery: start a failed run again, then degrade to fewer tools."""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

from gai.engine._loop import Emit, run_loop
from gai.engine.request import Request, ToolLike
from gai.errors import ProviderError
from gai.providers.base import Model
from gai.stop import MaxSteps, StopWhen
from gai.types import Degradation, TextResult

__all__ = ["run_with_recovery"]

logger = logging.getLogger("gai.recovery")


async def run_with_recovery(
    model: Model | str, request: Request, *, emit: Emit | None = None, stream: bool = False
) -> TextResult:
    """Run with `request.recovery`: retry the whole run, then degrade, as configured.

    Raises:
        GaiError: The last failure when nothing worked; `partial_result` holds the
            steps of the last attempt.
    """
    from gai.resilience.retry import is_retryable

    recovery = request.recovery
    assert recovery is not None
    last: ProviderError | None = None
    for attempt in range(1, recovery.attempts + 1):
        try:
            result = await run_loop(model, request, emit=emit, stream=stream)
        except ProviderError as exc:
            last = exc
            if not is_retryable(exc) or attempt == recovery.attempts:
                break
            wait = recovery.backoff * attempt**2
            logger.warning("run attempt %d failed (%s); retrying in %.2fs", attempt, exc, wait)
            await recovery.sleep(wait)
            continue
        return result.model_copy(update={"run_attempts": attempt})
    assert last is not None
    attempts = attempt
    for level, tools, stop_when in _degraded_runs(request):
        logger.warning("run failed (%s); degrading to %s", last, level)
        degraded = dataclasses.replace(
            request, tools=tools, stop_when=stop_when, tool_choice="auto", recovery=None
        )
        attempts += 1
        try:
            result = await run_loop(model, degraded, emit=emit, stream=stream)
        except ProviderError as exc:
            last = exc
            continue
        return result.model_copy(
            update={
                "run_attempts": attempts,
                "degraded": Degradation(level=level, reason=f"{type(last).__name__}: {last}"),
            }
        )
    raise last


_Level = Literal["essential_tools", "no_tools"]


def _degraded_runs(request: Request) -> list[tuple[_Level, list[ToolLike], StopWhen | None]]:
    recovery = request.recovery
    assert recovery is not None
    runs: list[tuple[_Level, list[ToolLike], StopWhen | None]] = []
    if recovery.essential_tools is not None:
        keep = set(recovery.essential_tools)
        tools = [t for t in request.tools if getattr(t, "name", None) in keep]
        runs.append(("essential_tools", tools, MaxSteps(recovery.degraded_max_steps)))
    if recovery.no_tools_last:
        runs.append(("no_tools", [], None))
    return runs
