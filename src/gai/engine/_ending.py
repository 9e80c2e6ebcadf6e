"""How a run ends: its result recorded in the store, reported, and returned or raised."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from gai._lazy import lazy_module
from gai.engine._outcome import Finished, Paused, Stopped
from gai.engine._run import Run
from gai.errors import BudgetExceededError, RunExistsError
from gai.tools.invoke import nested_usage
from gai.types import StopReason, TextResult, Usage

if TYPE_CHECKING:
    from gai.types import events
else:
    events = lazy_module("gai.types.events")

__all__ = ["end", "fail"]

logger = logging.getLogger("gai.run")


async def end(run: Run, outcome: Finished | Paused | Stopped) -> TextResult | BudgetExceededError:
    """The run's result for how it ended, recorded and reported.

    A run that reached a budget whose `on_budget` is "raise" ends in the error to
    raise instead, its partial result attached (already recorded and reported).
    """
    if isinstance(outcome, Paused):
        return await _paused(run, outcome)
    if isinstance(outcome, Stopped):
        return await _stopped(run, outcome.detail)
    return await _finished(run, outcome.reason)


async def _paused(run: Run, outcome: Paused) -> TextResult:
    _report_usage(run)
    calls = outcome.calls
    names = ", ".join(f"{c.name} ({c.call_id})" for c in calls)
    reason = StopReason(
        kind="approval_pending",
        detail=f"{len(calls)} tool call(s) wait for approval in step {len(run.steps) + 1}: "
        f"{names}; resume with gai.resume(run_id, approvals={{call_id: gai.approve()}})",
    )
    result = run.result(reason, calls)
    partial = outcome.partial
    if partial is not None:
        # Not part of the run's state (a resumed run completes the step), only of what
        # the caller sees: the calls that ran and what they returned.
        result = result.model_copy(
            update={"steps": (*result.steps, partial), "usage": result.usage + partial.usage}
        )
    if run.checkpoint is not None:
        await run.checkpoint.paused(result)
    if run.emit is not None:
        run.emit(events.RunFinished(run.run_id, len(run.steps), result))
    return result


async def _stopped(run: Run, detail: str) -> TextResult:
    _report_usage(run)
    reason = StopReason(kind="cancelled", detail=f"stopped at a step boundary: {detail}")
    result = run.result(reason)
    if run.checkpoint is not None:
        await run.checkpoint.failed(reason.detail, result, cancelled=True)
    if run.emit is not None:
        run.emit(events.RunFinished(run.run_id, len(run.steps), result))
    return result


async def _finished(run: Run, reason: StopReason) -> TextResult | BudgetExceededError:
    _report_usage(run)
    result = run.result(reason)
    budget = run.control.budget
    if reason.kind == "budget" and budget is not None and budget.on_budget == "raise":
        error = BudgetExceededError(f"The run reached its budget: {reason.detail}.")
        error.partial_result = result
        if run.checkpoint is not None:
            await run.checkpoint.failed(reason.detail, result, cancelled=False)
        if run.emit is not None:
            run.emit(events.RunFailed(run.run_id, len(run.steps), reason.detail, result))
        return error
    logger.info(
        "run %s stopped after %d steps: %s",
        run.run_id,
        len(run.steps),
        reason,
        extra={"gai_run_id": run.run_id, "gai_steps": len(run.steps), "gai_stop": reason.kind},
    )
    if run.checkpoint is not None:
        await run.checkpoint.finished(result, derivable=not run.transcript_edited)
    if run.emit is not None:
        run.emit(events.RunFinished(run.run_id, len(run.steps), result))
    return result


async def fail(run: Run, exc: BaseException) -> None:
    """Record and report a run ended by `exc`, and attach the partial result to it."""
    cancelled = isinstance(exc, asyncio.CancelledError)
    if cancelled:
        reason = StopReason(kind="cancelled", detail=run.done("cancelled"))
    else:
        detail = run.done(f"failed with {type(exc).__name__}: {exc}")
        reason = StopReason(kind="error", detail=detail)
    spent = getattr(exc, "usage", None)
    if isinstance(spent, Usage):  # tokens a failed model call still consumed
        run.usage = run.usage + spent
    _report_usage(run)
    partial = run.result(reason)
    logger.info(
        "run %s ended early: %s",
        run.run_id,
        reason.detail,
        extra={"gai_run_id": run.run_id, "gai_steps": len(run.steps), "gai_stop": reason.kind},
    )
    _attach(exc, partial)
    # A run that could not create its record must write nothing under its id: the
    # record there is another run's.
    if run.checkpoint is not None and not isinstance(exc, RunExistsError):
        try:
            await run.checkpoint.failed(reason.detail, partial, cancelled=cancelled)
        except Exception as store_exc:  # the run's own error matters more
            exc.add_note(f"gai: recording the failure in the run store failed: {store_exc}")
    if run.emit is not None:
        run.emit(events.RunFailed(run.run_id, len(run.steps), reason.detail, partial))


def _report_usage(run: Run) -> None:
    # A run started inside another run's tool (an agent used as a tool) adds its usage
    # to that tool call's result, and so to the outer run's usage.
    spent = nested_usage.get()
    if spent is not None:
        spent.append(run.usage)


def _attach(exc: BaseException, partial: TextResult) -> None:
    # Keep the first (innermost) partial result if a nested run already attached one.
    if getattr(exc, "partial_result", None) is None:
        try:
            exc.partial_result = partial  # type: ignore[attr-defined]
        except AttributeError:  # exceptions with __slots__ cannot carry it
            exc.add_note(f"gai: {partial.stop_reason.detail}")
