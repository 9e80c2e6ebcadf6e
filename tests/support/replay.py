"""A loopback HTTP server that replays recorded exchanges, with fault injection.

It runs on a real socket (aiohttp's test server), answers each request with the next
recorded response, keeps every request it received, and can misbehave on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.recordings import Exchange

StartReplay = Callable[..., Awaitable["ReplayServer"]]
"""The `replay` fixture: `await replay("openai_chat/x.yaml", faults={0: "truncate"})`."""

Fault = Literal["truncate", "malformed", "slow", "drop", "empty_choices", "slow_stream"]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class ReplayServer:
    """Serves `exchanges` in order; `faults[i]` makes the i-th response misbehave."""

    exchanges: Sequence[Exchange]
    faults: dict[int, Fault] = field(default_factory=dict)
    slow_seconds: float = 5.0
    received: list[Received] = field(default_factory=list)
    disconnects: int = 0
    """Streams the client closed before the server finished writing them."""
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    _server: TestServer | None = None

    async def __aenter__(self) -> ReplayServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app)
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()

    def url(self, path: str = "") -> str:
        assert self._server is not None
        return str(self._server.make_url(path))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        index = len(self.received)
        body = await request.read()
        self.received.append(Received(request.method, request.path_qs, dict(request.headers), body))
        if index >= len(self.exchanges):
            return web.Response(status=599, text=f"replay: no recorded exchange #{index + 1}")
        exchange = self.exchanges[index]
        fault = self.faults.get(index)
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=599)
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        payload = exchange.body
        if fault == "malformed":
            payload = payload[: len(payload) // 2] + b"}{not json"
        if fault == "empty_choices":
            payload = b'{"id":"x","object":"chat.completion","choices":[]}'
        headers = dict(exchange.headers)
        if exchange.is_stream:
            return await self._stream(request, exchange, payload, headers, fault)
        if fault == "truncate":
            # Promise the full length, send half, then hang up.
            response = web.StreamResponse(status=exchange.status, headers=headers)
            response.content_length = len(payload)
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        return web.Response(status=exchange.status, body=payload, headers=headers)

    async def _stream(
        self,
        request: web.Request,
        exchange: Exchange,
        payload: bytes,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=exchange.status, headers=headers)
        await response.prepare(request)
        separator = b"\n\n" if b"\n\n" in payload else b"\n"
        pieces = [p + separator for p in payload.split(separator) if p]
        if fault == "truncate":
            pieces = pieces[: max(1, len(pieces) // 2)]
        try:
            for piece in pieces:
                await response.write(piece)
                await asyncio.sleep(self.slow_seconds if fault == "slow_stream" else 0)
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            self.disconnected.set()
            raise
        if fault != "truncate":
            await response.write_eof()
        return response
