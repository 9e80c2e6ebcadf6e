from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import gai
from gai.providers.openai import OpenAI
from tests.support.agent_server import AgentServer

FAST = gai.RetryPolicy(max_attempts=4, initial_delay=0.001, max_delay=0.01, max_retry_after=0.01)


class FakeClock:
    """Virtual time: `sleep` advances it at once, so waits cost nothing."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class Lookups:
    """The `lookup` tool the agent server asks for, counting every execution."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

        @gai.tool
        async def lookup(ctx: gai.ToolContext[None], key: str) -> str:
            """Look a key up."""
            self.calls[ctx.call_id] += 1
            return f"value of {key}"

        self.tool = lookup


@pytest.fixture
def lookups() -> Lookups:
    return Lookups()


def openai_for(server: AgentServer, **kw: Any) -> OpenAI:
    return OpenAI("agent", api_key="k", base_url=server.url(), **kw)


def run_options(lookups: Lookups, **kw: Any) -> dict[str, Any]:
    return {"tools": [lookups.tool], "stop_when": gai.MaxSteps(10), "retry": FAST, **kw}


StartServer = Callable[..., Any]
