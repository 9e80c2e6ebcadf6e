"""The tools phase of a step: decide which calls run, run them, record their results."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from gai.engine._control import answered_result, approval_error
from gai.engine._parallel import run_tool_calls
from gai.engine._run import Run
from gai.engine.hooks import interrupted_result
from gai.providers.base import ModelResponse
from gai.tools import Tool
from gai.types import ToolCall, ToolResult

if TYPE_CHECKING:
    from gai.store.records import PendingStep

__all__ = ["run_tools"]


async def run_tools(
    run: Run,
    response: ModelResponse,
    tools_by_name: dict[str, Tool],
    step_number: int,
    pending: PendingStep | None,
) -> tuple[tuple[ToolResult, ...], list[ToolCall], tuple[ToolCall, ...]]:
    """The results of the answer's tool calls, those waiting for approval, and the calls.

    The calls are returned as they ran: a person may have edited their arguments.

    Results are in call order; with calls waiting, they are the other calls' only. A
    resumed run reuses the results it recorded, and never runs again a call that may have
    taken effect before the crash unless its tool is idempotent.
    """
    done: dict[str, ToolResult] = dict(pending.results) if pending is not None else {}
    began = set(pending.started) if pending is not None else set()
    checkpoint = run.checkpoint
    to_run: list[ToolCall] = []
    awaiting: list[ToolCall] = []
    # Calls per tool so far, for the run's tool budgets (counted only when it has any).
    used = Counter(c.name for s in run.steps for c in s.tool_calls) if run.control.active else None
    refused: list[ToolResult] = []
    calls = response.tool_calls
    if run.control.approvals:
        calls = tuple(_as_approved(run, call) for call in calls)
    for call in calls:
        if call.call_id in done:
            continue
        verdict = _verdict(run, call, tools_by_name.get(call.name), began, used)
        if verdict is None:
            awaiting.append(call)
        elif isinstance(verdict, ToolResult):
            done[call.call_id] = verdict
            refused.append(verdict)
        else:
            if used is not None:
                used[call.name] += 1
            to_run.append(call)
    if checkpoint is not None:
        for result in refused:
            checkpoint.tool_result(step_number, result)
    if checkpoint is not None and to_run:
        await checkpoint.tools_started(step_number, [c.call_id for c in to_run])
    run.scope.end_model_phase()  # before the tools: neither they nor runs they start are in it
    request = run.request
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
    results = tuple(done[c.call_id] for c in calls if c.call_id in done)
    return results, awaiting, calls


def _as_approved(run: Run, call: ToolCall) -> ToolCall:
    """The call with the arguments a person approved it with, if they edited them."""
    decision = run.control.approvals.get(call.call_id)
    if decision is None or decision.verdict != "approve" or decision.arguments is None:
        return call
    return ToolCall(
        call_id=call.call_id,
        name=call.name,
        arguments=dict(decision.arguments),
        provider_data=call.provider_data,
    )


def _verdict(
    run: Run,
    call: ToolCall,
    tool: Tool | None,
    began: set[str],
    used: Counter[str] | None,
) -> ToolResult | bool | None:
    """A refusal to record as the call's result, True to run it, None to wait for approval."""
    control = run.control
    if control.wrapping_up is not None:
        return _no_tools_now(call)
    if tool is not None and tool.requires_approval(call.arguments):
        decision = control.approvals.get(call.call_id)
        if decision is None:
            return None
        if decision.verdict == "reject":
            return approval_error(call, decision)
        if decision.verdict == "answer":
            return answered_result(call, decision)
    if call.call_id in began and not (tool is not None and tool.idempotent):
        # It may have taken effect before the crash: do not run it twice.
        return interrupted_result(call)
    if used is not None:
        refused = control.refusal(call, used, sum(used.values()))
        if refused is not None:
            return refused
    return True


def _no_tools_now(call: ToolCall) -> ToolResult:
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        error="The run's budget is used up: no more tool calls. Answer with what you have.",
    )
