from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

import gai
from gai import MaxSteps, tool
from gai.providers.openai_responses import OpenAIResponses
from tests.providers.conftest import StartReplay


def model_for(server, name: str = "gpt-4o") -> OpenAIResponses:
    return OpenAIResponses(name, api_key="sk-test", base_url=server.url("/v1"))


def normalise(items: Any) -> list[tuple[Any, ...]]:
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    out: list[tuple[Any, ...]] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "function_call":
            out.append(("function_call", item["name"], json.loads(item["arguments"])))
        elif kind == "function_call_output":
            out.append(("function_call_output", item["output"]))
        else:
            out.append((item["role"], item["content"]))
    return out


@tool(strict=True, description="")  # as recorded: the request sent no description
def get_capital(country: str) -> str:
    return {"PotatoLand": "Potato City", "France": "Paris"}[country]


async def test_text_with_instructions(replay: StartReplay):
    server = await replay("openai_responses/text_basic.yaml")
    async with model_for(server, "gpt-4o-mini") as model:
        result = await gai.generate_text(
            model, system="You are a helpful assistant.", prompt="Say this is a test"
        )
    assert result.text == "This is a test."
    recorded = server.exchanges[0]
    usage = recorded.response_json["usage"]
    assert result.usage.input_tokens == usage["input_tokens"]
    assert result.usage.total_tokens == usage["total_tokens"]
    sent = server.received[0]
    assert sent.path == "/v1/responses"
    assert sent.json["instructions"] == recorded.request_json["instructions"]
    assert normalise(sent.json["input"]) == normalise(recorded.request_json["input"])


async def test_function_call_then_output(replay: StartReplay):
    server = await replay("openai_responses/function_call_with_result.yaml")
    async with model_for(server) as model:
        result = await gai.generate_text(
            model,
            prompt="What is the capital of PotatoLand?",
            tools=[get_capital],
            stop_when=MaxSteps(3),
        )
    call = result.steps[0].tool_calls[0]
    assert (call.call_id, call.arguments) == (
        "call_YfwRsW8sUxDKipwyhWTzOXCA",
        {"country": "PotatoLand"},
    )
    assert result.text == "The capital of PotatoLand is Potato City."
    for sent, recorded in zip(server.received, server.exchanges, strict=True):
        assert normalise(sent.json["input"]) == normalise(recorded.request_json["input"])
        ours, theirs = sent.json["tools"][0], recorded.request_json["tools"][0]
        assert (ours["name"], ours["parameters"], ours["strict"]) == (
            theirs["name"],
            theirs["parameters"],
            theirs["strict"],
        )
    follow_up = server.received[1].json["input"]
    assert follow_up[1]["call_id"] == follow_up[2]["call_id"] == "call_YfwRsW8sUxDKipwyhWTzOXCA"


async def test_streamed_function_call_then_streamed_text(replay: StartReplay):
    server = await replay("openai_responses/stream_function_call_with_result.yaml")
    async with model_for(server) as model:
        async with gai.stream_text(
            model,
            prompt="What is the capital of France?",
            tools=[get_capital],
            stop_when=MaxSteps(3),
        ) as stream:
            events = [e async for e in stream]
    result = stream.result
    assert result.steps[0].tool_calls[0].arguments == {"country": "France"}
    assert result.text == "The capital of France is Paris."
    assert sum(isinstance(e, gai.types.ToolCallDelta) for e in events) >= 5
    assert result.usage.total_tokens == 271 + 287
    assert normalise(server.received[1].json["input"]) == normalise(
        server.exchanges[1].request_json["input"]
    )


async def test_stream_text(replay: StartReplay):
    server = await replay("openai_responses/stream_text.yaml")
    recorded = server.exchanges[0].request_json
    async with model_for(server, recorded["model"]) as model:
        async with gai.stream_text(
            model,
            messages=[gai.user(m["content"]) for m in recorded["input"]]
            if isinstance(recorded["input"], list)
            else [gai.user(recorded["input"])],
        ) as stream:
            pieces = [t async for t in stream.text_stream]
    assert len(pieces) > 1
    assert "".join(pieces) == stream.result.text


@pytest.mark.parametrize(
    ("fixture", "error", "status"),
    [
        (
            "openai_responses/error_400_invalid_temperature.yaml",
            gai.errors.InvalidRequestError,
            400,
        ),
        ("openai_responses/error_400_model_not_found.yaml", gai.errors.InvalidRequestError, 400),
        ("openai_responses/error_401_invalid_api_key.yaml", gai.errors.AuthenticationError, 401),
    ],
)
async def test_errors(replay: StartReplay, fixture, error, status):
    server = await replay(fixture)
    async with model_for(server) as model:
        with pytest.raises(error) as info:
            await gai.generate_text(model, prompt="hi", settings={"temperature": -1})
    assert info.value.status == status
    assert info.value.message == server.exchanges[0].response_json["error"]["message"]


def test_incomplete_response_is_length():
    model = OpenAIResponses("m", api_key="k")
    response = model.parse_response(
        {
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "output": [
                {"type": "message", "content": [{"type": "output_text", "text": "Once upon"}]}
            ],
        }
    )
    assert (response.text, response.finish_reason) == ("Once upon", "length")
    payload = model.payload(
        gai.ModelRequest(
            messages=(gai.user("x", "https://x.test/i.png"),),
            tools=(gai.types.ToolDefinition(name="f"),),
            tool_choice="f",
            settings={"max_tokens": 5, "stop": "x"},
        ),
        stream=False,
    )
    body = orjson.loads(orjson.dumps(payload))
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert body["max_output_tokens"] == 5
    assert "stop" not in body
    assert body["input"][0]["content"][1] == {
        "type": "input_image",
        "image_url": "https://x.test/i.png",
    }
