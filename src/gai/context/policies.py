"""Context policies: keep each model request within a token budget.

Before every model call of a run (or of a session's runs), the run's policy may
rewrite the conversation: drop the oldest turns, keep the first and last ones, cut
large tool results, or fold older turns into a summary written by a (cheaper) model.
Policies work on whole turns (`_units.turns`), so a tool call never loses its result,
and they never change an assistant message, so reasoning signatures stay valid. The
system prompt and the tool definitions are not theirs to change; their tokens count
against the budget all the same.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from gai._checks import numbers
from gai.context._units import turns
from gai.context.tokens import TokenCounter
from gai.errors import UserError
from gai.types import Message, ToolResultPart, Usage, system, user

if TYPE_CHECKING:
    from gai.providers.base import Model

__all__ = [
    "TRIMMED_NOTE",
    "Chain",
    "ContextFunction",
    "ContextLike",
    "ContextPolicy",
    "ContextWindow",
    "DropOldest",
    "DropToolResults",
    "KeepEnds",
    "Summarize",
    "as_policy",
]

TRIMMED_NOTE = "[Earlier turns of this conversation were removed to fit the context window.]"
"""The user message put where turns were dropped, so the model knows some are missing
(and the conversation still starts with a user turn, as Anthropic and Gemini require)."""

SUMMARY_HEADING = "Summary of the earlier conversation:"


@dataclass(slots=True)
class ContextWindow:
    """What a policy knows about the request it shapes, and where it notes what it did."""

    counter: TokenCounter
    """Counts tokens (the local estimate, scaled to the provider's reports)."""
    overhead: int = 0
    """Tokens of the system prompt and tool definitions, which policies do not change."""
    dropped: int = 0
    summarized: int = 0
    shortened: int = 0
    usage: Usage = field(default_factory=Usage)
    """Tokens spent by models the policies called (summaries)."""
    exact: Callable[[Sequence[Message]], Awaitable[int]] | None = None
    """The provider's own count of a request with these messages, where it has one."""

    def tokens(self, messages: Sequence[Message]) -> int:
        """Estimated input tokens of a request with `messages` (plus the overhead)."""
        return self.overhead + self.counter.count(messages)

    async def fits(self, messages: Sequence[Message], limit: int) -> bool:
        """Whether a request with `messages` is within `limit` tokens.

        The estimate decides when it is clearly over or under; close to the limit the
        provider's count-tokens endpoint does, where it has one (Anthropic, Gemini).
        """
        estimate = self.tokens(messages)
        if self.exact is None or not _NEAR[0] * limit <= estimate <= _NEAR[1] * limit:
            return estimate <= limit
        counted = await self.exact(messages)
        self.counter.calibrate(round(estimate / self.counter.ratio), counted)
        return counted <= limit


_NEAR = (0.93, 1.1)
"""Estimates within these shares of a budget are checked with the provider's count."""


class ContextPolicy(ABC):
    """Rewrites a run's conversation before a model call to keep it within budget."""

    @abstractmethod
    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """The conversation to send instead of `messages`, or None to send it unchanged.

        `messages` excludes the system prompt. Messages kept must be the same objects.
        """

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._describe().items())
        return f"{type(self).__name__}({fields})"

    def _describe(self) -> dict[str, Any]:
        return {}


def _budget(name: str, max_tokens: Any) -> int:
    return _whole(name, "max_tokens", max_tokens, least=1)


def _whole(name: str, label: str, value: Any, least: int = 0) -> int:
    numbers(f"{name}: ", (label, value), whole=True)
    if value is None or value < least:
        raise UserError(f"{name}: {label} must be a whole number of at least {least}, got {value}.")
    return int(value)


def _share(name: str, value: Any) -> float:
    numbers(f"{name}: ", ("target", value))
    if value is None or not 0 < value <= 1:
        raise UserError(f"{name}: target must be a share of the budget in (0, 1], got {value}.")
    return float(value)


def _cut(messages: list[Message], head: int, keep_from: int) -> list[Message]:
    """`messages` without `[head, keep_from)`, a note where they were."""
    if keep_from <= head:
        return messages
    rest = messages[keep_from:]
    if rest and rest[0].role == "user" and rest[0].text == TRIMMED_NOTE:
        return [*messages[:head], *rest]
    return [*messages[:head], user(TRIMMED_NOTE), *rest]


class DropOldest(ContextPolicy):
    """Drop the oldest turns until the request fits `max_tokens`.

    Args:
        max_tokens: The budget for the whole request (system prompt and tools included).
        keep_first: Turns at the start that are never dropped (the task, say).
        target: Over budget, drop down to this share of it, not just under it: the
            conversation then keeps its start for several turns (a provider's prompt
            cache keeps hitting) and an estimate a little short still fits.

    The turn in progress (from the last user message on) is always kept, even alone
    over budget.
    """

    def __init__(self, max_tokens: int, *, keep_first: int = 0, target: float = 0.8) -> None:
        self.max_tokens = _budget("DropOldest", max_tokens)
        self.keep_first = _whole("DropOldest", "keep_first", keep_first)
        self.target = _share("DropOldest", target)

    def _describe(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "keep_first": self.keep_first}

    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """See `ContextPolicy.edit`."""
        if await window.fits(messages, self.max_tokens):
            return None
        units = turns(messages)
        if len(units) <= self.keep_first + 1:
            return None
        head = units[self.keep_first - 1][1] if self.keep_first else 0
        note = window.counter.count([user(TRIMMED_NOTE)])
        fixed = window.tokens(messages[:head]) + note
        # Tokens of the turns from each one to the end, so the cut is found in one pass.
        sizes = [window.counter.count(messages[a:b]) for a, b in units]
        left = sum(sizes[self.keep_first :])
        cut = self.keep_first
        goal = self.max_tokens * self.target
        last = _current_turn(messages, units)
        while cut < last and fixed + left > goal:
            left -= sizes[cut]
            cut += 1
        if cut == self.keep_first:
            return None
        start = units[cut][0]
        window.dropped += sum(
            1 for m in messages[head:start] if not (m.role == "user" and m.text == TRIMMED_NOTE)
        )
        return _cut(messages, head, start)


class KeepEnds(ContextPolicy):
    """Keep the first `first` turns and the last `last`, dropping those between.

    Args:
        first: Turns kept at the start.
        last: Turns kept at the end (at least 1).
    """

    def __init__(self, first: int = 1, last: int = 20) -> None:
        self.first = _whole("KeepEnds", "first", first)
        self.last = _whole("KeepEnds", "last", last, least=1)

    def _describe(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last}

    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """See `ContextPolicy.edit`."""
        units = turns(messages)
        # The note a previous cut left is not a turn of the conversation.
        if len(units) > self.first and _is_note(messages, units[self.first]):
            if len(units) <= self.first + 1 + self.last:
                return None
        elif len(units) <= self.first + self.last:
            return None
        head = units[self.first - 1][1] if self.first else 0
        start = min(units[-self.last][0], units[_current_turn(messages, units)][0])
        if start <= head:
            return None
        window.dropped += sum(
            1 for m in messages[head:start] if not (m.role == "user" and m.text == TRIMMED_NOTE)
        )
        return _cut(messages, head, start)


def _current_turn(messages: Sequence[Message], units: Sequence[tuple[int, int]]) -> int:
    """Index of the unit holding the last user message (the question being answered).

    Or of the last unit when there is none. Nothing from there on may go.
    """
    for index in range(len(units) - 1, -1, -1):
        message = messages[units[index][0]]
        if message.role == "user" and message.text != TRIMMED_NOTE:
            return index
    return len(units) - 1


def _is_note(messages: Sequence[Message], unit: tuple[int, int]) -> bool:
    message = messages[unit[0]]
    return message.role == "user" and message.text == TRIMMED_NOTE


class DropToolResults(ContextPolicy):
    """Cut the content of the largest tool results, oldest first, until the request fits.

    The call and a short note stay, so the model knows the tool ran and what it
    returned was removed; the last turn's results are never cut.

    Args:
        max_tokens: The budget for the whole request.
        min_chars: Results shorter than this are left as they are.
        target: Over budget, cut down to this share of it (see `DropOldest`).
    """

    def __init__(self, max_tokens: int, *, min_chars: int = 500, target: float = 0.8) -> None:
        self.max_tokens = _budget("DropToolResults", max_tokens)
        self.min_chars = _whole("DropToolResults", "min_chars", min_chars, least=1)
        self.target = _share("DropToolResults", target)

    def _describe(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "min_chars": self.min_chars}

    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """See `ContextPolicy.edit`."""
        if await window.fits(messages, self.max_tokens):
            return None
        total = window.tokens(messages)
        units = turns(messages)
        last_start = units[-1][0] if units else 0
        out = list(messages)
        changed = False
        for index in range(last_start):
            message = out[index]
            if message.role != "tool" or not any(
                len(p.content) >= self.min_chars for p in message.tool_results
            ):
                continue
            shorter = Message(
                role="tool",
                parts=tuple(
                    _shortened(p)
                    if isinstance(p, ToolResultPart) and len(p.content) >= self.min_chars
                    else p
                    for p in message.parts
                ),
                name=message.name,
            )
            total += window.counter.count([shorter]) - window.counter.count([message])
            out[index] = shorter
            window.shortened += 1
            changed = True
            if total <= self.max_tokens * self.target:
                break
        return out if changed else None


def _shortened(part: ToolResultPart) -> ToolResultPart:
    return ToolResultPart(
        call_id=part.call_id,
        name=part.name,
        content=f"[The result of {part.name} ({len(part.content)} characters) was removed to "
        f"fit the context window.]",
        is_error=part.is_error,
    )


_SUMMARY_INSTRUCTIONS = (
    "You summarise conversations between a user and an AI assistant that uses tools. "
    "Write a concise summary of the conversation below for the assistant to continue "
    "from: the user's goals and preferences, facts learned (tool results included), "
    "decisions made and open questions. Plain text, no preamble."
)


class Summarize(ContextPolicy):
    """Fold older turns into one summary, written by `model`, when the request is over budget.

    The summary is a user message at the start of the conversation; a later summary
    takes the earlier one in with the turns it folds. Turns kept at the end are never
    summarised.

    Args:
        model: The model that writes summaries (often cheaper than the run's).
        max_tokens: The budget for the whole request; over it, older turns are folded.
        keep_last: Turns kept as they are at the end.
        instructions: System prompt for the summarising model.
    """

    def __init__(
        self,
        model: Model | str,
        max_tokens: int,
        *,
        keep_last: int = 4,
        instructions: str = _SUMMARY_INSTRUCTIONS,
    ) -> None:
        self.model = model
        self.max_tokens = _budget("Summarize", max_tokens)
        self.keep_last = _whole("Summarize", "keep_last", keep_last, least=1)
        if not isinstance(instructions, str) or not instructions:
            raise UserError("Summarize: instructions must be a non-empty string.")
        self.instructions = instructions

    def _describe(self) -> dict[str, Any]:
        name = self.model if isinstance(self.model, str) else getattr(self.model, "name", "?")
        return {"model": name, "max_tokens": self.max_tokens, "keep_last": self.keep_last}

    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """See `ContextPolicy.edit`."""
        if await window.fits(messages, self.max_tokens):
            return None
        units = turns(messages)
        if len(units) <= self.keep_last:
            return None
        start = min(units[-self.keep_last][0], units[_current_turn(messages, units)][0])
        folded = messages[:start]
        if len(folded) == 1 and folded[0].text.startswith(SUMMARY_HEADING):
            return None  # only the summary is left to fold
        from gai._registry import resolve_model
        from gai.providers.base import ModelRequest

        model = resolve_model(self.model)
        response = await model.generate(
            ModelRequest(messages=(system(self.instructions), user(_render(folded))))
        )
        window.usage = window.usage + response.usage
        window.summarized += len(folded)
        return [user(f"{SUMMARY_HEADING}\n{response.text.strip()}"), *messages[start:]]


def _render(messages: Sequence[Message]) -> str:
    """The turns as plain text for the summarising model."""
    lines: list[str] = []
    for message in messages:
        if message.text:
            lines.append(f"{message.role}: {message.text}")
        for call in message.tool_calls:
            lines.append(f"assistant called {call.name}({call.arguments})")
        for result in message.tool_results:
            lines.append(f"{result.name} returned: {result.content}")
    return "\n".join(lines)


ContextFn: TypeAlias = Callable[
    [list[Message]], Awaitable[Sequence[Message] | None] | Sequence[Message] | None
]


class ContextFunction(ContextPolicy):
    """Your function over the message list (sync or async) as a policy.

    It gets the conversation (system prompt excluded) and returns the one to send, or
    None to leave it. It must not split a tool call from its result: that is checked,
    and a `UserError` says which call lost its pair.
    """

    def __init__(self, fn: ContextFn) -> None:
        if not callable(fn):
            raise UserError(f"context= takes a policy or a function, got {type(fn).__name__}.")
        self.fn = fn

    def _describe(self) -> dict[str, Any]:
        return {"fn": getattr(self.fn, "__qualname__", repr(self.fn))}

    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """See `ContextPolicy.edit`."""
        out = self.fn(list(messages))
        if inspect.isawaitable(out):
            out = await out
        if out is None:
            return None
        if isinstance(out, str | bytes) or not all(isinstance(m, Message) for m in out):
            raise UserError(
                f"The context function {self._describe()['fn']} must return a list of "
                f"gai.Message or None."
            )
        edited = list(out)
        _check_pairs(edited, self._describe()["fn"])
        return edited


def _check_pairs(messages: Sequence[Message], by: str) -> None:
    answered: set[str] = set()
    for index, message in enumerate(messages):
        if message.role == "tool":
            for part in message.tool_results:
                if part.call_id not in answered:
                    raise UserError(
                        f"{by} left the result of tool call {part.call_id!r} ({part.name}) "
                        f"without its call: keep or drop an assistant message together with "
                        f"the tool results after it."
                    )
        answered = set()
        if message.role == "assistant" and message.tool_calls:
            answered = {c.call_id for c in message.tool_calls}
            after = messages[index + 1] if index + 1 < len(messages) else None
            got = {p.call_id for p in after.tool_results} if after is not None else set()
            if after is not None and after.role == "tool" and answered - got:
                raise UserError(
                    f"{by} left tool call(s) {', '.join(sorted(answered - got))} without "
                    f"their results."
                )


class Chain(ContextPolicy):
    """Several policies, each applied to what the one before left (cheapest first)."""

    def __init__(self, *policies: ContextLike) -> None:
        self.policies = [as_policy(p) for p in policies]

    def __repr__(self) -> str:
        return f"Chain({', '.join(map(repr, self.policies))})"

    async def edit(self, messages: list[Message], window: ContextWindow) -> list[Message] | None:
        """See `ContextPolicy.edit`."""
        current = messages
        for policy in self.policies:
            edited = await policy.edit(current, window)
            if edited is not None:
                current = edited
        return None if current is messages else current


ContextLike: TypeAlias = "ContextPolicy | ContextFn | Sequence[ContextPolicy | ContextFn]"
"""What `context=` takes: a policy, a function over the messages, or a list of them
(applied in order)."""


def as_policy(value: Any) -> ContextPolicy:
    """The policy `context=` names.

    Raises:
        UserError: `value` is neither a policy, a function nor a list of them.
    """
    if isinstance(value, ContextPolicy):
        return value
    if isinstance(value, list | tuple):
        return Chain(*value)
    if callable(value):
        return ContextFunction(value)
    raise UserError(
        f"context= takes a policy (e.g. gai.context.DropOldest(max_tokens=4000)), a "
        f"function over the message list, or a list of them; got {type(value).__name__}."
    )
