"""`Limits`: what a run may use (steps, calls, tokens, cost, time, memory), measured one way.

`gai.Budget` and the stop conditions `TokenBudget`, `CostBudget` and `TimeLimit` are
limits: each measures a run with `Limits.measure` and ends it at `Limits.exceeded`.
Timeouts (`gai.Timeouts`) are not: they cancel what is in flight, while a limit is
checked between steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

from gai._checks import numbers
from gai.errors import ConfigError, UserError
from gai.types import Step, Usage

__all__ = ["BudgetUse", "Limits", "PriceFunction", "total_cost"]

PriceFunction = Callable[[Step], Decimal | float | None]
"""The cost of one step (USD, or whatever unit `max_cost` is in); None if unknown."""


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """How much of each limit a run has used (only the limits that are set)."""

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
class Limits:
    """Hard limits on a run; each is optional and must be positive when set.

    Args:
        max_steps: Steps.
        max_model_calls: Model calls, retries included.
        max_tool_calls: Tool calls in all.
        max_input_tokens: Input tokens.
        max_output_tokens: Output tokens.
        max_total_tokens: All tokens.
        max_cost: Cost, in the unit the price function gives.
        deadline: Seconds since the run started.
        max_memory_mb: Resident memory of the process, read after each step.
    """

    max_steps: int | None = None
    max_model_calls: int | None = None
    max_tool_calls: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    max_total_tokens: int | None = None
    max_cost: float | None = None
    deadline: float | None = None
    max_memory_mb: float | None = None

    def __post_init__(self) -> None:
        owner = f"{type(self).__name__}."
        numbers(owner, *((f.name, getattr(self, f.name)) for f in fields(Limits)))
        for name, value in self.limits().items():
            if value <= 0:
                raise ConfigError(f"{type(self).__name__}.{name} must be positive, got {value:g}.")

    def limits(self) -> dict[str, float]:
        """The limits that are set, by name."""
        return {
            f.name: float(v) for f in fields(Limits) if (v := getattr(self, f.name)) is not None
        }

    def measure(
        self,
        steps: Sequence[Step],
        usage: Usage,
        elapsed: float,
        cost: Decimal | None = None,
        memory_mb: float | None = None,
    ) -> BudgetUse:
        """How much of each set limit a run has used."""
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

    def exceeded(self, use: BudgetUse) -> tuple[str, str] | None:
        """The first limit reached, as (name, description), or None."""
        for name, used in use.used.items():
            if used >= use.limits[name]:
                return name, f"{name}: used {_fmt(used)} of {_fmt(use.limits[name])}"
        return None


def total_cost(steps: Sequence[Step], price: PriceFunction) -> Decimal:
    """What `steps` cost by `price`.

    Raises:
        UserError: `price` does not know a step's model.
    """
    total = Decimal(0)
    for step in steps:
        cost = price(step)
        if cost is None:
            raise UserError(
                f"max_cost needs prices, but model {step.model!r} has no known price; "
                f"pass a price function (price=...) that prices its steps."
            )
        total += cost if isinstance(cost, Decimal) else Decimal(str(cost))
    return total


def _fmt(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))
