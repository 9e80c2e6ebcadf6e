"""Stop conditions: pure functions of the run so far that say when a run is done.

Each condition reads a `RunState` (steps, usage, elapsed time) and returns a
`StopReason` when it fires, so one condition object is safe to share between
concurrent runs. They are checked after a step is complete, i.e. after its tools ran.

Combine them with `any_of` / `|`, `all_of` / `&` and `~`. A plain callable works as
a condition too: `fn(run) -> bool`, or the seed's `fn(step_number, step) -> bool`.
"""

from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from typing_extensions import override

from gai.errors import ConfigError, UserError
from gai.limits import Limits, PriceFunction, total_cost
from gai.types import RunState, Step, StopKind, StopReason

__all__ = [
    "CostBudget",
    "MaxSteps",
    "NoMoreTools",
    "StepsMatch",
    "StopCondition",
    "StopWhen",
    "TextContains",
    "TextMatches",
    "TimeLimit",
    "TokenBudget",
    "ToolErrorRate",
    "ToolResultMatches",
    "ToolSequence",
    "UntilToolSeen",
    "all_of",
    "any_of",
    "as_condition",
]


class StopCondition(ABC):
    """Base class of stop conditions; subclass it and implement `check`.

    Conditions must not keep state between calls: everything they need is in the
    `RunState` they are given.
    """

    @abstractmethod
    def check(self, run: RunState) -> StopReason | None:
        """Return why the run should stop now, or None to continue.

        Args:
            run: The run so far; `run.steps[-1]` is the step that just finished.
        """

    def __call__(self, run: RunState) -> bool:
        """Whether the condition holds (`check(run)` is not None)."""
        return self.check(run) is not None

    def __or__(self, other: StopWhen) -> StopCondition:
        return any_of(self, other)

    def __ror__(self, other: StopWhen) -> StopCondition:
        return any_of(other, self)

    def __and__(self, other: StopWhen) -> StopCondition:
        return all_of(self, other)

    def __rand__(self, other: StopWhen) -> StopCondition:
        return all_of(other, self)

    def __invert__(self) -> StopCondition:
        return _Not(self)

    def _reason(self, kind: StopKind, detail: str) -> StopReason:
        return StopReason(kind=kind, detail=detail, condition=repr(self))

    def tool_names(self) -> frozenset[str]:
        """The tool names this condition waits for; a run warns about unknown ones."""
        return frozenset()


StopWhen: TypeAlias = StopCondition | Callable[[RunState], bool] | Callable[[int, Step], bool]
"""Anything accepted as `stop_when`: a condition or a plain callable."""


class _Callable(StopCondition):
    """Adapts `fn(run) -> bool` or `fn(step_number, step) -> bool`."""

    def __init__(self, fn: Callable[..., bool]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.seed_form = _required_positional(fn) == 2

    @override
    def check(self, run: RunState) -> StopReason | None:
        if self.seed_form:
            if not run.steps:
                return None
            fired = self.fn(run.step_number, run.steps[-1])
        else:
            fired = self.fn(run)
        if fired:
            return self._reason(
                "condition", f"{self.name} returned True after step {len(run.steps)}"
            )
        return None

    def __repr__(self) -> str:
        return self.name


def _required_positional(fn: Callable[..., bool]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in positional and p.default is p.empty)


def as_condition(stop_when: StopWhen) -> StopCondition:
    """Turn anything accepted as `stop_when` into a `StopCondition`.

    Raises:
        UserError: It is a condition class rather than an instance, a function with a
            number of arguments other than 1 or 2, or neither a condition nor callable.
    """
    if isinstance(stop_when, StopCondition):
        return stop_when
    if isinstance(stop_when, type):
        example = "MaxSteps(5)" if stop_when is MaxSteps else f"{stop_when.__name__}(...)"
        raise UserError(
            f"stop_when got the class {stop_when.__name__}, not a condition: pass an "
            f"instance, e.g. stop_when={example}."
        )
    if callable(stop_when):
        wanted = _required_positional(stop_when)
        if wanted not in (1, 2):
            raise UserError(
                f"A stop_when function must take one argument (the run state: fn(run)) or "
                f"two (fn(step_number, step)); {_describe(stop_when)} takes {wanted}."
            )
        return _Callable(stop_when)
    raise UserError(
        f"stop_when must be a StopCondition (e.g. gai.MaxSteps(5)) or a function of the "
        f"run, got {type(stop_when).__name__} {stop_when!r}."
    )


def _describe(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", type(fn).__name__)
    return "the lambda" if name == "<lambda>" else f"{name!r}"


class _AnyOf(StopCondition):
    def __init__(self, conditions: Sequence[StopCondition]) -> None:
        self.conditions = tuple(conditions)

    @override
    def check(self, run: RunState) -> StopReason | None:
        for c in self.conditions:
            reason = c.check(run)
            if reason is not None:
                return reason
        return None

    def __repr__(self) -> str:
        return f"any_of({', '.join(map(repr, self.conditions))})"

    @override
    def tool_names(self) -> frozenset[str]:
        return frozenset().union(*(c.tool_names() for c in self.conditions))


class _AllOf(StopCondition):
    def __init__(self, conditions: Sequence[StopCondition]) -> None:
        self.conditions = tuple(conditions)

    @override
    def check(self, run: RunState) -> StopReason | None:
        reasons = []
        for c in self.conditions:
            reason = c.check(run)
            if reason is None:
                return None
            reasons.append(reason)
        if len(reasons) == 1:
            return reasons[0]
        return self._reason("condition", "all of: " + "; ".join(r.detail for r in reasons))

    def __repr__(self) -> str:
        return f"all_of({', '.join(map(repr, self.conditions))})"

    @override
    def tool_names(self) -> frozenset[str]:
        return frozenset().union(*(c.tool_names() for c in self.conditions))


class _Not(StopCondition):
    def __init__(self, condition: StopCondition) -> None:
        self.condition = condition

    @override
    def check(self, run: RunState) -> StopReason | None:
        if self.condition.check(run) is None:
            return self._reason("condition", f"{self.condition!r} does not hold")
        return None

    def __repr__(self) -> str:
        return f"~{self.condition!r}"

    @override
    def tool_names(self) -> frozenset[str]:
        return self.condition.tool_names()


def _flatten(kind: type[_AnyOf | _AllOf], conditions: Sequence[StopWhen]) -> list[StopCondition]:
    if not conditions:
        raise ConfigError(f"{kind.__name__.strip('_')} needs at least one condition.")
    flat: list[StopCondition] = []
    for c in map(as_condition, conditions):
        flat.extend(c.conditions if type(c) is kind else (c,))
    return flat


def any_of(*conditions: StopWhen) -> StopCondition:
    """Stop when any of the conditions holds (logical OR); the first that fires explains why.

    Args:
        *conditions: Conditions or plain callables.
    """
    return _AnyOf(_flatten(_AnyOf, conditions))


def all_of(*conditions: StopWhen) -> StopCondition:
    """Stop when every condition holds at once (logical AND).

    Args:
        *conditions: Conditions or plain callables.
    """
    return _AllOf(_flatten(_AllOf, conditions))


class MaxSteps(StopCondition):
    """Stop once `n` steps have completed.

    Args:
        n: Number of steps, at least 1.
    """

    def __init__(self, n: int) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"MaxSteps needs a whole number n >= 1, got {n!r}.")
        self.n = n

    @override
    def check(self, run: RunState) -> StopReason | None:
        if len(run.steps) >= self.n:
            return self._reason("max_steps", f"reached {self.n} steps")
        return None

    def __repr__(self) -> str:
        return f"MaxSteps({self.n})"


class NoMoreTools(StopCondition):
    """Stop when the last step asked for no tools."""

    @override
    def check(self, run: RunState) -> StopReason | None:
        last = run.last_step
        if last is not None and not last.tool_calls:
            return self._reason(
                "no_more_tools", f"the model called no tools in step {last.step_number}"
            )
        return None

    def __repr__(self) -> str:
        return "NoMoreTools()"


class UntilToolSeen(StopCondition):
    """Stop once the named tool has been called in any step so far (after it ran).

    Args:
        name: Tool name.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"UntilToolSeen needs a tool name (a str), got {name!r}.")
        self.name = name

    @override
    def tool_names(self) -> frozenset[str]:
        return frozenset((self.name,))

    @override
    def check(self, run: RunState) -> StopReason | None:
        for step in run.steps:
            if any(c.name == self.name for c in step.tool_calls):
                return self._reason(
                    "tool_seen", f"tool '{self.name}' was called in step {step.step_number}"
                )
        return None

    def __repr__(self) -> str:
        return f"UntilToolSeen({self.name!r})"


class TextContains(StopCondition):
    """Stop when the last step's text contains `text` (e.g. "TASK_COMPLETED").

    Args:
        text: The text to look for.
        case_sensitive: Whether case matters.
    """

    def __init__(self, text: str, *, case_sensitive: bool = True) -> None:
        if not isinstance(text, str) or not text:
            raise ConfigError(f"TextContains needs the text to look for, got {text!r:.40}.")
        self.text = text
        self.case_sensitive = case_sensitive

    @override
    def check(self, run: RunState) -> StopReason | None:
        last = run.last_step
        if last is None:
            return None
        haystack, needle = last.text, self.text
        if not self.case_sensitive:
            haystack, needle = haystack.lower(), needle.lower()
        if needle in haystack:
            return self._reason(
                "condition", f"the text of step {last.step_number} contains {self.text!r}"
            )
        return None

    def __repr__(self) -> str:
        return f"TextContains({self.text!r})"


class TextMatches(StopCondition):
    """Stop when the last step's text matches a regular expression (`re.search`).

    Args:
        pattern: The regular expression.
        flags: `re` flags.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = re.compile(pattern, flags)

    @override
    def check(self, run: RunState) -> StopReason | None:
        last = run.last_step
        if last is not None and self.pattern.search(last.text):
            return self._reason(
                "condition",
                f"the text of step {last.step_number} matches {self.pattern.pattern!r}",
            )
        return None

    def __repr__(self) -> str:
        return f"TextMatches({self.pattern.pattern!r})"


class ToolResultMatches(StopCondition):
    """Stop once a successful result of `tool` matches a regular expression.

    The result's text (a string output as is, anything else as JSON) is searched.

    Args:
        tool: Tool name.
        pattern: The regular expression.
        flags: `re` flags.
    """

    def __init__(self, tool: str, pattern: str, flags: int = 0) -> None:
        self.tool = tool
        self.pattern = re.compile(pattern, flags)

    @override
    def tool_names(self) -> frozenset[str]:
        return frozenset((self.tool,))

    @override
    def check(self, run: RunState) -> StopReason | None:
        for step in run.steps:
            for result in step.tool_results:
                if result.name == self.tool and result.ok and self.pattern.search(result.content):
                    return self._reason(
                        "condition",
                        f"result of tool '{self.tool}' in step {step.step_number} matches "
                        f"{self.pattern.pattern!r}",
                    )
        return None

    def __repr__(self) -> str:
        return f"ToolResultMatches({self.tool!r}, {self.pattern.pattern!r})"


class _Limited(StopCondition):
    """A stop condition that is a set of `gai.limits.Limits`, measured as `Budget` does."""

    def __init__(self, limits: Limits, price: PriceFunction | None = None) -> None:
        self.limits = limits
        self.price = price

    @override
    def check(self, run: RunState) -> StopReason | None:
        limits = self.limits
        cost = None
        if limits.max_cost is not None and self.price is not None:
            cost = total_cost(run.steps, self.price)
        exceeded = limits.exceeded(limits.measure(run.steps, run.usage, run.elapsed, cost))
        if exceeded is None:
            return None
        name, detail = exceeded
        return self._reason("deadline" if name == "deadline" else "budget", detail)


class TokenBudget(_Limited):
    """Stop once the run has used at least this many tokens (any limit given).

    Args:
        max_total: Limit on total tokens.
        max_input: Limit on input tokens.
        max_output: Limit on output tokens.
    """

    def __init__(
        self,
        max_total: int | None = None,
        *,
        max_input: int | None = None,
        max_output: int | None = None,
    ) -> None:
        if max_total is None and max_input is None and max_output is None:
            raise ConfigError("TokenBudget needs at least one of max_total, max_input, max_output.")
        super().__init__(
            Limits(
                max_total_tokens=max_total, max_input_tokens=max_input, max_output_tokens=max_output
            )
        )

    def __repr__(self) -> str:
        limits = self.limits
        given = {
            "max_total": limits.max_total_tokens,
            "max_input": limits.max_input_tokens,
            "max_output": limits.max_output_tokens,
        }
        return "TokenBudget(" + ", ".join(f"{k}={v}" for k, v in given.items() if v) + ")"


class CostBudget(_Limited):
    """Stop once the run's cost reaches `max_cost`.

    Args:
        max_cost: Cost limit, in the unit `price` gives (e.g. USD).
        price: Cost of one step (the signature `gai.Budget(price=...)` takes); None when
            its model's price is unknown, which is a `UserError`.
    """

    def __init__(self, max_cost: float, price: PriceFunction) -> None:
        super().__init__(Limits(max_cost=max_cost), price)

    def __repr__(self) -> str:
        return f"CostBudget({self.limits.max_cost:g})"


class TimeLimit(_Limited):
    """Stop once the run has been going for at least `seconds` (checked between steps).

    Args:
        seconds: Wall-time limit in seconds.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(Limits(deadline=seconds))

    def __repr__(self) -> str:
        return f"TimeLimit({self.limits.deadline:g})"


class ToolErrorRate(StopCondition):
    """Stop when the share of failed tool calls reaches `threshold`.

    Args:
        threshold: Error rate between 0 and 1.
        min_calls: Tool calls needed before the rate is trusted.
    """

    def __init__(self, threshold: float, *, min_calls: int = 5) -> None:
        if not 0 < threshold <= 1:
            raise ConfigError(f"ToolErrorRate needs 0 < threshold <= 1, got {threshold}.")
        self.threshold = threshold
        self.min_calls = min_calls

    @override
    def check(self, run: RunState) -> StopReason | None:
        results = [r for s in run.steps for r in s.tool_results]
        if len(results) < self.min_calls or not results:
            return None
        errors = sum(1 for r in results if not r.ok)
        rate = errors / len(results)
        if rate >= self.threshold:
            return self._reason(
                "condition",
                f"{errors} of {len(results)} tool calls failed ({rate:.0%}, "
                f"threshold {self.threshold:.0%})",
            )
        return None

    def __repr__(self) -> str:
        return f"ToolErrorRate({self.threshold:g}, min_calls={self.min_calls})"


class ToolSequence(StopCondition):
    """Stop once the tools have been called in this order across the run.

    Args:
        names: Tool names, in order.
        contiguous: Require the calls to be adjacent; otherwise other calls may come between.
    """

    def __init__(self, names: Sequence[str], *, contiguous: bool = False) -> None:
        if not names:
            raise ConfigError("ToolSequence needs at least one tool name.")
        self.names = tuple(names)
        self.contiguous = contiguous

    @override
    def tool_names(self) -> frozenset[str]:
        return frozenset(self.names)

    @override
    def check(self, run: RunState) -> StopReason | None:
        called = [c.name for s in run.steps for c in s.tool_calls]
        if self._contains(called):
            return self._reason(
                "condition", f"tools were called in order: {' -> '.join(self.names)}"
            )
        return None

    def _contains(self, called: list[str]) -> bool:
        n = len(self.names)
        if self.contiguous:
            return any(tuple(called[i : i + n]) == self.names for i in range(len(called) - n + 1))
        it = iter(called)
        return all(name in it for name in self.names)

    def __repr__(self) -> str:
        return f"ToolSequence({list(self.names)!r}, contiguous={self.contiguous})"


class StepsMatch(StopCondition):
    """Stop when `predicate(steps)` holds for all steps so far (the seed's condition-met).

    Args:
        predicate: Gets every completed step, returns whether to stop.
        name: Name used in the stop reason; defaults to the predicate's name.
    """

    def __init__(
        self, predicate: Callable[[Sequence[Step]], bool], name: str | None = None
    ) -> None:
        self.predicate = predicate
        self.name = name or getattr(predicate, "__name__", "predicate")

    @override
    def check(self, run: RunState) -> StopReason | None:
        if self.predicate(run.steps):
            return self._reason("condition", f"{self.name} holds after step {len(run.steps)}")
        return None

    def __repr__(self) -> str:
        return f"StepsMatch({self.name})"
