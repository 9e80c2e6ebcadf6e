"""The run loop: call the model, run its tool calls in parallel, repeat until told to stop.

Each turn of the loop is a step (`_step.take_step`: the model phase, then the tools
phase) followed by the decide phase (`_decide.decide`). Every phase returns a value
that says whether the run goes on (`RUN_AGAIN`) or how it ends (`Finished`, `Paused`,
`Stopped`); `_ending.end` turns the ending into the run's result.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gai._lazy import lazy_module
from gai._scope import current_scope
from gai.engine._begin import begin, start
from gai.engine._decide import deadline, decide
from gai.engine._ending import end, fail
from gai.engine._outcome import RUN_AGAIN, Outcome, Stopped
from gai.engine._run import Emit, Run, timeouts_of
from gai.engine._step import take_step
from gai.engine.request import Request, StepOverrides
from gai.errors import UserError
from gai.providers.base import Model
from gai.stop import StopCondition
from gai.types import Step, TextResult

if TYPE_CHECKING:
    from gai.control.approval import Decision
    from gai.store.records import RunRecord
    from gai.types import events
else:
    events = lazy_module("gai.types.events")

__all__ = ["Emit", "run_loop"]


async def run_loop(
    model: Model | str,
    request: Request,
    *,
    emit: Emit | None = None,
    stream: bool = False,
    resume: RunRecord | None = None,
    approvals: Mapping[str, Decision] | None = None,
) -> TextResult:
    """Run `request` on `model` until a stop condition, the ceiling or a final answer.

    Args:
        model: The model or a model string.
        request: The run's input and options.
        emit: Called synchronously with every event of the run; it must not block.
        stream: Call the model in streaming mode so text and tool calls arrive as deltas.
        resume: A stored run to continue: its recorded steps, model answers and tool
            results are reused instead of repeated.
        approvals: Decisions for tool calls waiting for approval, by call id.

    Errors that end the run early (cancellation, provider failure, a raising callback)
    propagate with `partial_result` set to the steps completed so far. The run is
    the current `gai._scope.RunScope` while it runs (providers serve waiting
    requests in the scopes' start order).
    """
    run, condition = start(model, request, emit, stream, resume, approvals)
    scope = current_scope.set(run.scope)
    try:
        try:
            outcome = await begin(run, request, resume, condition)
            if outcome is RUN_AGAIN:
                outcome = await _steps(run, condition)
            result = await end(run, outcome)  # type: ignore[arg-type]  # not RUN_AGAIN
            if run.session is not None:
                await run.session.write(run.messages, reset=False)
        except (Exception, asyncio.CancelledError) as exc:
            await fail(run, exc)
            raise
    finally:
        current_scope.reset(scope)
        if run.session is not None:
            run.session.release()
    if isinstance(result, Exception):
        raise result  # a budget that raises: recorded and reported by `end`
    return result


async def _steps(run: Run, condition: StopCondition | None) -> Outcome:
    """Take steps until one of them, or the run's deadline, ends the run."""
    limit = timeouts_of(run.request).run
    if limit is None:
        outcome: Outcome = RUN_AGAIN
        while outcome is RUN_AGAIN:
            outcome = await _turn(run, condition)
        return outcome
    try:
        async with asyncio.timeout(limit) as run_deadline:
            outcome = RUN_AGAIN
            while outcome is RUN_AGAIN:
                outcome = await _turn(run, condition)
            return outcome
    except TimeoutError:
        if not run_deadline.expired():
            raise
        return deadline(run, f"run deadline of {limit:g}s")


async def _turn(run: Run, condition: StopCondition | None) -> Outcome:
    """One turn of the loop: prepare, take a step, decide."""
    request = run.request
    control = run.control
    token = control.stop_token
    if token is not None and token.requested:
        return Stopped(f"{token.reason} (before step {len(run.steps) + 1})")
    if request.prepare_step is not None:
        overrides = await _maybe_await(request.prepare_step(run.state()))
        if overrides is not None:
            run.apply(_checked(overrides))
    wrap_up = control.plan_wrap_up(run.budget_use, run.steps[-1] if run.steps else None)
    saved_choice = run.tool_choice
    if wrap_up:
        run.tool_choice = "none"
    try:
        limit = timeouts_of(request).step
        if limit is None:
            return await _step_and_decide(run, condition)
        try:
            async with asyncio.timeout(limit) as step_deadline:
                return await _step_and_decide(run, condition)
        except TimeoutError:
            if not step_deadline.expired():
                raise
            return deadline(run, f"step deadline of {limit:g}s")
    finally:
        run.tool_choice = saved_choice


async def _step_and_decide(run: Run, condition: StopCondition | None) -> Outcome:
    step = await take_step(run)
    if not isinstance(step, Step):
        return step  # paused for approvals, or stopped before the tools
    if run.request.on_step_finish is not None:
        await _maybe_await(run.request.on_step_finish(step))
    return decide(run, step, condition)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def _checked(overrides: object) -> StepOverrides:
    if not isinstance(overrides, StepOverrides):
        raise UserError(
            f"prepare_step must return StepOverrides or None, got {type(overrides).__name__}."
        )
    return overrides
