"""The run loop: call the model, run its tool calls in parallel, repeat until told to stop.

Each turn of the loop is a step (`_step.take_step`: the model phase, then the tools
phase) followed by the decide phase (`_decide.decide`). Every phase returns a value
that says whether the run goes on (`RUN_AGAIN`) or how it ends (`Finished`, `Paused`,
`Stopped`); `_ending.end` turns the ending into the run's result.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gai._ids import new_run_id
from gai._lazy import lazy_module
from gai._warn import warn
from gai.engine._control import Control
from gai.engine._decide import deadline, decide, should_stop
from gai.engine._ending import end, fail
from gai.engine._outcome import RUN_AGAIN, Finished, Outcome, Stopped
from gai.engine._run import NO_CONTROL, Emit, Run, prepare_model, timeouts_of
from gai.engine._step import take_step, with_tools
from gai.engine.request import Request, StepOverrides
from gai.errors import UserError
from gai.observe.hub import combine, instrumented
from gai.providers.base import Model
from gai.providers.gate import SlotHold, held_slots, run_order, start_order
from gai.stop import StopCondition, as_condition
from gai.tools import Tool
from gai.types import Step, TextResult
from gai.types.transcript import step_messages

if TYPE_CHECKING:
    from gai.control.approval import Decision
    from gai.store.records import RunRecord, RunSnapshot
    from gai.types import RunEvent, events
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
    propagate with `partial_result` set to the steps completed so far. A run started
    outside any other run takes its place in the start order, by which its model
    requests wait for a connection (see `gai.providers.gate.ConnectionGate`).
    """
    run, condition = _start(model, request, emit, stream, resume, approvals)
    order = run_order.set(start_order()) if run_order.get() is None else None
    held = None if run.hold is None else held_slots.set(run.hold)
    try:
        try:
            outcome = await _begin(run, request, resume, condition)
            if outcome is RUN_AGAIN:
                outcome = await _steps(run, condition)
            result = await end(run, outcome)  # type: ignore[arg-type]  # not RUN_AGAIN
        except (Exception, asyncio.CancelledError) as exc:
            await fail(run, exc)
            raise
    finally:
        if held is not None:
            held_slots.reset(held)
        if order is not None:
            run_order.reset(order)
    if isinstance(result, Exception):
        raise result  # a budget that raises: recorded and reported by `end`
    return result


def _start(
    model: Model | str,
    request: Request,
    emit: Emit | None,
    stream: bool,
    resume: RunRecord | None,
    approvals: Mapping[str, Decision] | None,
) -> tuple[Run, StopCondition | None]:
    """The run's bookkeeping and stop condition, checked before anything runs."""
    condition = as_condition(request.stop_when) if request.stop_when is not None else None
    if condition is not None:
        _warn_unknown_tools(condition, request.tools)
    run = Run(
        request=request,
        model=prepare_model(model, request),
        run_id=request.run_id or new_run_id(),
        started=time.perf_counter(),
        tools=list(request.tools),  # type: ignore[arg-type]  # normalised in __post_init__
        tool_choice=request.tool_choice,
        system=request.system,
        messages=list(request.messages),
        emit=_emitter(combine([*instrumented(), *request.observers]), emit),
        stream=stream,
    )
    run.control = _control(request, approvals)
    if request.budget is not None:
        run.control.check_prices(run.model)
    if request.run_store is not None:
        from gai.engine._group_checkpoint import checkpointer

        logged = resume.checkpoints[-1].seq if resume is not None and resume.checkpoints else 0
        run.checkpoint = checkpointer(request.run_store, run.run_id, logged)
        run.hold = SlotHold()
    return run, condition


async def _begin(
    run: Run, request: Request, resume: RunRecord | None, condition: StopCondition | None
) -> Outcome:
    """Open the run's record and load what a resumed run already did."""
    if run.emit is not None:
        metadata = request.metadata  # a dict since Request.__post_init__
        run.emit(events.RunStarted(run.run_id, run.model.name, metadata=metadata))  # type: ignore[arg-type]
    if resume is not None:
        if run.checkpoint is not None:
            await run.checkpoint.resumed()
        return _restore(run, resume, condition)
    if run.checkpoint is not None:
        await run.checkpoint.start(
            run.model.name, _snapshot(request), wait=request.run_id is not None
        )
    return RUN_AGAIN


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


def _emitter(observers: Emit | None, stream: Emit | None) -> Emit | None:
    """Observers (failures isolated) plus the stream's queue (which cannot fail)."""
    if observers is None or stream is None:
        return observers or stream

    def both(event: RunEvent) -> None:
        observers(event)
        stream(event)

    return both


def _control(request: Request, approvals: Mapping[str, Decision] | None) -> Control:
    continue_when = request.continue_when
    if not (request.budget or request.guards or request.stop_token or approvals or continue_when):
        return NO_CONTROL
    from gai.control.continuation import ContinueWhen

    control = Control(
        budget=request.budget,
        guards=request.guards,
        stop_token=request.stop_token,
        approvals=dict(approvals or {}),
    )
    if isinstance(continue_when, ContinueWhen):
        control.continue_when = as_condition(continue_when.condition)
        control.nudge = continue_when.nudge
    elif continue_when is not None:
        control.continue_when = as_condition(continue_when)
    return control


def _snapshot(request: Request) -> RunSnapshot:
    from gai.store.records import RunSnapshot

    messages = list(request.messages)
    fields: dict[str, Any] = {
        "messages": messages,
        "system": request.system,
        "tools": [t.definition for t in request.tools if isinstance(t, Tool)],
        "stop_condition": (
            repr(as_condition(request.stop_when)) if request.stop_when is not None else None
        ),
        "tool_choice": request.tool_choice,
        "max_steps_limit": request.max_steps_limit,
        "settings": dict(request.settings),
    }
    if request.metadata is not None:
        fields["metadata"] = request.metadata
    return RunSnapshot(**fields)


def _restore(run: Run, record: RunRecord, condition: StopCondition | None) -> Outcome:
    """Load a stored run's steps; `Finished` if its last step already ended it."""
    for step in record.steps:
        run.steps.append(step)
        run.usage = run.usage + with_tools(step)
        run.messages.extend(step_messages(step))
    run.pending = record.pending
    if run.steps and record.pending is None:
        reason = should_stop(run, run.steps[-1], condition)
        if reason is not None:
            return Finished(reason)
    return RUN_AGAIN


def _warn_unknown_tools(condition: StopCondition, tools: Sequence[object]) -> None:
    awaited = condition.tool_names()
    if not awaited:
        return
    names = {getattr(t, "name", None) for t in tools}
    missing = sorted(awaited - names)
    if missing:
        known = ", ".join(sorted(str(n) for n in names if n)) or "none"
        warn(
            f"stop_when waits for tool {' and '.join(map(repr, missing))}, but the run has "
            f"no tool of that name (its tools: {known}); the condition cannot fire unless "
            f"prepare_step adds it."
        )


def _checked(overrides: object) -> StepOverrides:
    if not isinstance(overrides, StepOverrides):
        raise UserError(
            f"prepare_step must return StepOverrides or None, got {type(overrides).__name__}."
        )
    return overrides
