"""A run's messages in wire form, encoded once each and reused on every later step.

A run's conversation only grows: step n sends the messages of step n-1 plus the
model's answer and the tool results. Converting and serialising the whole history
for every request makes a run's cost grow with the square of its length (what the
official OpenAI SDK does, and half of what the peer libraries spend). The engine
gives each run a `MessageHistory` and attaches it to the requests it builds; a
provider asks it for the messages array and pays only for the messages it has not
seen. A request built by hand has no history and is encoded in full, the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from gai.types import Message

if TYPE_CHECKING:
    from gai.providers.base import ModelRequest

__all__ = ["Encoder", "MessageHistory", "attach_history", "encoded_messages"]

Encoder = Callable[[Message], list[dict[str, Any]]]
"""A protocol's conversion of one message into its wire entries (zero or more)."""


def _entries(message: Message, encode: Encoder) -> bytes:
    # The entries without the list's brackets, ready to be joined with the others.
    return orjson.dumps(encode(message))[1:-1]


def _array(chunks: Sequence[bytes]) -> orjson.Fragment:
    return orjson.Fragment(b"[" + b",".join([c for c in chunks if c]) + b"]")


class MessageHistory:
    """The encoded messages of one run, per wire protocol.

    Entries are matched by identity, not equality, and position: a message that was
    replaced (a middleware rewrote the history, a run resumed) is encoded again, as is
    everything after it.
    """

    __slots__ = ("_by_encoder",)

    def __init__(self) -> None:
        self._by_encoder: dict[Encoder, tuple[list[Message], list[bytes]]] = {}

    def encode(self, messages: Sequence[Message], encode: Encoder) -> orjson.Fragment:
        """The JSON array of `messages`' wire entries, reusing what was encoded before."""
        known = self._by_encoder.get(encode)
        if known is None:
            known = self._by_encoder[encode] = ([], [])
        seen, chunks = known
        same = 0
        limit = min(len(seen), len(messages))
        while same < limit and seen[same] is messages[same]:
            same += 1
        del seen[same:], chunks[same:]
        for message in messages[same:]:
            seen.append(message)
            chunks.append(_entries(message, encode))
        return _array(chunks)


def attach_history(request: ModelRequest, history: MessageHistory) -> ModelRequest:
    """Let providers reuse `history` for `request`; returns the request.

    The history sits in a slot outside pydantic's fields: it takes no part in
    equality, and copies and pickles of the request leave it behind.
    """
    object.__setattr__(request, "_history", history)
    return request


def encoded_messages(
    request: ModelRequest, encode: Encoder, messages: Sequence[Message] | None = None
) -> orjson.Fragment:
    """The JSON array of the request's messages, each converted by `encode`.

    Args:
        request: The request, with the run's history when the engine built it.
        encode: The protocol's conversion of one message; one function per protocol.
        messages: The messages to send when not all of the request's (a protocol
            that sends the system prompt apart); they must keep their identity.
    """
    if messages is None:
        messages = request.messages
    history: MessageHistory | None = getattr(request, "_history", None)
    if history is None:
        return _array([_entries(m, encode) for m in messages])
    return history.encode(messages, encode)
