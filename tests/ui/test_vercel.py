"""The Vercel AI SDK UI message stream, read by the `ai` package's own client code."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import gai
from gai.models import ScriptedModel
from gai.types import Reasoning
from gai.ui import VERCEL_STREAM_HEADERS, VercelRequestError, vercel_messages, vercel_stream
from tests.ui._node import run_script
from tests.ui.conftest import Serve


@gai.tool
async def weather(city: str) -> str:
    """The weather in a city."""
    if city == "Atlantis":
        raise ValueError("no weather station under the sea")
    return {"Paris": "sunny", "Oslo": "snowy"}.get(city, "cloudy") + f" in {city}"


def chat_app(model: gai.Model) -> web.Application:
    """A chat endpoint as the README shows it."""

    async def chat(request: web.Request) -> web.StreamResponse:
        messages = vercel_messages(await request.json())
        response = web.StreamResponse(headers=VERCEL_STREAM_HEADERS)
        await response.prepare(request)
        run = gai.stream_text(model, messages=messages, tools=[weather], stop_when=gai.MaxSteps(5))
        async with run as stream:
            async for event in vercel_stream(stream):
                await response.write(event.encode())
        return response

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    return app


@pytest.fixture
def serve(serve_app: Serve) -> Callable[[gai.Model], Awaitable[str]]:
    async def start(model: gai.Model) -> str:
        return await serve_app(chat_app(model)) + "/api/chat"

    return start


def user_message(text: str, id: str = "u1") -> dict[str, Any]:
    return {"id": id, "role": "user", "parts": [{"type": "text", "text": text}]}


def two_cities() -> ScriptedModel:
    return ScriptedModel(
        [
            gai.ModelResponse(
                reasoning=(Reasoning(text="I should look up both cities at once."),),
                tool_calls=(
                    gai.ToolCall(call_id="c1", name="weather", arguments={"city": "Paris"}),
                    gai.ToolCall(call_id="c2", name="weather", arguments={"city": "Oslo"}),
                ),
                finish_reason="tool_calls",
            ),
            "Paris is sunny and Oslo is snowy.",
            "You are welcome.",
        ]
    )


async def test_use_chat_rebuilds_reasoning_tool_calls_and_text_over_two_steps(
    serve: Callable[[gai.Model], Awaitable[str]],
) -> None:
    model = two_cities()
    url = await serve(model)
    got = await run_script("vercel_chat.mjs", url, json.dumps([user_message("Weather?")]))
    assert got["errors"] == []
    message = got["message"]
    assert message["role"] == "assistant"
    kinds = [part["type"] for part in message["parts"]]
    assert kinds == [
        "step-start", "reasoning", "tool-weather", "tool-weather", "step-start", "text"
    ]  # fmt: skip
    reasoning, paris, oslo, text = (p for p in message["parts"] if p["type"] != "step-start")
    assert reasoning["text"] == "I should look up both cities at once."
    assert reasoning["state"] == "done"
    assert (paris["toolCallId"], paris["state"]) == ("c1", "output-available")
    assert paris["input"] == {"city": "Paris"}
    assert paris["output"] == "sunny in Paris"
    assert (oslo["input"], oslo["output"]) == ({"city": "Oslo"}, "snowy in Oslo")
    assert text == {"type": "text", "text": "Paris is sunny and Oslo is snowy.", "state": "done"}
    metadata = message["metadata"]
    assert metadata["runId"] == message["id"]
    assert metadata["usage"]["totalTokens"] > 0
    assert metadata["stopReason"] == "no_more_tools"
    # The inputs streamed before they were complete, as a provider streams them.
    assert "tool-input-delta" in got["chunks"]
    assert got["chunks"][0] == "start"
    assert got["chunks"][-1] == "finish"

    # The next turn posts the whole conversation back; gai reads it as the model's
    # own transcript: the calls, their results, then the new question.
    history = [user_message("Weather?"), message, user_message("Thanks!", "u2")]
    again = await run_script("vercel_chat.mjs", url, json.dumps(history))
    assert again["message"]["parts"][-1]["text"] == "You are welcome."
    sent = model.requests[-1].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "assistant", "user"]
    assert [c.arguments for c in sent[1].tool_calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert [r.content for r in sent[2].tool_results] == ["sunny in Paris", "snowy in Oslo"]
    assert sent[3].text == "Paris is sunny and Oslo is snowy."
    assert sent[4].text == "Thanks!"


async def test_a_failing_tool_is_an_output_error_and_a_failing_run_an_error(
    serve: Callable[[gai.Model], Awaitable[str]],
) -> None:
    model = ScriptedModel(
        [
            gai.ModelResponse(
                tool_calls=(
                    gai.ToolCall(call_id="c1", name="weather", arguments={"city": "Atlantis"}),
                ),
                finish_reason="tool_calls",
            ),
            # No answer left: the run fails after its first step.
        ]
    )
    url = await serve(model)
    got = await run_script("vercel_chat.mjs", url, json.dumps([user_message("Atlantis?")]))
    (tool,) = [p for p in got["message"]["parts"] if p["type"] == "tool-weather"]
    assert tool["state"] == "output-error"
    assert "no weather station under the sea" in tool["errorText"]
    assert got["chunks"][-1] == "error"
    assert "no response left" in got["errors"][0]


def test_requests_that_use_chat_would_not_send_are_refused_with_what_to_send() -> None:
    with pytest.raises(VercelRequestError, match="no `messages` list"):
        vercel_messages({"prompt": "hi"})
    with pytest.raises(VercelRequestError, match=r"messages\[0\] has role 'robot'"):
        vercel_messages([{"role": "robot", "parts": []}])
    pending = {
        "role": "assistant",
        "parts": [{"type": "tool-weather", "toolCallId": "c9", "state": "input-available"}],
    }
    with pytest.raises(VercelRequestError, match="has no result"):
        vercel_messages([user_message("x"), pending])
    with pytest.raises(VercelRequestError, match="not base64"):
        vercel_messages(
            [{"role": "user", "parts": [{"type": "file", "url": "data:text/plain,hi",
                                          "mediaType": "text/plain"}]}]
        )  # fmt: skip


def test_files_a_user_attached_reach_the_model() -> None:
    (message,) = vercel_messages(
        [
            {
                "role": "user",
                "parts": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "file", "url": "data:application/pdf;base64,JVBERi0=",
                     "mediaType": "application/pdf", "filename": "a.pdf"},
                    {"type": "file", "url": "https://example.com/cat.png",
                     "mediaType": "image/png"},
                ],
            }
        ]
    )  # fmt: skip
    _text, pdf, image = message.parts
    assert isinstance(pdf, gai.types.File)
    assert pdf.data == "JVBERi0="
    assert pdf.filename == "a.pdf"
    assert isinstance(image, gai.types.ImageURL)
    assert image.url == "https://example.com/cat.png"
