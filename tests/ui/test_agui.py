"""AG-UI events, consumed by @ag-ui/client's own HttpAgent."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ag_ui.core import RunAgentInput
from aiohttp import web

import gai
from gai.models import ScriptedModel
from gai.ui.agui import AGUIRequestError, agui_messages, agui_stream
from tests.ui._node import run_script
from tests.ui.conftest import Serve
from tests.ui.test_vercel import two_cities, weather


def agui_app(model: gai.Model) -> web.Application:
    """An AG-UI endpoint as the README shows it."""

    async def run(request: web.Request) -> web.StreamResponse:
        input = RunAgentInput.model_validate(await request.json())
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        stream = gai.stream_text(
            model, messages=agui_messages(input), tools=[weather], stop_when=gai.MaxSteps(5)
        )
        async with stream:
            async for event in agui_stream(stream, input, state={"unit": "celsius"}):
                await response.write(event.encode())
        return response

    app = web.Application()
    app.router.add_post("/agent", run)
    return app


@pytest.fixture
def serve(serve_app: Serve) -> Callable[[gai.Model], Awaitable[str]]:
    async def start(model: gai.Model) -> str:
        return await serve_app(agui_app(model)) + "/agent"

    return start


def user(text: str, id: str) -> dict[str, Any]:
    return {"id": id, "role": "user", "content": text}


async def test_http_agent_rebuilds_the_conversation_with_tool_calls_and_results(
    serve: Callable[[gai.Model], Awaitable[str]],
) -> None:
    model = two_cities()
    url = await serve(model)
    got = await run_script("agui_run.mjs", url, json.dumps([user("Weather?", "u1")]))
    assert got["error"] is None
    assert got["state"] == {"unit": "celsius"}
    types = got["types"]
    assert types[0] == "RUN_STARTED"
    assert types[-1] == "RUN_FINISHED"
    assert "TOOL_CALL_ARGS" in types
    assert "REASONING_MESSAGE_CONTENT" in types
    messages = got["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["user", "reasoning", "assistant", "tool", "tool", "assistant"]
    calls = messages[2]["toolCalls"]
    assert [c["id"] for c in calls] == ["c1", "c2"]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"city": "Paris"},
        {"city": "Oslo"},
    ]
    assert [m["content"] for m in messages[3:5]] == ["sunny in Paris", "snowy in Oslo"]
    assert [m["toolCallId"] for m in messages[3:5]] == ["c1", "c2"]
    assert messages[5]["content"] == "Paris is sunny and Oslo is snowy."
    assert got["result"]["result"] == "Paris is sunny and Oslo is snowy."

    # The next run posts the conversation back: gai reads the calls and their results.
    history = [*messages, user("Thanks!", "u2")]
    again = await run_script("agui_run.mjs", url, json.dumps(history))
    assert again["messages"][-1]["content"] == "You are welcome."
    sent = model.requests[-1].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "assistant", "user"]
    assert [r.content for r in sent[2].tool_results] == ["sunny in Paris", "snowy in Oslo"]


async def test_a_failed_run_is_a_run_error_the_client_reports(
    serve: Callable[[gai.Model], Awaitable[str]],
) -> None:
    url = await serve(ScriptedModel([]))
    got = await run_script("agui_run.mjs", url, json.dumps([user("Hi", "u1")]))
    assert got["types"][-1] == "RUN_ERROR"
    assert "no response left" in got["runError"]


def test_inputs_gai_cannot_read_are_refused_with_the_reason() -> None:
    orphan = RunAgentInput.model_validate(
        {
            "threadId": "t", "runId": "r", "state": None, "tools": [], "context": [],
            "forwardedProps": None,
            "messages": [{"id": "m1", "role": "tool", "content": "x", "toolCallId": "c9"}],
        }
    )  # fmt: skip
    with pytest.raises(AGUIRequestError, match="no earlier assistant message made"):
        agui_messages(orphan)
