"""How a run begins: its bookkeeping, its run control, its record in the store."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gai._ids import new_run_id
from gai._lazy import lazy_module
from gai._scope import open_scope
from gai._warn import warn
from gai.engine._context import replayed_context
from gai.engine._control import Control
from gai.engine._decide import should_stop
from gai.engine._outcome import RUN_AGAIN, Finished, Outcome
from gai.engine._run import NO_CONTROL, Emit, Run, prepare_model
from gai.engine._step import with_tools
from gai.engine.request import Request
from gai.observe.hub import combine, instrumented
from gai.providers.base import Model
from gai.stop import StopCondition, as_condition
from gai.tools import Tool
from gai.types import Message
from gai.types.transcript import step_messages

if TYPE_CHECKING:
    from gai.control.approval import Decision
    from gai.store.records import RunRecord, RunSnapshot
    from gai.types import RunEvent, events
else:
    events = lazy_module("gai.types.events")

__all__ = ["begin", "start"]


def start(
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
        scope=open_scope(),
        started=time.perf_counter(),
        tools=list(request.tools),  # type: ignore[arg-type]  # normalised in __post_init__
        tool_choice=request.tool_choice,
        system=request.system,
        messages=list(request.messages),
        emit=_emitter(combine([*instrumented(), *request.observers]), emit),
        stream=stream,
    )
    run.control = _control(request, approvals)
    policy = request.context
    if policy is None and request.session is not None:
        policy = request.session.context
    replayed = replayed_context(run.model) if resume is None else None
    if policy is not None or replayed is not None:
        from gai.context import TokenCounter, as_policy

        run.context = replayed or as_policy(policy)
        # A session's runs share one counter: what one learned of the provider's
        # tokenizer holds for the next turn's first request.
        run.tokens = request.session.tokens if request.session is not None else TokenCounter()
    if request.budget is not None:
        run.control.check_prices(run.model)
    if request.run_store is not None:
        from gai.engine._checkpoint import Checkpointer

        logged = resume.checkpoints[-1].seq if resume is not None and resume.checkpoints else 0
        run.checkpoint = Checkpointer(request.run_store, run.run_id, logged)
    return run, condition


async def begin(
    run: Run, request: Request, resume: RunRecord | None, condition: StopCondition | None
) -> Outcome:
    """Open the run's record and load what a resumed run already did."""
    if run.emit is not None:
        metadata = request.metadata  # a dict since Request.__post_init__
        run.emit(events.RunStarted(run.run_id, run.model.name, metadata=metadata))  # type: ignore[arg-type]
    session = request.session
    if session is not None:
        turn = session.turn(run.run_id)
        await turn.__aenter__()
        run.session = turn  # released when the run ends, however it ends
        if resume is None:
            run.messages = [*turn.history, *run.messages]
    if resume is not None:
        if run.checkpoint is not None:
            await run.checkpoint.resumed()
        outcome = _restore(run, resume, condition)
        if run.session is not None:
            run.session.follow(run.messages)
        return outcome
    if run.checkpoint is not None:
        await run.checkpoint.start(
            run.model.name, _snapshot(request, run.messages), wait=request.run_id is not None
        )
    return RUN_AGAIN


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


def _snapshot(request: Request, messages: list[Message]) -> RunSnapshot:
    """The run's input as stored: its messages include a session's conversation."""
    from gai.store.records import RunSnapshot

    fields: dict[str, Any] = {
        "messages": list(messages),
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
    added: dict[int, list[Message]] = {}
    for after, messages in record.snapshot.added_messages or ():
        added.setdefault(after, []).extend(messages)
    if added:
        run.transcript_edited = True
        run.messages.extend(added.get(0, ()))
    for step in record.steps:
        if step.context is not None:
            # The conversation the step's model call saw, as its policy left it.
            run.messages = step.context.apply(run.messages)
            run.transcript_edited = True
        run.steps.append(step)
        run.usage = run.usage + with_tools(step)
        run.messages.extend(step_messages(step))
        run.messages.extend(added.get(step.step_number, ()))
    run.pending = record.pending
    # A fork given a new prompt after its last copied step has a question to answer.
    asked = len(record.steps) in added
    if run.steps and record.pending is None and not asked:
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
