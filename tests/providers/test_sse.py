"""Server-sent events are parsed the same however the network splits them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from gai.providers._http import SSEEvent, iter_sse

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
    async def iter_any() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return SimpleNamespace(content=SimpleNamespace(iter_any=iter_any))


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
