"""`RunTrace`: a run laid out on a time axis, for timelines and JSON export."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from gai.types.usage import Usage

if TYPE_CHECKING:
    from gai.types.results import TextResult

__all__ = ["RunTrace", "TraceStep", "TraceTool"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TraceTool(_Model):
    """One tool call on the time axis (seconds since the run started)."""

    call_id: str
    name: str
    start: float
    end: float
    ok: bool
    error: str | None = None
    files: list[str] = Field(default_factory=list)
    """Media types of the files the tool returned (their bytes stay out of traces)."""


class TraceStep(_Model):
    """One step on the time axis (seconds since the run started)."""

    step_number: int
    start: float
    model_end: float
    end: float
    model: str | None
    usage: Usage
    finish_reason: str
    attempts: int
    text: str
    tools: list[TraceTool]
    reasoning_chars: int = 0
    """Length of the readable reasoning (0 when none, or hidden by the provider)."""
    hosted_tools: list[str] = Field(default_factory=list)
    """Names of the tools the provider ran itself."""
    refusal: str | None = None
    context: str | None = None
    """What the context policy did before the step's model call, in a line."""


class RunTrace(_Model):
    """Everything a timeline needs, in one JSON-serialisable object."""

    run_id: str
    started_at: dt.datetime | None
    duration: float
    usage: Usage
    stop_reason: str
    stop_kind: str
    steps: list[TraceStep]

    @classmethod
    def from_result(cls, result: TextResult) -> RunTrace:
        """Lay out a result's steps; steps without recorded offsets are placed end to end."""
        steps: list[TraceStep] = []
        cursor = 0.0
        for step in result.steps:
            start = step.start_offset if step.start_offset is not None else cursor
            model_end = start + step.model_duration
            tools = []
            for r in step.tool_results:
                t0 = r.start_offset if r.start_offset is not None else model_end
                tools.append(
                    TraceTool(
                        call_id=r.call_id,
                        name=r.name,
                        start=t0,
                        end=t0 + r.duration,
                        ok=r.ok,
                        error=r.error,
                        files=[f.media_type for f in r.files],
                    )
                )
            end = start + step.duration
            steps.append(
                TraceStep(
                    step_number=step.step_number,
                    start=start,
                    model_end=model_end,
                    end=end,
                    model=step.model,
                    usage=step.usage,
                    finish_reason=step.finish_reason,
                    attempts=step.attempts,
                    text=step.text[:500],
                    tools=tools,
                    reasoning_chars=sum(len(r.text) for r in step.reasoning),
                    hosted_tools=[h.name for h in step.hosted_tools],
                    refusal=step.refusal,
                    context=None if step.context is None else step.context.describe(),
                )
            )
            cursor = end
        return cls(
            run_id=result.run_id,
            started_at=result.started_at,
            duration=max((s.end for s in steps), default=0.0),
            usage=result.usage,
            stop_reason=result.stop_reason.detail,
            stop_kind=result.stop_reason.kind,
            steps=steps,
        )
