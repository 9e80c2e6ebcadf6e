"""`ToolContext`: what a tool may learn about the call it is serving."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["DepsT", "ToolContext"]

DepsT = TypeVar("DepsT")


@dataclass(frozen=True, slots=True)
class ToolContext(Generic[DepsT]):
    """Passed to a tool whose first parameter is annotated `ToolContext`.

    It is not part of the tool's JSON schema: the model never sees or fills it.
    """

    call_id: str
    """Identifier of this tool call."""
    tool_name: str
    """Name of the tool being called."""
    run_id: str
    """Identifier of the run."""
    step_number: int
    """Step the call belongs to, from 1."""
    model: str | None
    """Name of the model that asked for the call."""
    deadline: float | None
    """`time.perf_counter()` value by which the call must finish, or None for no limit."""
    deps: DepsT
    """Whatever was passed as `deps=` to `generate_text`."""

    def time_left(self) -> float | None:
        """Seconds until the deadline (never negative), or None when there is none."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.perf_counter())
