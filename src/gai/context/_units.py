"""A conversation cut into turns that a policy keeps or drops whole."""

from __future__ import annotations

from collections.abc import Sequence

from gai.types import Message

__all__ = ["turns"]


def turns(messages: Sequence[Message]) -> list[tuple[int, int]]:
    """`[start, end)` of each turn of `messages`.

    A turn is an assistant message with the tool results that answer its calls, or any
    other message on its own.

    A policy that drops whole turns never leaves a tool result without its call, nor a
    call without its result, which every provider rejects.
    """
    out: list[tuple[int, int]] = []
    index, count = 0, len(messages)
    while index < count:
        end = index + 1
        if messages[index].role == "assistant" and messages[index].tool_calls:
            while end < count and messages[end].role == "tool":
                end += 1
        out.append((index, end))
        index = end
    return out
