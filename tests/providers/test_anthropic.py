from __future__ import annotations

from typing import Any

import orjson
import pytest

import gai
from gai import MaxSteps, tool
from gai.providers import StreamAssembler
from gai.providers.anthropic import Anthropic
from tests.providers.conftest import StartReplay


def model_for(server, name: str = "claude-sonnet-4-5", **kw: Any) -> Anthropic:
    return Anthropic(name, api_key="sk-ant-test", base_url=server.url(""), **kw)


def blocks(content: Any) -> list[tuple[Any, ...]]:
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    out: list[tuple[Any, ...]] = []
    for b in content:
        if b["type"] == "text":
            out.append(("text", b["text"]))
        elif b["type"] == "tool_use":
            out.append(("tool_use", b["id"], b["name"], b["input"]))
        elif b["type"] == "tool_result":
            out.append(("tool_result", b["tool_use_id"], b["content"], b.get("is_error", False)))
    return out


def normalise(messages: list[dict[str, Any]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    return [(m["role"], blocks(m["content"])) for m in messages]


def tools_shape(tools: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    return [(t["name"], t["description"], sorted(t["input_schema"]["properties"])) for t in tools]


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 22C in {city}"


FAMILY = {
    "Alice": "alice is bob's wife",
    "Bob": "bob is alice's husband",
    "Charlie": "charlie is alice's son",
    "Daisy": "daisy is bob's daughter and charlie's younger sister",
}


@tool
def retrieve_entity_info(name: str) -> str:
    """Get the knowledge about the given entity."""
    return FAMILY[name]


async def test_text_with_system_prompt(replay: StartReplay):
    server = await replay("anthropic/text_basic.yaml")
    async with model_for(server, "claude-3-opus-latest") as model:
        result = await gai.generate_text(
            model,
            system="You are a helpful assistant.\n\n",
            prompt="What is the capital of France?",
        )
    assert result.text == "The capital of France is Paris."
    assert result.usage == gai.Usage(input_tokens=20, output_tokens=10)
    sent, recorded = server.received[0], server.exchanges[0].request_json
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-test"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json["system"] == recorded["system"]
    assert sent.json["max_tokens"] == recorded["max_tokens"]
    assert normalise(sent.json["messages"]) == normalise(recorded["messages"])


async def test_single_tool_call_with_result(replay: StartReplay):
    server = await replay("anthropic/tool_call_single_with_result.yaml")
    async with model_for(server) as model:
        result = await gai.generate_text(
            model, prompt="What's the weather in Paris?", tools=[get_weather], stop_when=MaxSteps(4)
        )
    assert result.steps[0].tool_calls[0].call_id == "toolu_01WN4AuToBnJyXNQXwQBBebj"
    assert result.steps[0].finish_reason == "tool_calls"
    assert result.text.startswith("The weather in Paris is currently sunny")
    for sent, recorded in zip(server.received, server.exchanges, strict=True):
        body = recorded.request_json
        assert normalise(sent.json["messages"]) == normalise(body["messages"])
        assert sent.json["tool_choice"] == body["tool_choice"]
        assert tools_shape(sent.json["tools"]) == tools_shape(body["tools"])
        assert sent.json["tools"][0]["input_schema"] == body["tools"][0]["input_schema"]


async def test_four_parallel_tool_calls_in_one_step(replay: StartReplay):
    server = await replay("anthropic/tool_calls_parallel_with_results.yaml")
    system = server.exchanges[0].request_json["system"]
    async with model_for(server, "claude-haiku-4-5") as model:
        result = await gai.generate_text(
            model,
            system=system,
            prompt="Alice, Bob, Charlie and Daisy are a family. Who is the youngest?",
            tools=[retrieve_entity_info],
            stop_when=MaxSteps(3),
        )
    step = result.steps[0]
    assert [c.arguments["name"] for c in step.tool_calls] == ["Alice", "Bob", "Charlie", "Daisy"]
    assert step.text.startswith("I'll help you find out")
    assert "Daisy is the youngest" in result.text
    assert normalise(server.received[1].json["messages"]) == normalise(
        server.exchanges[1].request_json["messages"]
    )


SECRETS = {"mellon": "Welcome to Moria!", "radiance": "Life before Death"}


@tool
def secret_retrieval_tool(password: str) -> str:
    """A tool that requires a password to retrieve a secret."""
    return SECRETS[password]


async def test_streamed_parallel_tool_calls_then_streamed_answer(replay: StartReplay):
    server = await replay("anthropic/stream_tool_calls_parallel_with_results.yaml")
    async with model_for(server, "claude-sonnet-4-0") as model:
        async with gai.stream_text(
            model,
            system="Use parallel tool calling.",
            prompt="Please retrieve the secrets associated with each of these passwords: mellon,radiance",
            tools=[secret_retrieval_tool],
            stop_when=MaxSteps(3),
        ) as stream:
            events = [e async for e in stream]
    result = stream.result
    calls = result.steps[0].tool_calls
    assert [c.arguments for c in calls] == [{"password": "mellon"}, {"password": "radiance"}]
    assert [c.call_id for c in calls] == [
        "toolu_015cUijgET79LXjgeYQerN2h",
        "toolu_01XZTimPexA7h3EVKesnKt5T",
    ]
    deltas = [e for e in events if isinstance(e, gai.types.ToolCallDelta)]
    assert {d.index for d in deltas} == {1, 2}
    assert result.steps[0].text == "I'll retrieve the secrets for both passwords you provided."
    assert result.steps[1].text
    assert result.steps[0].usage.input_tokens > 0
    assert normalise(server.received[1].json["messages"]) == normalise(
        server.exchanges[1].request_json["messages"]
    )


async def test_stream_text_interleaved_with_tool_use_blocks(replay: StartReplay):
    server = await replay("anthropic/stream_text_and_tool_calls_parallel.yaml")
    async with model_for(server, "claude-3-5-sonnet-20240620") as model:
        response = None
        assembler = StreamAssembler("anthropic")
        async for chunk in model.stream(
            gai.ModelRequest(messages=(gai.user("weather and time?"),))
        ):
            assembler.add(chunk)
        response = assembler.response()
    assert [c.name for c in response.tool_calls] == ["get_weather", "get_time"]
    assert response.tool_calls[0].arguments["location"].startswith("San Francisco")
    assert response.text.startswith("Certainly! I can")
    assert response.finish_reason == "tool_calls"


async def test_stream_max_tokens_and_thinking(replay: StartReplay):
    server = await replay("anthropic/stream_max_tokens.yaml")
    async with (
        model_for(server, "claude-sonnet-4-0") as model,
        gai.stream_text(
            model, prompt="List all U.S. states.", settings={"max_tokens": 50}
        ) as stream,
    ):
        text = "".join([t async for t in stream.text_stream])
    assert stream.result.steps[0].finish_reason == "length"
    assert stream.result.usage.output_tokens == 50
    assert text
    assert server.received[0].json["max_tokens"] == 50

    server = await replay("anthropic/stream_thinking.yaml")
    async with model_for(server, "claude-sonnet-4-0") as model:
        settings = {"thinking": {"budget_tokens": 1024, "type": "enabled"}}
        async with gai.stream_text(
            model, prompt="How do I cross the street?", settings=settings
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
    assert text == stream.result.text
    assert text  # thinking deltas are not mixed into the answer
    assert server.received[0].json["thinking"] == settings["thinking"]


@pytest.mark.parametrize(
    ("fixture", "error", "status"),
    [
        ("anthropic/error_400_invalid_request_shape.yaml", gai.errors.InvalidRequestError, 400),
        ("anthropic/error_401_authentication.yaml", gai.errors.AuthenticationError, 401),
        ("anthropic/error_404_not_found_model.yaml", gai.errors.NotFoundError, 404),
    ],
)
async def test_errors(replay: StartReplay, fixture, error, status):
    server = await replay(fixture)
    async with model_for(server) as model:
        with pytest.raises(error) as info:
            await gai.generate_text(model, prompt="hello")
    assert info.value.status == status
    assert info.value.message == server.exchanges[0].response_json["error"]["message"]
    assert info.value.retryable is False
    assert "sk-ant-test" not in str(info.value)


def test_missing_key_and_request_mapping():
    with pytest.raises(gai.errors.MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        Anthropic("claude")
    model = Anthropic("claude", api_key="k")
    request = gai.ModelRequest(
        messages=(
            gai.user("look", "data:image/png;base64,iVBORw0KGgo=", "https://x.test/cat.jpg"),
        ),
        tools=(gai.types.ToolDefinition(name="f"),),
        tool_choice="required",
        settings={"stop": "END", "seed": 3, "temperature": 0.2, "metadata": {"user_id": "u"}},
    )
    body = orjson.loads(orjson.dumps(model.payload(request, stream=False)))
    content = body["messages"][0]["content"]
    assert content[1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": "iVBORw0KGgo=",
    }
    assert content[2]["source"] == {"type": "url", "url": "https://x.test/cat.jpg"}
    assert body["tool_choice"] == {"type": "any"}
    assert body["stop_sequences"] == ["END"]
    assert "seed" not in body
    assert body["metadata"] == {"user_id": "u"}
    assert Anthropic("c", api_key="k").payload(
        gai.ModelRequest(
            messages=(gai.user("x"),), tools=(gai.types.ToolDefinition(name="f"),), tool_choice="f"
        ),
        stream=True,
    )["tool_choice"] == {"type": "tool", "name": "f"}
