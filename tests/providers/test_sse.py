"""Server-sent events are parsed the same however the network splits them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gai.providers._http import SSEDecoder, SSEEvent, iter_sse

STREAM = (
    ": keep-alive comment\r\n"
    "event: message_start\r\n"
    'data: {"a": 1}\r\n'
    "\r\n"
    "data: first line\n"
    "data:second line\n"
    "\n"
    "data: caf\u00e9 \u2615\r\n"
    "\r\n"
    "data: [DONE]"
).encode()

EXPECTED = [
    SSEEvent("message_start", '{"a": 1}'),
    SSEEvent(None, "first line\nsecond line"),
    SSEEvent(None, "caf\u00e9 \u2615"),
    SSEEvent(None, "[DONE]"),
]


def _response(pieces: list[bytes]) -> Any:
    remaining = list(pieces)

    async def readany() -> bytes:
        return remaining.pop(0) if remaining else b""

    return SimpleNamespace(content=SimpleNamespace(readany=readany))


async def _parse(pieces: list[bytes]) -> list[SSEEvent]:
    return [event async for event in iter_sse(_response(pieces))]


async def test_one_read():
    assert await _parse([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13])
async def test_any_split_gives_the_same_events(size):
    pieces = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert await _parse(pieces) == EXPECTED


async def test_every_two_way_split_gives_the_same_events():
    for cut in range(1, len(STREAM)):
        assert await _parse([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_decoder_holds_an_unfinished_event_until_it_ends():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n\ndata: tw") == [SSEEvent(None, "one")]
    assert decoder.feed(b"o\r") == []
    assert decoder.feed(b"\n\r\n") == [SSEEvent(None, "two")]
    assert decoder.close() == []


def test_decoder_gives_an_event_cut_off_by_the_end_of_the_stream():
    decoder = SSEDecoder()
    assert decoder.feed(b": ping\n\ndata: last") == []
    assert decoder.close() == [SSEEvent(None, "last")]


async def test_stopping_early_leaves_nothing_to_finalise():
    # Providers stop at their end marker; an async generator left suspended there
    # would be closed later by the event loop, with a task per stream.
    events = iter_sse(_response([STREAM]))
    assert not hasattr(events, "aclose")
    async for event in events:
        if event.data == '{"a": 1}':
            break
    assert [e async for e in events] == EXPECTED[1:]
