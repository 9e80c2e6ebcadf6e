"""What the dashboard's pages show, as JSON: run rows, and one run in full."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gai.observe.metrics import step_cost
from gai.store import RunRecord, RunSummary
from gai.types import Message, Reasoning, Step, Text, ToolCallPart, ToolResultPart
from gai.ui._json import json_safe

__all__ = ["run_detail", "run_row"]


def run_row(run: RunSummary) -> dict[str, Any]:
    """A row of the runs list."""
    return {
        "run_id": run.run_id,
        "status": run.status,
        "model": run.model,
        "steps": run.steps,
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
        "duration": (run.updated_at - run.created_at).total_seconds(),
        "error": run.error,
    }


def run_detail(record: RunRecord) -> dict[str, Any]:
    """One run: its timeline, its conversation, usage and cost per step, what waits."""
    steps = record.result.steps if record.result is not None else tuple(record.steps)
    result = record.result
    costs = [step_cost(step) for step in steps]
    known = [c for c in costs if c is not None]
    return {
        "run_id": record.run_id,
        "status": record.status,
        "model": record.model,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "error": record.error,
        "stop": None
        if result is None
        else {"kind": result.stop_reason.kind, "detail": result.stop_reason.detail},
        "parent_run_id": record.snapshot.parent_run_id,
        "metadata": json_safe(record.snapshot.metadata),
        "usage": _usage(steps),
        "cost": _money(sum(known, Decimal(0))) if known else None,
        "timeline": _timeline(steps),
        "steps": [_step(step, cost) for step, cost in zip(steps, costs, strict=True)],
        "input": [_message(m) for m in record.snapshot.messages],
        "system": record.snapshot.system,
        "answer": None if result is None else result.text,
        "in_progress": _in_progress(record),
        "pending": []
        if result is None
        else [
            {"call_id": c.call_id, "name": c.name, "arguments": json_safe(dict(c.arguments))}
            for c in result.pending_approvals
        ],
    }


def _money(value: Decimal) -> str:
    return f"{value:.6f}"


def _usage(steps: Any) -> dict[str, int]:
    return {
        "input_tokens": sum(s.usage.input_tokens for s in steps),
        "output_tokens": sum(s.usage.output_tokens for s in steps),
    }


def _timeline(steps: Any) -> list[dict[str, Any]]:
    """Steps and tool calls on one time axis (seconds since the run started)."""
    rows: list[dict[str, Any]] = []
    cursor = 0.0
    for step in steps:
        start = step.start_offset if step.start_offset is not None else cursor
        model_end = start + step.model_duration
        rows.append(
            {
                "kind": "step",
                "step": step.step_number,
                "label": f"step {step.step_number} · {step.model or ''}",
                "start": start,
                "model_end": model_end,
                "end": start + step.duration,
                "attempts": step.attempts,
                "error": step.error,
            }
        )
        for result in step.tool_results:
            begin = result.start_offset if result.start_offset is not None else model_end
            rows.append(
                {
                    "kind": "tool",
                    "step": step.step_number,
                    "label": result.name,
                    "call_id": result.call_id,
                    "start": begin,
                    "end": begin + result.duration,
                    "error": result.error,
                }
            )
        cursor = start + step.duration
    return rows


def _step(step: Step, cost: Decimal | None) -> dict[str, Any]:
    results = {r.call_id: r for r in step.tool_results}
    return {
        "step": step.step_number,
        "model": step.model,
        "reasoning": [r.text for r in step.reasoning if r.text],
        "text": step.text,
        "calls": [
            {
                "call_id": call.call_id,
                "name": call.name,
                "arguments": json_safe(dict(call.arguments)),
                "output": None
                if call.call_id not in results
                else json_safe(results[call.call_id].output),
                "error": None if call.call_id not in results else results[call.call_id].error,
            }
            for call in step.tool_calls
        ],
        "usage": {
            "input_tokens": step.usage.input_tokens,
            "output_tokens": step.usage.output_tokens,
        },
        "cost": None if cost is None else _money(cost),
        "duration": step.duration,
        "attempts": step.attempts,
        "error": step.error,
        "context": None if step.context is None else step.context.describe(),
    }


def _in_progress(record: RunRecord) -> dict[str, Any] | None:
    """The step under way (or waiting for approval): the model's answer, tools so far."""
    pending = record.pending
    if pending is None or pending.response is None or record.status == "completed":
        return None
    response = pending.response
    return {
        "step": pending.step_number,
        "model": response.model_name,
        "reasoning": [r.text for r in response.reasoning or () if r.text],
        "text": response.text,
        "calls": [
            {
                "call_id": call.call_id,
                "name": call.name,
                "arguments": json_safe(dict(call.arguments)),
                "output": json_safe(pending.results[call.call_id].output)
                if call.call_id in pending.results
                else None,
                "error": pending.results[call.call_id].error
                if call.call_id in pending.results
                else None,
                "running": call.call_id in pending.started and call.call_id not in pending.results,
            }
            for call in response.tool_calls
        ],
    }


def _message(message: Message) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Text):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, Reasoning):
            parts.append({"type": "reasoning", "text": part.text})
        elif isinstance(part, ToolCallPart):
            parts.append(
                {"type": "call", "name": part.name, "arguments": json_safe(dict(part.arguments))}
            )
        elif isinstance(part, ToolResultPart):
            parts.append({"type": "result", "name": part.name, "text": part.content})
        else:
            parts.append({"type": "other", "text": type(part).__name__})
    return {"role": message.role, "parts": parts}
