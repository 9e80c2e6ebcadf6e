"""Run control inside the loop: budgets, loop guards, approvals, stop tokens, nudges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from gai.limits import total_cost
from gai.stop import StopCondition

if TYPE_CHECKING:
    from gai.control.approval import Decision
    from gai.control.budget import Budget, BudgetUse
    from gai.control.cancel import StopToken
    from gai.control.guards import Guard
from gai.types import RunState, Step, StopReason, ToolCall, ToolResult, Usage

__all__ = ["Control", "approval_error"]


@dataclass(slots=True)
class Control:
    """Per-run state of the run-control features."""

    budget: Budget | None = None
    guards: Sequence[Guard] = ()
    continue_when: StopCondition | None = None
    nudge: str = "The task is not finished yet ({reason}). Continue, and use the tools you need."
    stop_token: StopToken | None = None
    approvals: dict[str, Decision] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    nudged: set[int] = field(default_factory=set)
    warned: set[str] = field(default_factory=set)
    wrapping_up: str | None = None
    memory_start: float | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.budget or self.guards or self.continue_when or self.stop_token or self.approvals
        )

    # --- budget ---------------------------------------------------------------------

    def budget_use(self, state: RunState, memory: float | None) -> BudgetUse | None:
        if self.budget is None:
            return None
        return self.budget.measure(
            state.steps, state.usage, state.elapsed, self._cost(state.steps), memory
        )

    def check_prices(self, model: object) -> None:
        """Fail before the first step when `max_cost` is set but a model has no price.

        Every model that may answer is checked: each of a `FallbackModel`'s.
        """
        budget = self.budget
        if budget is None or budget.max_cost is None or budget.price is not None:
            return
        while getattr(model, "models", None) is None and hasattr(model, "wrapped"):
            model = model.wrapped  # a retry or breaker around a FallbackModel
        answering = getattr(model, "models", None) or [model]
        probes = tuple(
            Step(step_number=1, model=m.name, usage=Usage(input_tokens=1, total_tokens=1))
            for m in answering
        )
        self._cost(probes)

    def _cost(self, steps: tuple[Step, ...]) -> Decimal | None:
        budget = self.budget
        if budget is None or budget.max_cost is None:
            return None
        if budget.price is not None:
            return total_cost(steps, budget.price)
        from gai.observe.metrics import step_cost

        return total_cost(steps, step_cost)

    def memory(self) -> float | None:
        if self.budget is None or self.budget.max_memory_mb is None:
            return None
        from gai.control.budget import resident_memory_mb

        return resident_memory_mb()

    def soft_warnings(self, use: BudgetUse | None) -> list[tuple[str, float, float]]:
        """Limits newly past the soft ratio: (name, used, limit)."""
        if use is None or self.budget is None:
            return []
        crossed = []
        for name, used in use.used.items():
            if name not in self.warned and use.ratio(name) >= self.budget.soft_ratio:
                self.warned.add(name)
                crossed.append((name, used, use.limits[name]))
        return crossed

    def budget_stop(self, use: BudgetUse | None) -> StopReason | None:
        if use is None or self.budget is None:
            return None
        if self.wrapping_up is not None:
            return StopReason(
                kind="budget",
                detail=f"wrap-up step ran without tools before {self.wrapping_up} was reached",
                condition=repr(self.budget),
            )
        exceeded = self.budget.exceeded(use)
        if exceeded is None:
            return None
        return StopReason(kind="budget", detail=exceeded[1], condition="Budget")

    def plan_wrap_up(self, use: BudgetUse | None, last: Step | None) -> bool:
        """Whether the next step should be the tool-less wrap-up step."""
        if use is None or self.budget is None or not self.budget.wrap_up:
            return False
        limit = self.budget.next_step_would_exceed(use, last)
        if limit is None:
            return False
        self.wrapping_up = limit
        return True

    # --- tools ----------------------------------------------------------------------

    def refusal(self, call: ToolCall, used: Counter[str], total_calls: int) -> ToolResult | None:
        """An error result for a call the budget or a guard does not allow, or None.

        Args:
            call: The call.
            used: Calls per tool accepted so far in the run (this step included).
            total_calls: All tool calls accepted so far.
        """
        if call.name in self.blocked:
            return _refused(call, self.blocked[call.name])
        budget = self.budget
        if budget is None:
            return None
        limit = budget.per_tool.get(call.name)
        if limit is not None and used[call.name] >= limit:
            return _refused(
                call,
                f"Tool '{call.name}' reached its budget of {limit} call(s) in this run; "
                f"answer with what you have or use another tool.",
            )
        if budget.max_tool_calls is not None and total_calls >= budget.max_tool_calls:
            return _refused(
                call,
                f"The run reached its budget of {budget.max_tool_calls} tool calls; "
                f"answer with what you have.",
            )
        return None

    # --- guards and continue_when -----------------------------------------------------

    def apply_guards(self, state: RunState) -> tuple[StopReason | None, list[str]]:
        """(a stop reason, or nudges to send) from the loop guards."""
        nudges: list[str] = []
        for index, guard in enumerate(self.guards):
            reason = guard.detector.check(state)
            if reason is None:
                continue
            if guard.action == "stop":
                return reason, nudges
            if guard.action == "block":
                culprit = guard.detector.culprit(state)
                if culprit is not None and culprit not in self.blocked:
                    self.blocked[culprit] = (
                        f"Tool '{culprit}' is blocked for the rest of this run: "
                        f"{reason.detail}. Try a different approach."
                    )
                    nudges.append(guard.message or self.blocked[culprit])
            elif index not in self.nudged:
                self.nudged.add(index)
                nudges.append(
                    guard.message
                    or f"You seem to be going in circles: {reason.detail}. Change approach."
                )
        return None, nudges

    def continue_nudge(self, state: RunState) -> str | None:
        """The nudge to send when the model stopped but `continue_when` says go on."""
        if self.continue_when is None:
            return None
        reason = self.continue_when.check(state)
        if reason is None:
            return None
        # Only `{reason}` is a placeholder: a nudge holding JSON braces stays as written.
        return self.nudge.replace("{reason}", reason.detail)


def _refused(call: ToolCall, message: str) -> ToolResult:
    return ToolResult(call_id=call.call_id, name=call.name, error=message)


def answered_result(call: ToolCall, decision: Decision) -> ToolResult:
    """The result a person gave in the tool's place (the tool did not run)."""
    output = decision.output
    if not isinstance(output, str):
        import pydantic_core

        output = pydantic_core.to_jsonable_python(output)
    return ToolResult(call_id=call.call_id, name=call.name, output=output)


def approval_error(call: ToolCall, decision: Decision) -> ToolResult:
    """The result the model sees for a rejected call."""
    why = f": {decision.reason}" if decision.reason else ""
    return ToolResult(
        call_id=call.call_id,
        name=call.name,
        error=f"A person rejected this call to '{call.name}'{why}. Do not retry it as is.",
    )
