from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.recordings import load
from tests.support.replay import Fault, ReplayServer, StartReplay

_PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GROQ_API_KEY",
    "OLLAMA_HOST",
    "GAI_MODEL",
)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see real provider keys, so nothing reaches a real API by accident."""
    for name in _PROVIDER_ENV:
        if name in os.environ:
            monkeypatch.delenv(name)


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
