"""`ExecutionMetrics`: what a run did, how long it took, how parallel it was, what it cost."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from gai.limits import PriceFunction
from gai.types import Step, TextResult, Usage

__all__ = ["ExecutionMetrics", "PriceFunction", "step_cost"]


def _provider_and_model(step: Step) -> tuple[str | None, str | None]:
    name = step.model or ""
    provider, _, model = name.partition(":")
    if not model:
        provider, model = "", provider
    return provider or None, step.response_model or model or None


def step_cost(step: Step) -> Decimal | None:
    """A step's cost in USD from the `genai-prices` data, or None if the model is unknown."""
    if step.usage.total_tokens == 0:
        return Decimal(0)
    provider, model = _provider_and_model(step)
    if model is None:
        return None
    import genai_prices

    usage = genai_prices.Usage(
        input_tokens=step.usage.input_tokens,
        output_tokens=step.usage.output_tokens,
        cache_read_tokens=step.usage.cache_read_tokens or None,
        cache_write_tokens=step.usage.cache_write_tokens or None,
    )
    for ref in dict.fromkeys([model, (step.model or "").partition(":")[2]]):
        if not ref:
            continue
        try:
            return genai_prices.calc_price(usage, ref, provider_id=provider).total_price
        except LookupError:
            continue
    return None


class ExecutionMetrics(BaseModel):
    """Numbers about one run, computed from its result (durations in seconds)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    steps: int
    tool_calls: int
    tool_errors: int
    usage: Usage
    total_duration: float
    """Wall time of all steps."""
    average_step_duration: float
    model_time: float
    """Time spent waiting for the model."""
    tool_time: float
    """Wall time spent running tools (parallel calls overlap)."""
    serial_tool_time: float
    """Sum of every tool call's own duration: the time they would take one after another."""
    parallel_time_saved: float
    """`serial_tool_time - tool_time`: what running tools in parallel saved."""
    parallel_step_share: float
    """Share of steps with more than one tool call (0..1)."""
    error_rate: float
    """Share of tool calls that failed (0..1)."""
    cost: Decimal | None
    """USD, from real price data; None when any step's model has no known price."""

    @classmethod
    def from_result(
        cls, result: TextResult, *, price: PriceFunction = step_cost
    ) -> ExecutionMetrics:
        """Compute the metrics of a finished (or partial) run.

        Args:
            result: The run's result.
            price: Cost of one step; defaults to the `genai-prices` data.
        """
        steps = result.steps
        results = [r for s in steps for r in s.tool_results]
        total = sum(s.duration for s in steps)
        model_time = sum(s.model_duration for s in steps)
        tool_time = sum(s.tools_duration for s in steps)
        serial = sum(r.duration for r in results)
        costs = [price(s) for s in steps]
        errors = sum(1 for r in results if not r.ok)
        return cls(
            steps=len(steps),
            tool_calls=len(results),
            tool_errors=errors,
            usage=result.usage,
            total_duration=total,
            average_step_duration=total / len(steps) if steps else 0.0,
            model_time=model_time,
            tool_time=tool_time,
            serial_tool_time=serial,
            parallel_time_saved=max(0.0, serial - tool_time),
            parallel_step_share=(
                sum(1 for s in steps if len(s.tool_calls) > 1) / len(steps) if steps else 0.0
            ),
            error_rate=errors / len(results) if results else 0.0,
            cost=None
            if any(c is None for c in costs)
            else sum((Decimal(str(c)) for c in costs if c is not None), Decimal(0)),
        )
