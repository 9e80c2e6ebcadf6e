from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

import gai
from gai import MaxSteps, tool
from gai.providers.ollama import Ollama
from tests.providers.conftest import StartReplay


def model_for(server, name: str) -> Ollama:
    return Ollama(name, base_url=server.url(""))


async def test_plain_chat(replay: StartReplay):
    server = await replay("ollama/chat_nonstream_text.yaml")
    recorded = server.exchanges[0].response_json
    async with model_for(server, "llama3") as model:
        result = await gai.generate_text(model, prompt="Tell me a joke about OpenTelemetry")
    assert result.text == recorded["message"]["content"]
    assert result.usage == gai.Usage(input_tokens=17, output_tokens=66)
    assert result.steps[0].finish_reason == "stop"
    sent = server.received[0]
    assert sent.path == "/api/chat"
    assert sent.json["messages"] == server.exchanges[0].request_json["messages"]
    assert sent.json["stream"] is False


async def test_tool_result_follow_up_request_shape(replay: StartReplay):
    server = await replay("ollama/chat_tool_result_followup.yaml")
    recorded = server.exchanges[0].request_json
    messages = (
        gai.Message(
            role="assistant",
            parts=(
                gai.types.ToolCallPart(
                    call_id="c1",
                    name="get_current_weather",
                    arguments={"location": "San Francisco"},
                ),
            ),
        ),
        gai.Message(
            role="tool",
            parts=(
                gai.types.ToolResultPart(
                    call_id="c1",
                    name="get_current_weather",
                    content="The weather in San Francisco is 70 degrees and sunny.",
                ),
            ),
        ),
    )
    async with model_for(server, "llama3.1") as model:
        response = await model.generate(gai.ModelRequest(messages=messages))
    sent = server.received[0].json["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        (m["role"], m["content"]) for m in recorded["messages"]
    ]
    assert sent[0]["tool_calls"] == recorded["messages"][0]["tool_calls"]
    assert response.text.startswith("This is a simple example")


async def test_streamed_text_with_options(replay: StartReplay):
    server = await replay("ollama/chat_stream_text.httprr")
    async with model_for(server, "gemma3:1b") as model:
        async with gai.stream_text(
            model, prompt="Count from 1 to 5", settings={"max_tokens": 50, "temperature": 0}
        ) as stream:
            pieces = [t async for t in stream.text_stream]
    assert len(pieces) > 5
    assert "".join(pieces) == stream.result.text
    assert "1" in stream.result.text
    assert stream.result.steps[0].finish_reason == "stop"
    assert stream.result.usage.output_tokens > 0
    assert server.received[0].json["options"] == {"num_predict": 50, "temperature": 0}


async def test_cloud_stream_with_thinking_keeps_thinking_out_of_the_text(replay: StartReplay):
    server = await replay("ollama/cloud_chat_stream_thinking.httprr")
    async with model_for(server, "gpt-oss:120b") as model:
        async with gai.stream_text(model, prompt="Count from 1 to 5") as stream:
            text = "".join([t async for t in stream.text_stream])
    assert text
    assert "User asks" not in text


async def test_model_without_tool_support_is_an_invalid_request(replay: StartReplay):
    server = await replay("ollama/error_400_model_does_not_support_tools.httprr")

    @tool
    def getTime() -> str:
        """Get the current time."""
        return "noon"

    async with model_for(server, "gemma3:1b") as model:
        with pytest.raises(gai.errors.InvalidRequestError, match="does not support tools") as info:
            await gai.generate_text(
                model, prompt="Which date do we have today?", tools=[getTime], stop_when=MaxSteps(2)
            )
    assert info.value.status == 400
    sent = server.received[0].json
    assert sent["tools"][0]["function"]["name"] == "getTime"


async def test_tool_calls_in_a_stream_and_a_full_run():
    """Ollama streams tool calls whole; a scripted loopback server stands in for it."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    lines = [
        b'{"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"add","arguments":{"a":2,"b":3}}},{"function":{"name":"add","arguments":{"a":1,"b":1}}}]},"done":false}\n',
        b'{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":10,"eval_count":5}\n',
    ]
    final = b'{"model":"llama3.2","message":{"role":"assistant","content":"5 and 2"},"done":true,"done_reason":"stop","prompt_eval_count":20,"eval_count":4}\n'
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
        await response.prepare(request)
        for line in lines if len(seen) == 1 else [final]:
            await response.write(line)
        return response

    @tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    app = web.Application()
    app.router.add_post("/api/chat", handler)
    async with (
        TestServer(app) as server,
        Ollama("llama3.2", base_url=str(server.make_url(""))) as model,
    ):
        async with gai.stream_text(
            model, prompt="add", tools=[add], stop_when=MaxSteps(3)
        ) as stream:
            async for _ in stream:
                pass
    result = stream.result
    assert [r.output for r in result.steps[0].tool_results] == [5, 2]
    assert result.steps[0].finish_reason == "tool_calls"
    assert result.text == "5 and 2"
    follow_up = seen[1]["messages"]
    assert [m["role"] for m in follow_up] == ["user", "assistant", "tool", "tool"]
    assert follow_up[2] == {"role": "tool", "content": "5", "tool_name": "add"}


def test_images_must_be_inline(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OLLAMA_HOST", "box:11434")
    model = Ollama("llava")
    assert model._http.base_url == "http://box:11434"
    inline = gai.types.ImageURL.from_bytes(b"\x89PNG", "image/png")
    body = model.payload(
        gai.ModelRequest(
            messages=(gai.Message(role="user", parts=(gai.Text(text="what"), inline)),)
        ),
        stream=False,
    )
    assert orjson.loads(orjson.dumps(body))["messages"][0]["images"] == ["iVBORw=="]
    with pytest.raises(gai.UserError, match="Ollama takes images only, inline"):
        model.payload(
            gai.ModelRequest(messages=(gai.user("what", "https://x.test/a.png"),)), stream=False
        )


async def test_plain_and_streamed_calls_agree_on_the_finish_reason():
    """Ollama says done_reason "stop" for a response with tool calls, streamed or not."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    answer = {
        "model": "llama3.2",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "add", "arguments": '{"a": 2}'}}],
        },
        "done": True,
        "done_reason": "stop",
    }

    async def handler(request: web.Request) -> web.StreamResponse:
        if (await request.json())["stream"]:
            return web.Response(body=json.dumps(answer) + "\n")
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/api/chat", handler)
    async with (
        TestServer(app) as server,
        Ollama("llama3.2", base_url=str(server.make_url(""))) as model,
    ):
        request = gai.ModelRequest(messages=(gai.user("add"),))
        plain = await model.generate(request)
        streamed = gai.providers.StreamAssembler("ollama")
        async for chunk in model.stream(request):
            streamed.add(chunk)
    assert plain.finish_reason == streamed.response().finish_reason == "tool_calls"
    assert plain.tool_calls[0].arguments == {"a": 2}
