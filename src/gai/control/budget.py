"""`Budget`: hard and soft limits on what a run may spend, with an optional wrap-up step."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from gai.errors import ConfigError
from gai.types import Step, Usage

__all__ = ["Budget", "BudgetUse", "resident_memory_mb"]

PriceFunction = Callable[[Step], Decimal | None]


def resident_memory_mb() -> float:
    """This process's resident memory now, in MiB (from /proc, else the peak from getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """How much of each limit a run has used (only the limits the budget sets)."""

    used: Mapping[str, float]
    limits: Mapping[str, float]

    @property
    def left(self) -> dict[str, float]:
        """What remains of each limit (never negative)."""
        return {k: max(0.0, self.limits[k] - v) for k, v in self.used.items()}

    def ratio(self, name: str) -> float:
        """Share of a limit used (0..1+)."""
        return self.used[name] / self.limits[name] if self.limits[name] else 1.0


@dataclass(frozen=True, slots=True)
class Budget:
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

    max_steps: int | None = None
    max_model_calls: int | None = None
    max_tool_calls: int | None = None
    per_tool: Mapping[str, int] = field(default_factory=dict)
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    max_total_tokens: int | None = None
    max_cost: float | None = None
    deadline: float | None = None
    max_memory_mb: float | None = None
    soft_ratio: float = 0.8
    wrap_up: bool = False
    price: PriceFunction | None = None
    on_budget: Literal["return", "raise"] = "return"

    def __post_init__(self) -> None:
        if not 0 < self.soft_ratio <= 1:
            raise ConfigError(f"soft_ratio must be in (0, 1], got {self.soft_ratio}.")
        for name, value in self.limits().items():
            if value <= 0:
                raise ConfigError(f"Budget.{name} must be positive, got {value}.")
        for tool, n in self.per_tool.items():
            if n < 0:
                raise ConfigError(f"Budget.per_tool[{tool!r}] must not be negative, got {n}.")

    def limits(self) -> dict[str, float]:
        """The limits that are set, by name."""
        names = (
            "max_steps", "max_model_calls", "max_tool_calls", "max_input_tokens",
            "max_output_tokens", "max_total_tokens", "max_cost", "deadline", "max_memory_mb",
        )  # fmt: skip
        return {n: float(v) for n in names if (v := getattr(self, n)) is not None}

    def use(
        self,
        steps: tuple[Step, ...],
        usage: Usage,
        elapsed: float,
        cost: Decimal | None,
        memory_mb: float | None,
    ) -> BudgetUse:
        """How much of each set limit the run has used."""
        limits = self.limits()
        measured: dict[str, float | None] = {
            "max_steps": len(steps),
            "max_model_calls": sum(s.attempts for s in steps),
            "max_tool_calls": sum(len(s.tool_calls) for s in steps),
            "max_input_tokens": usage.input_tokens,
            "max_output_tokens": usage.output_tokens,
            "max_total_tokens": usage.total_tokens,
            "max_cost": float(cost) if cost is not None else None,
            "deadline": elapsed,
            "max_memory_mb": memory_mb,
        }
        used = {k: float(v) for k, v in measured.items() if k in limits and v is not None}
        return BudgetUse(used, {k: limits[k] for k in used})

    def exceeded(self, use: BudgetUse) -> str | None:
        """The first hard limit reached, described, or None."""
        for name, used in use.used.items():
            if used >= use.limits[name]:
                return f"{name}: used {_fmt(used)} of {_fmt(use.limits[name])}"
        return None

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


def _fmt(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))
