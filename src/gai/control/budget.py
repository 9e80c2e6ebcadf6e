"""`Budget`: hard and soft limits on what a run may spend, with an optional wrap-up step."""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from gai.errors import ConfigError
from gai.limits import BudgetUse, Limits, PriceFunction
from gai.types import Step

__all__ = ["Budget", "BudgetUse", "resident_memory_mb"]


def resident_memory_mb() -> float:
    """This process's resident memory now, in MiB (from /proc, else the peak from getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class Budget(Limits):
    """Limits on a run. Reaching a hard limit ends the run with a `budget` stop reason.

    Each limit is checked after every step. Crossing `soft_ratio` of a limit emits a
    `budget_warning` event once and shows in `RunState.budget_left` for `prepare_step`.
    With `wrap_up=True`, when the next step would reach a limit (the step ceiling, or a
    token/call/cost limit at the last step's rate), that step runs with tools disabled
    so the model writes its answer from what it has.

    Args:
        max_steps: Steps.
        max_model_calls: Model calls, retries included.
        max_tool_calls: Tool calls in all; calls past it get an error result.
        per_tool: Calls per tool name; a tool over its limit gets error results, the run
            goes on.
        max_input_tokens: Input tokens.
        max_output_tokens: Output tokens.
        max_total_tokens: All tokens.
        max_cost: USD, priced by `price` (default: the genai-prices data).
        deadline: Seconds since the run started.
        max_memory_mb: Resident memory of the process, read after each step (the seed's
            ResourceManager); each step records it in `Step.memory_mb`.
        soft_ratio: Share of a limit that triggers the soft warning.
        wrap_up: Run one final step without tools before a limit is reached.
        price: Cost of a step, or None if unknown.
        on_budget: "return" the result with a `budget` stop reason, or "raise"
            `BudgetExceededError` carrying it.
    """

    per_tool: Mapping[str, int] = field(default_factory=dict)
    soft_ratio: float = 0.8
    wrap_up: bool = False
    price: PriceFunction | None = None
    on_budget: Literal["return", "raise"] = "return"

    def __post_init__(self) -> None:
        Limits.__post_init__(self)
        if not 0 < self.soft_ratio <= 1:
            raise ConfigError(f"soft_ratio must be in (0, 1], got {self.soft_ratio}.")
        for tool, n in self.per_tool.items():
            if n < 0:
                raise ConfigError(f"Budget.per_tool[{tool!r}] must not be negative, got {n}.")

    def next_step_would_exceed(self, use: BudgetUse, last: Step | None) -> str | None:
        """Which limit one more step (at the last step's rate) would reach, if any."""
        if last is None:
            rates: dict[str, float] = {"max_steps": 1.0}
        else:
            rates = {
                "max_steps": 1.0,
                "max_model_calls": float(last.attempts),
                "max_input_tokens": float(last.usage.input_tokens),
                "max_output_tokens": float(last.usage.output_tokens),
                "max_total_tokens": float(last.usage.total_tokens),
                "deadline": last.duration,
            }
        for name, rate in rates.items():
            if name in use.used and use.used[name] + rate >= use.limits[name]:
                return name
        return None
