"""Runs for the dashboard's tests and screenshots: what a store holds after real use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import gai
from gai.control import Decision
from gai.models import ScriptedModel
from gai.store import BaseStore
from gai.tools import ToolRegistry

XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
GATE = asyncio.Event()


@gai.tool
async def fetch_page(url: str) -> str:
    """Fetch a page."""
    await asyncio.sleep(0.15 if "fast" in url else 0.35)
    return f"contents of {url}: " + (XSS if "evil" in url else "ok")


@gai.tool
async def summarize(text: str) -> str:
    """Summarize text."""
    if not text:
        raise ValueError("nothing to summarize")
    return text[:40]


@gai.tool
async def wait_for_gate() -> str:
    """Wait until the test opens the gate."""
    await GATE.wait()
    return "gate opened"


@gai.tool(needs_approval=True)
async def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent {subject!r} to {to}"


TOOLS = ToolRegistry([fetch_page, summarize, wait_for_gate, send_email])


def _call(call_id: str, name: str, **arguments: object) -> gai.ToolCall:
    return gai.ToolCall(call_id=call_id, name=name, arguments=arguments)


async def research_run(store: BaseStore) -> gai.TextResult:
    """Two steps: two pages fetched in parallel (one with markup in it), then an error."""
    model = ScriptedModel(
        [
            gai.ModelResponse(
                tool_calls=(
                    _call("c1", "fetch_page", url="https://fast.example/a"),
                    _call("c2", "fetch_page", url="https://evil.example/b"),
                ),
                finish_reason="tool_calls",
            ),
            gai.ModelResponse(
                tool_calls=(_call("c3", "summarize", text=""),), finish_reason="tool_calls"
            ),
            "Both pages read; one summary failed.",
        ]
    )
    return await gai.generate_text(
        model, prompt="Read both pages", tools=list(TOOLS), stop_when=gai.MaxSteps(5),
        run_store=store, run_id="research-1",
    )  # fmt: skip


async def approval_run(store: BaseStore) -> gai.TextResult:
    """A run of the offline "test" model, paused on a call that needs approval."""
    return await gai.generate_text(
        "test", prompt="Email the team", tools=[send_email], stop_when=gai.MaxSteps(5),
        run_store=store, run_id="approval-1",
    )  # fmt: skip


async def failed_run(store: BaseStore) -> None:
    """A run whose model ran out of answers after one step."""
    model = ScriptedModel([gai.ModelResponse(tool_calls=(_call("c9", "summarize", text="x"),))])
    with contextlib.suppress(gai.errors.GaiError):
        await gai.generate_text(
            model, prompt="Fail", tools=list(TOOLS), stop_when=gai.MaxSteps(5),
            run_store=store, run_id="failed-1",
        )  # fmt: skip


async def gated_run(store: BaseStore) -> gai.TextResult:
    """Step 1 at once; step 2 waits for `GATE`, so the run is seen while it runs."""
    model = ScriptedModel(
        [
            gai.ModelResponse(
                tool_calls=(_call("g1", "fetch_page", url="https://fast.example/c"),),
                finish_reason="tool_calls",
            ),
            gai.ModelResponse(
                tool_calls=(_call("g2", "wait_for_gate"),), finish_reason="tool_calls"
            ),
            "Gate passed.",
        ]
    )
    return await gai.generate_text(
        model, prompt="Wait", tools=list(TOOLS), stop_when=gai.MaxSteps(5),
        run_store=store, run_id="live-1",
    )  # fmt: skip


async def resume_run(
    store: BaseStore, run_id: str, approvals: Mapping[str, Decision]
) -> gai.TextResult:
    """How the dashboard resumes these runs: their tools and stop condition again."""
    return await gai.resume(
        run_id, store=store, tools=list(TOOLS), stop_when=gai.MaxSteps(5), approvals=approvals
    )
