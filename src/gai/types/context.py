"""`ContextEdit`: what a context policy changed in a conversation before a model call."""

from __future__ import annotations

from collections.abc import Sequence

from gai.types.base import Value, readonly
from gai.types.messages import Message
from gai.types.usage import Usage

__all__ = ["ContextEdit"]


@readonly(kw_only=True)
class ContextEdit(Value):
    """How a context policy rewrote the conversation before a step's model call.

    Recorded with the step (`Step.context`) and in the run's log, so a resumed run
    rebuilds exactly the conversation the model saw, summaries included, instead of
    deciding again. `kept` and `added` describe the new conversation in terms of the
    old one (system prompt excluded): the old messages of each `[start, end)` range,
    in order, with each `(index, message)` of `added` then inserted at its index.
    """

    policy: str
    """The policy that made the edit (e.g. "DropOldest(max_tokens=4000)")."""
    kept: tuple[tuple[int, int], ...] = ()
    """Ranges of the old conversation kept, in order."""
    added: tuple[tuple[int, Message], ...] = ()
    """Messages the policy wrote (a summary), by their index in the new conversation."""
    tokens_before: int = 0
    """Estimated input tokens before the edit."""
    tokens_after: int = 0
    """Estimated input tokens after it."""
    dropped: int = 0
    """Messages removed without a trace."""
    summarized: int = 0
    """Messages replaced by the summary in `added`."""
    shortened: int = 0
    """Messages kept with part of their content cut (large tool results)."""
    usage: Usage | None = None
    """Tokens the policy spent calling a model (a summary); counted in the run's usage."""

    def apply(self, messages: Sequence[Message]) -> list[Message]:
        """The conversation this edit makes of `messages` (the one it was decided on)."""
        out = [m for start, end in self.kept for m in messages[start:end]]
        for index, message in self.added:
            out.insert(index, message)
        return out

    def describe(self) -> str:
        """One line for people: what changed and the token estimate before and after."""
        done = [
            f"{n} message(s) {what}"
            for n, what in (
                (self.dropped, "dropped"),
                (self.summarized, "summarised"),
                (self.shortened, "shortened"),
            )
            if n
        ]
        return (
            f"{self.policy}: {', '.join(done) or 'no change'} "
            f"(~{self.tokens_before} -> ~{self.tokens_after} tokens)"
        )
