"""What durable-test workers import: a loopback provider and tools with visible side effects.

`loopback:NAME` is an OpenAI-compatible model at $GAI_TEST_LOOPBACK_URL. `lookup` is
idempotent; `write` is not, and appends one line per execution to $GAI_TEST_EFFECTS, so
a test can count how often each call really ran.
"""

from __future__ import annotations

import asyncio
import os

import gai
from gai import ToolContext
from gai._registry import register_provider
from gai.providers.openai import OpenAI
from gai.tools import ToolRegistry


def loopback_model(name: str, url: str | None = None) -> OpenAI:
    """The loopback server's model; `url` defaults to $GAI_TEST_LOOPBACK_URL."""
    return OpenAI(
        name or "agent",
        api_key="k",
        base_url=url or os.environ["GAI_TEST_LOOPBACK_URL"],
        provider="loopback",
    )


register_provider("loopback", loopback_model, replace=True)


def _effect(ctx: ToolContext[None], key: str) -> None:
    path = os.environ.get("GAI_TEST_EFFECTS")
    if path:
        # One short O_APPEND write per execution: whole lines even with many writers.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{ctx.run_id} {ctx.call_id} {ctx.tool_name} {key}\n".encode())
        finally:
            os.close(fd)


@gai.tool(idempotent=True)
async def lookup(ctx: ToolContext[None], key: str) -> str:
    """Look a key up.

    Args:
        key: What to look up.
    """
    _effect(ctx, key)
    await asyncio.sleep(float(os.environ.get("GAI_TEST_TOOL_SECONDS", "0")))
    return f"value of {key}"


@gai.tool
async def write(ctx: ToolContext[None], key: str) -> str:
    """Write a key somewhere (not idempotent).

    Args:
        key: What to write.
    """
    _effect(ctx, key)
    await asyncio.sleep(float(os.environ.get("GAI_TEST_TOOL_SECONDS", "0")))
    return f"wrote {key}"


registry = ToolRegistry([lookup, write])


async def two_agents(task: str, model: str) -> dict[str, str]:
    """A durable function: a researcher with tools, then a writer."""
    from gai.durable import registry as worker_tools
    from gai.workflows import Agent, run_sequential

    researcher = Agent("researcher", "finds facts", model, tools=list(worker_tools()))
    writer = Agent("writer", "writes the answer", model, tools=list(worker_tools()))
    return (await run_sequential([researcher, writer], task)).results


async def overlapping(model: str) -> list[str]:
    """A durable function that wrongly runs two gai runs at once."""
    results = await asyncio.gather(
        gai.generate_text(model, prompt="left", tools=[lookup], stop_when=gai.NoMoreTools()),
        gai.generate_text(model, prompt="right", tools=[lookup], stop_when=gai.NoMoreTools()),
    )
    return [r.text for r in results]
