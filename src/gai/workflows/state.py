"""State-aware tools: the seed's `update_state` and progress tracking, reusable.

A `StateTracker` holds a workflow's phase, progress and data; `tracker.tools()` lets the
model update them, and `ProgressReached(tracker)` stops the run once progress is high
enough. Snapshot it with `tracker.state` (a `WorkflowState`) to save it in a state store.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from gai.errors import UserError
from gai.stop import StopCondition
from gai.store.records import WorkflowState, utcnow
from gai.tools import Tool
from gai.types import RunState, StopReason

__all__ = ["ProgressReached", "StateTracker"]


class StateTracker:
    """A workflow's phase, progress (0.0 to 1.0) and data, updated by tools."""

    def __init__(self, state: WorkflowState | None = None) -> None:
        self.state = state.model_copy(deep=True) if state is not None else WorkflowState()

    @property
    def progress(self) -> float:
        """Progress from 0.0 to 1.0."""
        return self.state.progress

    def update(self, key: str, value: Any) -> None:
        """Set one data value."""
        self.state.data[key] = value
        self.state.last_update = utcnow()

    def set_progress(self, progress: float, phase: str | None = None) -> None:
        """Set progress and, optionally, the phase.

        Raises:
            UserError: `progress` is outside 0.0 to 1.0.
        """
        if not 0.0 <= progress <= 1.0:
            raise UserError(f"progress must be between 0.0 and 1.0, got {progress}.")
        self.state.progress = progress
        if phase is not None:
            self.state.phase = phase
        self.state.last_update = utcnow()

    def tools(self) -> list[Tool]:
        """`update_state`, `set_progress` and `get_state` over this tracker."""

        def update_state(key: str, value: str) -> str:
            """Record a value in the workflow state."""
            self.update(key, value)
            return f"state[{key!r}] updated"

        def set_progress(progress: float, phase: str | None = None) -> str:
            """Report progress (0.0 to 1.0) and, optionally, the current phase."""
            self.set_progress(progress, phase)
            return f"progress {self.state.progress:.0%}, phase {self.state.phase}"

        def get_state() -> dict[str, Any]:
            """The workflow state: phase, progress and data."""
            return {
                "phase": self.state.phase,
                "progress": self.state.progress,
                "data": self.state.data,
            }

        return [Tool(name=fn.__name__, fn=fn) for fn in (update_state, set_progress, get_state)]


class ProgressReached(StopCondition):
    """Stop once a tracker's progress reaches `threshold` (checked after each step).

    Args:
        tracker: The tracker whose tools the run uses.
        threshold: Progress that counts as done.
    """

    def __init__(self, tracker: StateTracker, threshold: float = 1.0) -> None:
        self.tracker = tracker
        self.threshold = threshold

    @override
    def check(self, run: RunState) -> StopReason | None:
        if self.tracker.progress >= self.threshold:
            return self._reason(
                "condition", f"progress {self.tracker.progress:.0%} reached {self.threshold:.0%}"
            )
        return None

    def __repr__(self) -> str:
        return f"ProgressReached(threshold={self.threshold})"
