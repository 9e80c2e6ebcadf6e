"""One step: the model phase, then the tools phase, then the step recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gai._lazy import lazy_module
from gai.engine._context import calibrate, shape_context
from gai.engine._model_call import build_request, call_model
from gai.engine._outcome import Paused, Stopped
from gai.engine._run import Run
from gai.engine._tool_phase import run_tools
from gai.providers.base import ModelResponse
from gai.types import ContextEdit, Step, ToolResult, Usage
from gai.types.transcript import assistant_message, tool_message

if TYPE_CHECKING:
    from gai.types import events
else:
    events = lazy_module("gai.types.events")

__all__ = ["take_step", "with_tools"]

_ERROR_SUMMARY_LIMIT = 500

logger = logging.getLogger("gai.run")


async def take_step(run: Run) -> Step | Paused | Stopped:
    """Call the model, run the tools it asks for, and record the step in `run`.

    A resumed run reuses the model answer and tool results it recorded for this step.
    Returns `Paused` when calls wait for approval and `Stopped` when a stop was
    requested while the model answered (its tool calls do not run).
    """
    step_number = len(run.steps) + 1
    emit = run.emit
    if emit is not None:
        emit(events.StepStarted(run.run_id, step_number, run.model.name))
    pending, run.pending = run.pending, None
    if pending is not None and pending.step_number != step_number:
        pending = None
    started = time.perf_counter()
    scope = run.scope
    scope.begin_model_phase()
    try:
        if pending is not None and pending.response is not None:
            from gai.store.recorded import response_from_record

            response = response_from_record(pending.response)
            model_duration = pending.response.model_duration
            edit = pending.response.context
            if edit is not None:
                run.messages = edit.apply(run.messages)
                run.transcript_edited = True
        else:
            edit = await shape_context(run) if run.context is not None else None
            response, model_duration = await _answer(run, step_number, started, edit)
            token = run.control.stop_token
            if token is not None and token.requested and response.tool_calls:
                return Stopped(f"{token.reason} (the tools of step {step_number} were not run)")
        results: tuple[ToolResult, ...] = ()
        edited_calls = False
        if response.tool_calls:
            tools_by_name = {t.name: t for t in run.tools}
            results, awaiting, calls = await run_tools(
                run, response, tools_by_name, step_number, pending
            )
            if calls is not response.tool_calls:
                # A person edited arguments: the step and the conversation show the calls
                # as they ran.
                response = response.model_copy(update={"tool_calls": calls})
                edited_calls = True
            if awaiting:
                # The result shows what the step did before it paused.
                partial = _made_step(run, step_number, response, results, started, model_duration)
                return Paused(awaiting, partial)
    finally:
        scope.end_model_phase()
    step = _made_step(
        run, step_number, response, results, started, model_duration, run.control.memory(), edit
    )
    run.raw = response.raw
    run.steps.append(step)
    run.usage = run.usage + with_tools(step)
    run.messages.append(
        assistant_message(
            response.text, response.tool_calls, response.reasoning, response.hosted_tools
        )
    )
    if results:
        run.messages.append(tool_message(results))
    if run.checkpoint is not None:
        run.checkpoint.step_finished(step, with_calls=edited_calls)
    if run.session is not None:
        await run.session.write(run.messages, reset=edit is not None)
    if emit is not None:
        emit(events.StepFinished(run.run_id, step_number, step))
    if logger.isEnabledFor(logging.DEBUG):
        _log_step(run, step, results)
    return step


async def _answer(
    run: Run, step_number: int, started: float, edit: ContextEdit | None
) -> tuple[ModelResponse, float]:
    """The model's answer for this step and how long it took, recorded and reported."""
    request = build_request(run)
    emit = run.emit
    if emit is not None:
        emit(events.ModelCallStarted(run.run_id, step_number, run.model.name, request.messages))
    response = await call_model(run, request, step_number)
    if run.tokens is not None:
        calibrate(run, response)
    duration = time.perf_counter() - started
    if emit is not None:
        emit(
            events.ModelCallFinished(
                run_id=run.run_id,
                step_number=step_number,
                model=response.answered_by or run.model.name,
                duration=duration,
                usage=response.usage,
                finish_reason=response.finish_reason,
                response_model=response.model_name,
                tool_calls=len(response.tool_calls),
                attempts=response.attempts,
                text=response.text,
                calls=response.tool_calls,
            )
        )
    if run.checkpoint is not None:
        run.checkpoint.model_response(step_number, response, request, duration, edit)
    return response, duration


def _made_step(
    run: Run,
    step_number: int,
    response: ModelResponse,
    results: tuple[ToolResult, ...],
    started: float,
    model_duration: float,
    memory_mb: float | None = None,
    context: ContextEdit | None = None,
) -> Step:
    return Step(
        step_number=step_number,
        text=response.text,
        tool_calls=response.tool_calls,
        reasoning=response.reasoning,
        hosted_tools=response.hosted_tools,
        citations=response.citations,
        tool_results=results,
        usage=response.usage,
        duration=time.perf_counter() - started,
        model_duration=model_duration,
        finish_reason=response.finish_reason,
        refusal=response.refusal,
        model=response.answered_by or run.model.name,
        response_model=response.model_name,
        attempts=response.attempts,
        start_offset=started - run.started,
        memory_mb=memory_mb,
        error=_error_summary(results),
        context=context,
    )


def _error_summary(results: Sequence[ToolResult]) -> str | None:
    failed = [r for r in results if r.error is not None]
    if not failed:
        return None
    detail = "; ".join(f"{r.name}: {r.error}" for r in failed)
    if len(detail) > _ERROR_SUMMARY_LIMIT:
        detail = detail[: _ERROR_SUMMARY_LIMIT - 3] + "..."
    return f"{len(failed)} of {len(results)} tool calls failed: {detail}"


def with_tools(step: Step) -> Usage:
    """The step's usage plus what its tools' runs and its context policy spent.

    Tools may start runs of their own (sub-agents); a policy may call a model (summaries).
    """
    usage = step.usage
    if step.context is not None and step.context.usage is not None:
        usage = usage + step.context.usage
    for result in step.tool_results:
        if result.usage is not None:
            usage = usage + result.usage
    return usage


def _log_step(run: Run, step: Step, results: Sequence[ToolResult]) -> None:
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
