"""The run loop: call the model, run its tool calls in parallel, repeat until told to stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gai._ids import new_run_id
from gai._lazy import lazy_module
from gai._registry import resolve_model
from gai._warn import warn
from gai.engine._control import Control, Paused, StoppedBeforeTools, approval_error
from gai.engine._parallel import run_tool_calls
from gai.engine.hooks import MODEL_HOOK, interrupted_result
from gai.engine.request import Request, StepOverrides, check_tool_choice, normalize_tools
from gai.errors import BudgetExceededError, RunExistsError, UserError
from gai.observe.hub import combine, instrumented
from gai.providers.base import Model, ModelRequest, ModelResponse, ToolChoice
from gai.providers.gate import SlotHold, held_slots, run_order, start_order
from gai.providers.streaming import StreamAssembler
from gai.providers.wire import MessageHistory, attach_history
from gai.stop import StopCondition, as_condition
from gai.tools import Tool
from gai.tools.invoke import nested_usage
from gai.types.transcript import assistant_message, step_messages, tool_message

if TYPE_CHECKING:
    from gai.types import RunEvent, events
else:
    # The event classes load when a run first emits one (someone listens).
    events = lazy_module("gai.types.events")

if TYPE_CHECKING:
    # Loaded only when a run uses them (a store, a budget, retries), to keep `import gai` light.
    from gai.control.approval import Decision
    from gai.control.budget import BudgetUse
    from gai.engine._checkpoint import Checkpointer
    from gai.resilience.retry import RetryPolicy
    from gai.resilience.timeout import Timeouts
    from gai.store.records import PendingStep, RunRecord, RunSnapshot
from gai.types import (
    Message,
    RunState,
    Step,
    StopReason,
    StreamRestart,
    TextChunk,
    TextResult,
    ToolCall,
    ToolCallChunk,
    ToolResult,
    Usage,
    system,
    user,
)

__all__ = ["run_loop"]

_ERROR_SUMMARY_LIMIT = 500

logger = logging.getLogger("gai.run")

Emit = Callable[["RunEvent"], None]


class _NoTimeouts:
    run: float | None = None
    step: float | None = None
    model_call: float | None = None


_NO_TIMEOUTS = _NoTimeouts()
_NO_CONTROL = Control()


def _timeouts(request: Request) -> Timeouts | _NoTimeouts:
    # Request.__post_init__ has turned a plain number into Timeouts(run=...).
    timeout = request.timeout
    return timeout if timeout is not None and not isinstance(timeout, int | float) else _NO_TIMEOUTS


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


@dataclass(slots=True)
class _Run:
    """The loop's mutable bookkeeping for one run."""

    request: Request
    model: Model
    run_id: str
    started: float
    tools: list[Tool]
    tool_choice: ToolChoice
    system: str | None
    messages: list[Message]
    steps: list[Step] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    raw: Any = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    checkpoint: Checkpointer | None = None
    hold: SlotHold | None = None
    """With a store, what keeps the model call's connection slot across the commit the
    step waits for before its tools start."""
    transcript_edited: bool = False
    """Whether anything but the steps (a nudge, a new system prompt) changed the
    conversation; if not, a store can rebuild it from the input and the steps."""
    pending: PendingStep | None = None
    """The step a resumed run was in when it stopped (its recorded parts are reused)."""
    emit: Emit | None = None
    stream: bool = False
    control: Control = field(default_factory=lambda: _NO_CONTROL)
    budget_use: BudgetUse | None = None
    history: MessageHistory = field(default_factory=MessageHistory)
    """The transcript in wire form, so each step encodes only the new messages."""
    system_message: Message | None = None
    """`system` as a message, built once so the transcript's head keeps its identity."""

    def state(self) -> RunState:
        return RunState(
            run_id=self.run_id,
            steps=tuple(self.steps),
            usage=self.usage,
            elapsed=time.perf_counter() - self.started,
            messages=tuple(self.transcript()),
            model=self.model.name,
            budget_left=self.budget_use.left if self.budget_use is not None else None,
        )

    def transcript(self) -> list[Message]:
        if self.system is None:
            return self.messages
        head = self.system_message
        if head is None or head.text != self.system:
            head = self.system_message = system(self.system)
        return [head, *self.messages]

    def result(self, reason: StopReason, pending: Sequence[ToolCall] = ()) -> TextResult:
        return TextResult(
            text=self.steps[-1].text if self.steps else "",
            steps=tuple(self.steps),
            usage=self.usage,
            stop_reason=reason,
            messages=tuple(self.transcript()),
            run_id=self.run_id,
            started_at=self.started_at,
            pending_approvals=tuple(pending),
            raw=self.raw,
            metadata=self.request.metadata,
        )

    def apply(self, overrides: StepOverrides) -> None:
        if overrides.model is not None:
            self.model = prepare_model(overrides.model, self.request)
        if overrides.tools is not None:
            self.tools = normalize_tools(overrides.tools)
        if overrides.tool_choice is not None:
            self.tool_choice = overrides.tool_choice
        if overrides.system is not None:
            self.system = overrides.system
            self.transcript_edited = True
        check_tool_choice(self.tool_choice, self.tools)


def _made_step(
    run: _Run,
    step_number: int,
    response: ModelResponse,
    results: tuple[ToolResult, ...],
    started: float,
    model_duration: float,
    memory_mb: float | None,
) -> Step:
    return Step(
        step_number=step_number,
        text=response.text,
        tool_calls=response.tool_calls,
        tool_results=results,
        usage=response.usage,
        duration=time.perf_counter() - started,
        model_duration=model_duration,
        finish_reason=response.finish_reason,
        model=response.answered_by or run.model.name,
        response_model=response.model_name,
        attempts=response.attempts,
        start_offset=started - run.started,
        memory_mb=memory_mb,
        error=_error_summary(results),
    )


def _error_summary(results: Sequence[ToolResult]) -> str | None:
    failed = [r for r in results if r.error is not None]
    if not failed:
        return None
    detail = "; ".join(f"{r.name}: {r.error}" for r in failed)
    if len(detail) > _ERROR_SUMMARY_LIMIT:
        detail = detail[: _ERROR_SUMMARY_LIMIT - 3] + "..."
    return f"{len(failed)} of {len(results)} tool calls failed: {detail}"


def _should_stop(
    run: _Run, step: Step, condition: StopCondition | None, limit: int
) -> StopReason | None:
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


async def _call_model(run: _Run, request: ModelRequest, step_number: int) -> ModelResponse:
    # The previous answer's payload is only for the result; a run waiting on the model
    # should not hold it.
    run.raw = None
    emit = run.emit
    # getattr, not isinstance(StreamingModel): runtime Protocol checks are slow per step.
    open_stream = getattr(run.model, "stream", None) if emit is not None and run.stream else None
    if open_stream is None:
        response = await run.model.generate(request)
        if emit is not None and run.stream and response.text:
            emit(events.TextDelta(run.run_id, step_number, response.text))
        return response
    assert emit is not None
    assembler = StreamAssembler(run.model.name)
    stream = open_stream(request)
    try:
        async for chunk in stream:
            started = assembler.add(chunk)
            if isinstance(chunk, TextChunk):
                if chunk.text:
                    emit(events.TextDelta(run.run_id, step_number, chunk.text))
            elif isinstance(chunk, StreamRestart):
                emit(events.ModelCallRetried(run.run_id, step_number, chunk.attempt, chunk.reason))
            elif isinstance(chunk, ToolCallChunk):
                pending = assembler.calls[chunk.index]
                if started and pending.name:
                    emit(
                        events.ToolCallStarted(
                            run.run_id, step_number, chunk.index, pending.call_id, pending.name
                        )
                    )
                if chunk.arguments:
                    emit(
                        events.ToolCallDelta(run.run_id, step_number, chunk.index, chunk.arguments)
                    )
    finally:
        # Closing the generator closes the provider's HTTP stream when we stop early.
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    response = assembler.response()
    for index, call in enumerate(response.tool_calls):
        emit(events.ToolCallFinished(run.run_id, step_number, index, call))
    return response


async def _step(run: _Run) -> Step:
    request = run.request
    step_number = len(run.steps) + 1
    emit = run.emit
    if emit is not None:
        emit(events.StepStarted(run.run_id, step_number, run.model.name))
    tools_by_name = {t.name: t for t in run.tools}
    model_request = attach_history(
        ModelRequest(
            messages=tuple(run.transcript()),
            tools=tuple(t.definition for t in run.tools),
            tool_choice=run.tool_choice,
            settings=dict(request.settings),
        ),
        run.history,
    )
    pending, run.pending = run.pending, None
    if pending is not None and pending.step_number != step_number:
        pending = None
    started = time.perf_counter()
    results: tuple[ToolResult, ...] = ()
    hold = run.hold
    if hold is not None:
        hold.hold()
    try:
        if pending is not None and pending.response is not None:
            from gai.store.recorded import response_from_record

            response = response_from_record(pending.response)
            model_duration = pending.response.model_duration
        else:
            if emit is not None:
                emit(
                    events.ModelCallStarted(
                        run.run_id, step_number, run.model.name, model_request.messages
                    )
                )
            response = await _call_model(run, model_request, step_number)
            model_duration = time.perf_counter() - started
            if emit is not None:
                emit(
                    events.ModelCallFinished(
                        run.run_id,
                        step_number,
                        response.answered_by or run.model.name,
                        model_duration,
                        response.usage,
                        response.finish_reason,
                        response.model_name,
                        len(response.tool_calls),
                        response.attempts,
                        response.text,
                        response.tool_calls,
                    )
                )
            if (
                run.checkpoint is not None
                and (
                    wait := run.checkpoint.model_response(
                        step_number, response, model_request, model_duration
                    )
                )
                is not None
            ):
                await wait
            token = run.control.stop_token
            if token is not None and token.requested and response.tool_calls:
                raise StoppedBeforeTools(token.reason)
        if response.tool_calls:
            try:
                results = await _run_tools(run, response, tools_by_name, step_number, pending, hold)
            except Paused as paused:
                # The result shows what the step did before it paused.
                paused.step = _made_step(
                    run, step_number, response, paused.done, started, model_duration, None
                )
                raise
    finally:
        if hold is not None:
            hold.release()
    step = _made_step(
        run, step_number, response, results, started, model_duration, run.control.memory()
    )
    run.raw = response.raw
    run.steps.append(step)
    run.usage = run.usage + _with_tools(step)
    run.messages.append(assistant_message(response.text, response.tool_calls))
    if results:
        run.messages.append(tool_message(results))
    if run.checkpoint is not None and (wait := run.checkpoint.step_finished(step)) is not None:
        await wait
    if emit is not None:
        emit(events.StepFinished(run.run_id, step_number, step))
    if logger.isEnabledFor(logging.DEBUG):
        _log_step(run, step, results)
    return step


def _log_step(run: _Run, step: Step, results: Sequence[ToolResult]) -> None:
    step_number = step.step_number
    logger.debug(
        "step %d finished: %d tool calls, %d tokens, %.3fs",
        step_number,
        len(step.tool_calls),
        step.usage.total_tokens,
        step.duration,
        extra={
            "gai_run_id": run.run_id,
            "gai_step": step_number,
            "gai_model": step.model,
            "gai_tool_calls": [c.name for c in step.tool_calls],
            "gai_tool_errors": sum(1 for r in results if not r.ok),
            "gai_tokens": step.usage.total_tokens,
            "gai_duration": step.duration,
        },
    )


async def _run_tools(
    run: _Run,
    response: ModelResponse,
    tools_by_name: dict[str, Tool],
    step_number: int,
    pending: PendingStep | None,
    hold: SlotHold | None = None,
) -> tuple[ToolResult, ...]:
    """Run the step's tool calls, reusing what a resumed run already recorded."""
    request = run.request
    done: dict[str, ToolResult] = dict(pending.results) if pending is not None else {}
    began = set(pending.started) if pending is not None else set()
    checkpoint = run.checkpoint
    control = run.control
    # Calls per tool so far, for the run's tool budgets (counted only when it has any).
    used = Counter(c.name for s in run.steps for c in s.tool_calls) if control.active else None
    to_run: list[ToolCall] = []
    awaiting: list[ToolCall] = []
    for call in response.tool_calls:
        if call.call_id in done:
            continue
        tool = tools_by_name.get(call.name)
        refused: ToolResult | None = None
        if control.wrapping_up is not None:
            refused = _no_tools_now(call)
        elif tool is not None and tool.requires_approval(call.arguments):
            decision = control.approvals.get(call.call_id)
            if decision is None:
                awaiting.append(call)
                continue
            if decision.verdict == "reject":
                refused = approval_error(call, decision)
        if refused is None and call.call_id in began and not (tool is not None and tool.idempotent):
            # It may have taken effect before the crash: do not run it twice.
            refused = interrupted_result(call)
        if refused is None and used is not None:
            refused = control.refusal(call, used, sum(used.values()))
        if refused is not None:
            done[call.call_id] = refused
            if (
                checkpoint is not None
                and (wait := checkpoint.tool_result(step_number, refused)) is not None
            ):
                await wait
            continue
        if used is not None:
            used[call.name] += 1
        to_run.append(call)
    if checkpoint is not None and to_run:
        await checkpoint.tools_started(step_number, [c.call_id for c in to_run])
    if hold is not None:
        hold.release()  # before the tools: neither they nor runs they start hold it
    fresh = await run_tool_calls(
        to_run,
        tools_by_name,
        run_id=run.run_id,
        step_number=step_number,
        model=run.model.name,
        max_parallel=request.max_parallel_tools,
        default_timeout=request.tool_timeout,
        deps=request.deps,
        emit=run.emit,
        record=None if checkpoint is None else checkpoint.tool_result,
        run_started=run.started,
    )
    done.update((r.call_id, r) for r in fresh)
    if awaiting:
        raise Paused(
            awaiting, tuple(done[c.call_id] for c in response.tool_calls if c.call_id in done)
        )
    return tuple(done[c.call_id] for c in response.tool_calls)


def _no_tools_now(call: ToolCall) -> ToolResult:
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        error="The run's budget is used up: no more tool calls. Answer with what you have.",
    )


def prepare_model(model: Model | str, request: Request) -> Model:
    """Resolve the model and wrap it with the request's model-call timeout and retry."""
    wrapped = wrap_model(resolve_model(model), request.retry, _timeouts(request).model_call)
    hook = MODEL_HOOK.get()
    return wrapped if hook is None else hook(wrapped)


def wrap_model(base: Model, retry: RetryPolicy | bool | None, model_call: float | None) -> Model:
    """Wrap `base` with a per-call timeout and a retry policy (None: the model's default)."""
    resolved = base
    if model_call is not None:
        from gai.resilience.timeout import TimeoutModel

        resolved = TimeoutModel(resolved, model_call)
    policy = retry
    if policy is None:
        policy = getattr(base, "retry_by_default", False)
    if policy is False:
        return resolved
    from gai.resilience.retry import DEFAULT_RETRY, RetryModel

    return RetryModel(resolved, DEFAULT_RETRY if policy is True else policy)


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

    See `_run_loop`. A run started outside any other run takes its place in the start
    order, by which its model requests wait for a connection (see `ConnectionGate`).
    """
    if run_order.get() is not None:
        return await _run_loop(model, request, emit, stream, resume, approvals)
    token = run_order.set(start_order())
    try:
        return await _run_loop(model, request, emit, stream, resume, approvals)
    finally:
        run_order.reset(token)


async def _run_loop(
    model: Model | str,
    request: Request,
    emit: Emit | None,
    stream: bool,
    resume: RunRecord | None,
    approvals: Mapping[str, Decision] | None,
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
    propagate with `partial_result` set to the steps completed so far.
    """
    condition = as_condition(request.stop_when) if request.stop_when is not None else None
    if condition is not None:
        _warn_unknown_tools(condition, request.tools)
    emit = _emitter(combine([*instrumented(), *request.observers]), emit)
    run = _Run(
        request=request,
        model=prepare_model(model, request),
        run_id=request.run_id or new_run_id(),
        started=time.perf_counter(),
        tools=list(request.tools),  # type: ignore[arg-type]  # normalised in __post_init__
        tool_choice=request.tool_choice,
        system=request.system,
        messages=list(request.messages),
        emit=emit,
        stream=stream,
    )
    run.control = _control(request, approvals)
    if request.budget is not None:
        run.control.check_prices(run.model)
    if request.run_store is not None:
        from gai.engine._checkpoint import checkpointer

        logged = resume.checkpoints[-1].seq if resume is not None and resume.checkpoints else 0
        run.checkpoint = checkpointer(request.run_store, run.run_id, logged)
        run.hold = SlotHold()
    if emit is not None:
        metadata = request.metadata  # a dict since Request.__post_init__
        emit(events.RunStarted(run.run_id, run.model.name, metadata=metadata))  # type: ignore[arg-type]
    timeouts = _timeouts(request)
    held = None if run.hold is None else held_slots.set(run.hold)
    try:
        if resume is not None:
            if run.checkpoint is not None:
                await run.checkpoint.resumed()
            reason = _restore(run, resume, condition)
            if reason is not None:
                return await _finish(run, reason)
        elif run.checkpoint is not None:
            await run.checkpoint.start(
                run.model.name, _snapshot(request), wait=request.run_id is not None
            )
        async with _time_limit(timeouts.run) as run_deadline:
            while True:
                control = run.control
                if control.stop_token is not None and control.stop_token.requested:
                    return await _stopped(
                        run, f"{control.stop_token.reason} (before step {len(run.steps) + 1})"
                    )
                if request.prepare_step is not None:
                    overrides = await _maybe_await(request.prepare_step(run.state()))
                    if overrides is not None:
                        run.apply(_checked(overrides))
                last = run.steps[-1] if run.steps else None
                wrap_up = control.plan_wrap_up(run.budget_use, last)
                saved_choice = run.tool_choice
                if wrap_up:
                    run.tool_choice = "none"
                try:
                    async with _time_limit(timeouts.step) as step_deadline:
                        step = await _step(run)
                        if request.on_step_finish is not None:
                            await _maybe_await(request.on_step_finish(step))
                        reason = _after_step(run, step, condition)
                except TimeoutError:
                    if not step_deadline.expired():
                        raise
                    reason = _deadline(run, f"step deadline of {timeouts.step:g}s")
                finally:
                    run.tool_choice = saved_choice
                if reason is not None:
                    return await _finish(run, reason)
    except TimeoutError:
        if run_deadline.expired():
            return await _finish(run, _deadline(run, f"run deadline of {timeouts.run:g}s"))
        raise
    except Paused as paused:
        return await _paused(run, paused.calls, paused.step)
    except StoppedBeforeTools as stop:
        return await _stopped(run, f"{stop} (the tools of step {len(run.steps) + 1} were not run)")
    except asyncio.CancelledError as exc:
        await _fail(run, exc, StopReason(kind="cancelled", detail=_done(run, "cancelled")))
        raise
    except BudgetExceededError:
        raise  # already recorded and reported by _finish
    except Exception as exc:
        detail = _done(run, f"failed with {type(exc).__name__}: {exc}")
        await _fail(run, exc, StopReason(kind="error", detail=detail))
        raise
    finally:
        if held is not None:
            held_slots.reset(held)


class _NoDeadline:
    """Stands in for `asyncio.timeout(None)` without its per-use objects."""

    async def __aenter__(self) -> _NoDeadline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def expired(self) -> bool:
        return False


_NO_DEADLINE = _NoDeadline()


def _time_limit(seconds: float | None) -> asyncio.Timeout | _NoDeadline:
    return _NO_DEADLINE if seconds is None else asyncio.timeout(seconds)


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
        return _NO_CONTROL  # shared: with nothing configured it never changes
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


def _after_step(run: _Run, step: Step, condition: StopCondition | None) -> StopReason | None:
    """Every check that may end the run after a step, most binding first."""
    control = run.control
    if control.budget is not None:
        run.budget_use = control.budget_use(run.state(), step.memory_mb)
        for name, used, maximum in control.soft_warnings(run.budget_use):
            if run.emit is not None:
                run.emit(events.BudgetWarning(run.run_id, step.step_number, name, used, maximum))
        reason = control.budget_stop(run.budget_use)
        if reason is not None:
            return reason
    if control.guards:
        reason, nudges = control.apply_guards(run.state())
        if reason is not None:
            return reason
        if nudges:
            run.messages.extend(user(n) for n in nudges)
            run.transcript_edited = True
    return _should_stop(run, step, condition, run.request.max_steps_limit)


async def _paused(run: _Run, calls: list[ToolCall], partial: Step | None) -> TextResult:
    _report_usage(run)
    names = ", ".join(f"{c.name} ({c.call_id})" for c in calls)
    reason = StopReason(
        kind="approval_pending",
        detail=f"{len(calls)} tool call(s) wait for approval in step {len(run.steps) + 1}: "
        f"{names}; resume with gai.resume(run_id, approvals={{call_id: gai.approve()}})",
    )
    result = run.result(reason, calls)
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


async def _stopped(run: _Run, detail: str) -> TextResult:
    _report_usage(run)
    reason = StopReason(kind="cancelled", detail=f"stopped at a step boundary: {detail}")
    result = run.result(reason)
    if run.checkpoint is not None:
        await run.checkpoint.failed(reason.detail, result, cancelled=True)
    if run.emit is not None:
        run.emit(events.RunFinished(run.run_id, len(run.steps), result))
    return result


def _deadline(run: _Run, what: str) -> StopReason:
    return StopReason(
        kind="deadline",
        detail=f"{what} reached during step {len(run.steps) + 1}; "
        f"{len(run.steps)} step(s) completed",
    )


async def _finish(run: _Run, reason: StopReason) -> TextResult:
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
        raise error
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


async def _fail(run: _Run, exc: BaseException, reason: StopReason) -> None:
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
            await run.checkpoint.failed(
                reason.detail, partial, cancelled=isinstance(exc, asyncio.CancelledError)
            )
        except Exception as store_exc:  # the run's own error matters more
            exc.add_note(f"gai: recording the failure in the run store failed: {store_exc}")
    if run.emit is not None:
        run.emit(events.RunFailed(run.run_id, len(run.steps), reason.detail, partial))


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
    # Validating would only check what gai already holds as its own types (validation
    # was most of what recording a run's start cost); anything else is validated.
    if type(request.tool_choice) is str and all(type(m) is Message for m in messages):
        return RunSnapshot.model_construct(**fields)
    return RunSnapshot(**fields)


def _restore(run: _Run, record: RunRecord, condition: StopCondition | None) -> StopReason | None:
    """Load a stored run's steps; returns a stop reason if its last step already ended it."""
    for step in record.steps:
        run.steps.append(step)
        run.usage = run.usage + _with_tools(step)
        run.messages.extend(step_messages(step))
    run.pending = record.pending
    if run.steps and record.pending is None:
        return _should_stop(run, run.steps[-1], condition, run.request.max_steps_limit)
    return None


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


def _with_tools(step: Step) -> Usage:
    """The step's usage plus what runs started by its tools spent (sub-agents)."""
    usage = step.usage
    for result in step.tool_results:
        if result.usage is not None:
            usage = usage + result.usage
    return usage


def _report_usage(run: _Run) -> None:
    # A run started inside another run's tool (an agent used as a tool) adds its usage
    # to that tool call's result, and so to the outer run's usage.
    spent = nested_usage.get()
    if spent is not None:
        spent.append(run.usage)


def _checked(overrides: object) -> StepOverrides:
    if not isinstance(overrides, StepOverrides):
        raise UserError(
            f"prepare_step must return StepOverrides or None, got {type(overrides).__name__}."
        )
    return overrides


def _done(run: _Run, what: str) -> str:
    return f"run {what} after {len(run.steps)} completed step(s)"


def _attach(exc: BaseException, partial: TextResult) -> None:
    # Keep the first (innermost) partial result if a nested run already attached one.
    if getattr(exc, "partial_result", None) is None:
        try:
            exc.partial_result = partial  # type: ignore[attr-defined]
        except AttributeError:  # exceptions with __slots__ cannot carry it
            exc.add_note(f"gai: {partial.stop_reason.detail}")
