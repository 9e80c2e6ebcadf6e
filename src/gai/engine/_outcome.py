"""What a phase of the run loop decides: go on, or how the run ends.

Each phase returns one of these values and the loop dispatches on it; nothing in the
loop raises an exception to change course.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

from gai.types import Step, StopReason, ToolCall

__all__ = ["RUN_AGAIN", "Finished", "Outcome", "Paused", "RunAgain", "Stopped"]


class RunAgain:
    """Nothing ends the run: take another step."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "RUN_AGAIN"


RUN_AGAIN: Final = RunAgain()


@dataclass(frozen=True, slots=True)
class Finished:
    """The run ends for `reason` (a stop condition, the ceiling, a deadline, a budget)."""

    reason: StopReason


@dataclass(frozen=True, slots=True)
class Paused:
    """Tool calls wait for approval; the step's other calls ran.

    `partial` is the step so far (the model's answer and the results of the calls that
    ran), for the caller to see; a resumed run completes the step.
    """

    calls: list[ToolCall]
    partial: Step | None = None


@dataclass(frozen=True, slots=True)
class Stopped:
    """A `StopToken` stopped the run at a step boundary; `detail` says where."""

    detail: str


Outcome: TypeAlias = RunAgain | Finished | Paused | Stopped
