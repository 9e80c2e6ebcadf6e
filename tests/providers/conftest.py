from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.support.recordings import load
from tests.support.replay import Fault, ReplayServer

StartReplay = Callable[..., Awaitable[ReplayServer]]


@pytest.fixture
async def replay() -> AsyncIterator[StartReplay]:
    """Start a loopback server replaying a fixture file: `await replay("openai_chat/x.yaml")`."""
    servers: list[ReplayServer] = []

    async def start(
        relative: str, faults: dict[int, Fault] | None = None, **kw: Any
    ) -> ReplayServer:
        server = ReplayServer(load(relative), faults=faults or {}, **kw)
        await server.__aenter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.__aexit__(None, None, None)
