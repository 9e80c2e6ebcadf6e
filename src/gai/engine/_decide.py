"""The decide phase: after a step, does the run end, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gai._lazy import lazy_module
from gai.engine._outcome import RUN_AGAIN, Finished, RunAgain
from gai.engine._run import Run
from gai.stop import StopCondition
from gai.types import Step, StopReason, user

if TYPE_CHECKING:
    from gai.types import events
else:
    events = lazy_module("gai.types.events")

__all__ = ["deadline", "decide", "should_stop"]


def decide(run: Run, step: Step, condition: StopCondition | None) -> Finished | RunAgain:
    """Every check that may end the run after a step, most binding first."""
    control = run.control
    if control.budget is not None:
        run.budget_use = control.budget_use(run.state(), step.memory_mb)
        for name, used, maximum in control.soft_warnings(run.budget_use):
            if run.emit is not None:
                run.emit(events.BudgetWarning(run.run_id, step.step_number, name, used, maximum))
        reason = control.budget_stop(run.budget_use)
        if reason is not None:
            return Finished(reason)
    if control.guards:
        reason, nudges = control.apply_guards(run.state())
        if reason is not None:
            return Finished(reason)
        if nudges:
            run.messages.extend(user(n) for n in nudges)
            run.transcript_edited = True
    reason = should_stop(run, step, condition)
    return RUN_AGAIN if reason is None else Finished(reason)


def should_stop(run: Run, step: Step, condition: StopCondition | None) -> StopReason | None:
    """Why the run ends after `step` by its stop condition or ceiling, if it does."""
    limit = run.request.max_steps_limit
    if not step.tool_calls:
        control = run.control
        # The state (a snapshot of the whole conversation) only when a condition reads it.
        if control.continue_when is not None and len(run.steps) < limit:
            nudge = control.continue_nudge(run.state())
        else:
            nudge = None
        if nudge is not None and control.wrapping_up is None:
            run.messages.append(user(nudge))
            run.transcript_edited = True
            return None
        return StopReason(
            kind="no_more_tools",
            detail=f"the model called no tools in step {step.step_number}",
        )
    if condition is None:
        return StopReason(
            kind="max_steps",
            detail="stop_when=None runs a single step; pass stop_when to continue after tools",
        )
    reason = condition.check(run.state())
    if reason is not None:
        return reason
    if len(run.steps) >= limit:
        return StopReason(
            kind="step_limit",
            detail=f"hit the hard ceiling of {limit} steps (max_steps_limit) before "
            f"stop_when fired",
        )
    return None


def deadline(run: Run, what: str) -> Finished:
    """The run ends because its deadline or its step's passed."""
    return Finished(
        StopReason(
            kind="deadline",
            detail=f"{what} reached during step {len(run.steps) + 1}; "
            f"{len(run.steps)} step(s) completed",
        )
    )
