"""Loop guards: notice a run going in circles, then nudge the model, block a tool, or stop.

Each detector is a stop condition (usable in `stop_when`) that also names the tool it
caught, so a `Guard` can act on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from typing_extensions import override

from gai.errors import ConfigError
from gai.stop import StopCondition
from gai.types import RunState, StopReason, ToolCall

__all__ = ["Guard", "LoopDetector", "PingPong", "RepeatedCall", "StagnantResults"]


def _key(call: ToolCall) -> str:
    return f"{call.name}:{json.dumps(call.arguments, sort_keys=True, default=str)}"


class LoopDetector(StopCondition):
    """A stop condition that can say which tool is looping."""

    def culprit(self, run: RunState) -> str | None:
        """The tool the loop is about, when the condition holds."""
        raise NotImplementedError


class RepeatedCall(LoopDetector):
    """The same tool called with the same arguments `times` times in the run.

    Args:
        times: Identical calls that count as a loop.
    """

    def __init__(self, times: int = 3) -> None:
        if times < 2:
            raise ConfigError(f"RepeatedCall needs times >= 2, got {times}.")
        self.times = times

    def _find(self, run: RunState) -> ToolCall | None:
        seen: dict[str, int] = {}
        for step in run.steps:
            for call in step.tool_calls:
                key = _key(call)
                seen[key] = seen.get(key, 0) + 1
                if seen[key] >= self.times:
                    return call
        return None

    @override
    def check(self, run: RunState) -> StopReason | None:
        call = self._find(run)
        if call is None:
            return None
        return self._reason(
            "condition",
            f"tool '{call.name}' was called {self.times} times with the same arguments "
            f"{json.dumps(call.arguments, default=str)}",
        )

    @override
    def culprit(self, run: RunState) -> str | None:
        call = self._find(run)
        return call.name if call else None

    def __repr__(self) -> str:
        return f"RepeatedCall({self.times})"


class PingPong(LoopDetector):
    """Two tools alternating, step after step (A, B, A, B, ...), for `cycles` rounds.

    Args:
        cycles: A-then-B rounds that count as a loop.
    """

    def __init__(self, cycles: int = 3) -> None:
        if cycles < 2:
            raise ConfigError(f"PingPong needs cycles >= 2, got {cycles}.")
        self.cycles = cycles

    def _pair(self, run: RunState) -> tuple[str, str] | None:
        names = [s.tool_calls[0].name for s in run.steps if len(s.tool_calls) == 1]
        needed = 2 * self.cycles
        if len(names) < needed:
            return None
        tail = names[-needed:]
        a, b = tail[0], tail[1]
        if a != b and all(n == (a if i % 2 == 0 else b) for i, n in enumerate(tail)):
            return a, b
        return None

    @override
    def check(self, run: RunState) -> StopReason | None:
        pair = self._pair(run)
        if pair is None:
            return None
        return self._reason(
            "condition", f"tools '{pair[0]}' and '{pair[1]}' alternated {self.cycles} times"
        )

    @override
    def culprit(self, run: RunState) -> str | None:
        pair = self._pair(run)
        return pair[1] if pair else None

    def __repr__(self) -> str:
        return f"PingPong({self.cycles})"


class StagnantResults(LoopDetector):
    """A tool returning the same result `times` times in a row: nothing is changing.

    Args:
        times: Identical consecutive results that count as stagnation.
    """

    def __init__(self, times: int = 3) -> None:
        if times < 2:
            raise ConfigError(f"StagnantResults needs times >= 2, got {times}.")
        self.times = times

    def _find(self, run: RunState) -> str | None:
        last: dict[str, tuple[str, int]] = {}
        for step in run.steps:
            for result in step.tool_results:
                content = result.content
                previous, count = last.get(result.name, (None, 0))
                count = count + 1 if previous == content else 1
                last[result.name] = (content, count)
                if count >= self.times:
                    return result.name
        return None

    @override
    def check(self, run: RunState) -> StopReason | None:
        name = self._find(run)
        if name is None:
            return None
        return self._reason(
            "condition", f"tool '{name}' returned the same result {self.times} times in a row"
        )

    @override
    def culprit(self, run: RunState) -> str | None:
        return self._find(run)

    def __repr__(self) -> str:
        return f"StagnantResults({self.times})"


@dataclass(frozen=True, slots=True)
class Guard:
    """What to do when a loop detector fires.

    - "nudge": tell the model what it is doing (a user message) and go on, once.
    - "block": refuse further calls of the looping tool (they get error results).
    - "stop": end the run with the detector's stop reason.

    Args:
        detector: The loop detector.
        action: "nudge", "block" or "stop".
        message: The nudge text; by default it states what the detector saw.
    """

    detector: LoopDetector
    action: Literal["nudge", "block", "stop"] = "nudge"
    message: str | None = None
