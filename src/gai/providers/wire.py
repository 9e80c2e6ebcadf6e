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
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from gai.types import Message

if TYPE_CHECKING:
    from gai.providers.base import ModelRequest

__all__ = [
    "Encoder",
    "MessageHistory",
    "TurnEncoder",
    "attach_history",
    "encoded_messages",
    "encoded_turns",
]

T = TypeVar("T")

Encoder = Callable[[Message], list[dict[str, Any]]]
"""A protocol's conversion of one message into its wire entries (zero or more)."""

TurnEncoder = Callable[[Message], tuple[str, list[dict[str, Any]]]]
"""A protocol's conversion of one message into a role and its content blocks.

For protocols that merge consecutive messages of one role into a single turn
(Anthropic's tool results travel in a user turn, Gemini's in a user content).
"""


def _entries(encode: Encoder) -> Callable[[Message], bytes]:
    def entries(message: Message) -> bytes:
        # Without the list's brackets, ready to be joined with the others.
        return orjson.dumps(encode(message))[1:-1]

    return entries


def _turn(encode: TurnEncoder) -> Callable[[Message], tuple[bytes, bytes]]:
    def turn(message: Message) -> tuple[bytes, bytes]:
        role, blocks = encode(message)
        return orjson.dumps(role), orjson.dumps(blocks)[1:-1]

    return turn


def _array(chunks: Sequence[bytes]) -> orjson.Fragment:
    return orjson.Fragment(b"[" + b",".join([c for c in chunks if c]) + b"]")


def _merged(turns: Sequence[tuple[bytes, bytes]], content: str) -> orjson.Fragment:
    """Consecutive same-role turns as one `{"role": ..., content: [...]}` each."""
    key = b',"' + content.encode() + b'":['
    out: list[bytes] = []
    role: bytes | None = None
    blocks: list[bytes] = []
    for this_role, these in turns:
        if not these:
            continue
        if this_role != role:
            if role is not None:
                out.append(b'{"role":' + role + key + b",".join(blocks) + b"]}")
            role, blocks = this_role, []
        blocks.append(these)
    if role is not None:
        out.append(b'{"role":' + role + key + b",".join(blocks) + b"]}")
    return _array(out)


class MessageHistory:
    """The encoded messages of one run.

    Entries are matched by identity, not equality, and position: a message that was
    replaced (a middleware rewrote the history, a run resumed) is encoded again, as is
    everything after it. One wire protocol is kept at a time (a run rarely changes
    model mid-way): a request in another protocol starts the history afresh.
    """

    __slots__ = ("_messages", "_protocol", "_values")

    def __init__(self) -> None:
        self._protocol: object = None
        self._messages: Sequence[Message] = ()
        self._values: list[Any] = []

    def encode(self, messages: Sequence[Message], encode: Encoder) -> orjson.Fragment:
        """The JSON array of `messages`' wire entries, reusing what was encoded before."""
        return _array(self._values_for(messages, encode, _entries(encode)))

    def encode_turns(
        self, messages: Sequence[Message], encode: TurnEncoder, content: str
    ) -> orjson.Fragment:
        """The JSON array of turns, consecutive same-role messages merged into one."""
        return _merged(self._values_for(messages, encode, _turn(encode)), content)

    def turns(self, messages: Sequence[Message], encode: TurnEncoder) -> list[tuple[bytes, bytes]]:
        """Each message's encoded turn (role, blocks), reusing what was encoded before."""
        return list(self._values_for(messages, encode, _turn(encode)))

    def _values_for(
        self, messages: Sequence[Message], protocol: object, convert: Callable[[Message], T]
    ) -> list[T]:
        if protocol is not self._protocol:
            self._protocol, self._messages, self._values = protocol, (), []
        # The previous request's own sequence is kept, not a copy: the request holds it
        # anyway while it is sent.
        before, values = self._messages, self._values
        same = 0
        limit = min(len(before), len(messages))
        while same < limit and before[same] is messages[same]:
            same += 1
        del values[same:]
        values.extend(map(convert, messages[same:]))
        # A tuple, so a list changed in place after this call cannot pass for the past.
        self._messages = messages if isinstance(messages, tuple) else tuple(messages)
        return values


def attach_history(request: ModelRequest, history: MessageHistory) -> ModelRequest:
    """Let providers reuse `history` for `request`; returns the request.

    The history sits in a slot outside pydantic's fields: it takes no part in
    equality, and copies and pickles of the request leave it behind.
    """
    object.__setattr__(request, "_history", history)
    return request


def _history(request: ModelRequest) -> MessageHistory | None:
    return getattr(request, "_history", None)


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
    history = _history(request)
    if history is None:
        return _array([_entries(encode)(m) for m in messages])
    return history.encode(messages, encode)


def encoded_turns(
    request: ModelRequest,
    encode: TurnEncoder,
    messages: Sequence[Message],
    content: str,
    *,
    last: TurnEncoder | None = None,
) -> orjson.Fragment:
    """The JSON array of turns for `messages`, consecutive same-role messages merged.

    Args:
        request: The request, with the run's history when the engine built it.
        encode: The protocol's conversion of one message into a role and its blocks.
        messages: The messages to send (the request's, less what goes apart).
        content: The name of a turn's list of blocks ("content", "parts").
        last: Another conversion for the last message (a cache breakpoint on it); that
            message is encoded apart each time and the next request encodes it anew.
    """
    history = _history(request)
    head = messages if last is None or not messages else messages[:-1]
    if history is None:
        turn = _turn(encode)
        turns = [turn(m) for m in head]
    elif last is None:
        return history.encode_turns(messages, encode, content)
    else:
        turns = history.turns(head, encode)
    if last is not None and messages:
        turns.append(_turn(last)(messages[-1]))
    return _merged(turns, content)
