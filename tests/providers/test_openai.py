from __future__ import annotations

import json
from typing import Any

import pytest

import gai
from gai import MaxSteps, tool
from gai.providers.openai import OpenAI
from tests.providers.conftest import StartReplay


def model_for(server, name: str = "gpt-4o-mini", **kw: Any) -> OpenAI:
    return OpenAI(name, api_key="sk-test", base_url=server.url("/v1"), **kw)


def normalise(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts of chat messages that matter, with JSON arguments decoded."""
    out = []
    for m in messages:
        entry: dict[str, Any] = {"role": m["role"], "content": m.get("content")}
        if m.get("tool_calls"):
            entry["tool_calls"] = [
                (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in m["tool_calls"]
            ]
        if "tool_call_id" in m:
            entry["tool_call_id"] = m["tool_call_id"]
        out.append(entry)
    return out


def tools_shape(tools: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (t["function"]["name"], t["function"]["description"], t["function"]["parameters"])
        for t in tools
    ]


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 22C in {city}"


@tool
def get_current_weather(location: str) -> str:
    """Get the current weather in a given location

    Args:
        location: The city and state, e.g. Boston, MA
    """
    return {"Seattle, WA": "50 degrees and raining", "San Francisco, CA": "70 degrees and sunny"}[
        location
    ]


async def test_text_basic(replay: StartReplay):
    server = await replay("openai_chat/text_basic.yaml")
    recorded = server.exchanges[0]
    async with model_for(server) as model:
        result = await gai.generate_text(
            model, messages=[gai.user(m["content"]) for m in recorded.request_json["messages"]]
        )
    expected = recorded.response_json
    assert result.text == expected["choices"][0]["message"]["content"]
    assert result.steps[0].finish_reason == "stop"
    assert result.usage.input_tokens == expected["usage"]["prompt_tokens"]
    assert result.usage.output_tokens == expected["usage"]["completion_tokens"]
    assert result.steps[0].response_model == expected["model"]
    assert result.steps[0].model == "openai:gpt-4o-mini"
    sent = server.received[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert normalise(sent.json["messages"]) == normalise(recorded.request_json["messages"])
    assert sent.json["model"] == "gpt-4o-mini"


async def test_single_tool_call_then_result_follow_up(replay: StartReplay):
    server = await replay("openai_chat/tool_call_single_with_result.yaml")
    async with model_for(server, "gpt-5-mini") as model:
        result = await gai.generate_text(
            model, prompt="What's the weather in Paris?", tools=[get_weather], stop_when=MaxSteps(5)
        )
    first, second = result.steps
    assert first.tool_calls[0].call_id == "call_aDdJTteHrpMdhdkEkyxjxEHH"
    assert first.tool_calls[0].arguments == {"city": "Paris"}
    assert first.tool_results[0].output == "Sunny, 22C in Paris"
    assert second.text.startswith("It's sunny in Paris")
    assert second.usage.reasoning_tokens == 128
    assert result.usage.total_tokens == 155 + 338
    for sent, recorded in zip(server.received, server.exchanges, strict=True):
        assert normalise(sent.json["messages"]) == normalise(recorded.request_json["messages"])
        assert tools_shape(sent.json["tools"]) == tools_shape(recorded.request_json["tools"])
        assert sent.json["tool_choice"] == recorded.request_json["tool_choice"]


async def test_parallel_tool_calls_and_their_results(replay: StartReplay):
    server = await replay("openai_chat/tool_calls_parallel_with_results.yaml")
    async with model_for(server) as model:
        result = await gai.generate_text(
            model,
            system="You're a helpful assistant.",
            prompt="What's the weather in Seattle and San Francisco today?",
            tools=[get_current_weather],
            stop_when=MaxSteps(3),
        )
    assert [c.arguments["location"] for c in result.steps[0].tool_calls] == [
        "Seattle, WA",
        "San Francisco, CA",
    ]
    assert "70 degrees and sunny" in result.text
    ours, recorded = server.received[1].json, server.exchanges[1].request_json
    assert normalise(ours["messages"]) == normalise(recorded["messages"])
    assert tools_shape(server.received[0].json["tools"]) == tools_shape(
        server.exchanges[0].request_json["tools"]
    )


async def test_streamed_text_with_usage(replay: StartReplay):
    server = await replay("openai_chat/stream_text_with_usage.yaml")
    recorded = server.exchanges[0]
    chunks = recorded.sse_data()
    expected_text = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
    )
    async with (
        model_for(server) as model,
        gai.stream_text(
            model, messages=[gai.user(m["content"]) for m in recorded.request_json["messages"]]
        ) as stream,
    ):
        pieces = [t async for t in stream.text_stream]
    assert "".join(pieces) == expected_text
    assert len(pieces) > 1
    usage = chunks[-1]["usage"]
    assert stream.result.usage.input_tokens == usage["prompt_tokens"]
    assert stream.result.usage.output_tokens == usage["completion_tokens"]
    sent = server.received[0].json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_streamed_parallel_tool_calls_assemble_exactly(replay: StartReplay):
    server = await replay("openai_chat/stream_tool_calls_parallel.yaml")
    recorded = server.exchanges[0].request_json
    async with (
        model_for(server) as model,
        gai.stream_text(
            model,
            messages=[
                gai.system(recorded["messages"][0]["content"]),
                gai.user(recorded["messages"][1]["content"]),
            ],
            tools=[get_current_weather],
        ) as stream,
    ):
        events = [e async for e in stream]
    started = [e for e in events if isinstance(e, gai.types.ToolCallStarted)]
    assert [e.index for e in started] == [0, 1]
    calls = stream.result.steps[0].tool_calls
    assert [c.arguments for c in calls] == [
        {"location": "Seattle, WA"},
        {"location": "San Francisco, CA"},
    ]
    assert stream.result.steps[0].finish_reason == "tool_calls"
    assert [r.output for r in stream.result.steps[0].tool_results] == [
        "50 degrees and raining",
        "70 degrees and sunny",
    ]


@tool(strict=True, description="")  # as recorded: the request sent no description
def get_capital(country: str) -> str:
    return {"UK": "London"}[country]


async def test_streamed_tool_call_then_streamed_follow_up(replay: StartReplay):
    server = await replay("openai_chat/stream_tool_call_with_followup.yaml")
    async with (
        model_for(server) as model,
        gai.stream_text(
            model,
            prompt="What is the capital of the UK? Use the tool, then answer.",
            tools=[get_capital],
            stop_when=MaxSteps(3),
        ) as stream,
    ):
        texts = [x async for x in stream.text_stream]
    result = stream.result
    assert len(result.steps) == 2
    assert result.steps[0].tool_calls[0].arguments == {"country": "UK"}
    assert "".join(texts) == result.text
    assert "London" in result.text
    for sent, recorded in zip(server.received, server.exchanges, strict=True):
        assert normalise(sent.json["messages"]) == normalise(recorded.request_json["messages"])
        assert sent.json["tools"] == recorded.request_json["tools"]


@pytest.mark.parametrize(
    ("fixture", "error", "status", "retryable"),
    [
        ("openai_chat/error_401_invalid_api_key.yaml", gai.errors.AuthenticationError, 401, False),
        ("openai_chat/error_404_model_not_found.yaml", gai.errors.NotFoundError, 404, False),
        (
            "openai_chat/error_400_unsupported_value.yaml",
            gai.errors.InvalidRequestError,
            400,
            False,
        ),
        ("openai_chat/compat_openrouter_429_upstream.yaml", gai.errors.RateLimitError, 429, True),
    ],
)
async def test_http_errors_map_to_typed_errors(
    replay: StartReplay, fixture, error, status, retryable
):
    server = await replay(fixture)
    async with model_for(server) as model:
        with pytest.raises(error) as info:
            await gai.generate_text(model, prompt="hi", retry=False)
    err = info.value
    assert err.status == status
    assert err.retryable is retryable
    assert err.provider == "openai"
    recorded = server.exchanges[0].response_json
    message = recorded["error"]["message"]
    assert err.message == message
    assert "sk-test" not in str(err)


async def test_openrouter_stream_then_rate_limit_with_retry_headers(replay: StartReplay):
    server = await replay("openai_chat/compat_openrouter_stream_then_429.httprr")
    async with model_for(server, provider="openrouter") as model:
        async with gai.stream_text(model, prompt="Say exactly 'test response'") as stream:
            text = "".join([t async for t in stream.text_stream])
        assert text.strip().strip(".").lower().startswith("test response")
        with pytest.raises(gai.errors.RateLimitError) as info:
            await gai.generate_text(model, prompt="again", retry=False)
    assert info.value.status == 429
    assert info.value.retryable


async def test_groq_tool_use_failed_goes_back_to_the_model(replay: StartReplay):
    """Groq refuses a malformed tool call with 400 `tool_use_failed`; the model is told
    what was wrong, as for any invalid arguments, and corrects itself (recorded)."""
    server = await replay("openai_chat/compat_groq_400_tool_use_failed.yaml")

    @gai.tool
    def get_something_by_name(name: str) -> str:
        """Get something by name."""
        return f"Something with name: {name}"

    async with model_for(server, "openai/gpt-oss-120b", provider="groq") as model:
        result = await gai.generate_text(
            model, prompt="x", tools=[get_something_by_name], stop_when=gai.MaxSteps(5)
        )
    first, second, last = result.steps
    assert first.tool_calls[0].arguments == {"foo": "bar"}
    assert first.tool_results[0].error is not None
    assert "name" in first.tool_results[0].error
    assert second.tool_results[0].output == "Something with name: test"
    assert "second call succeeded" in last.text
    resent = server.received[1].json["messages"]
    assert resent[-2]["tool_calls"][0]["function"] == {
        "name": "get_something_by_name",
        "arguments": '{"foo":"bar"}',
    }
    assert resent[-1]["role"] == "tool"


async def test_tool_use_failed_without_a_tool_name_is_raised():
    from gai.providers._http import error_for_status
    from gai.providers.openai import _failed_tool_calls

    body = b'{"error": {"code": "tool_use_failed", "message": "bad", "failed_generation": "oops"}}'
    error = error_for_status("groq", 400, {}, body)
    assert isinstance(error, gai.errors.ToolUseFailedError)
    assert error.failed_generation == "oops"
    with pytest.raises(gai.errors.ToolUseFailedError):
        _failed_tool_calls(error)
    error.failed_generation = '[{"name": "a", "arguments": "{bad"}, {"name": "b", "arguments": 3}]'
    a, b = _failed_tool_calls(error).tool_calls
    assert (a.name, a.invalid_arguments, b.name, b.invalid_arguments) == ("a", "{bad", "b", "3")


async def test_ollama_v1_compatible_server(replay: StartReplay):
    server = await replay("openai_chat/compat_ollama_v1_tool_call.yaml")
    recorded = server.exchanges
    async with model_for(
        server, recorded[0].request_json["model"], provider="ollama-openai"
    ) as model:
        first = await model.generate(gai.ModelRequest(messages=(gai.user("x"),)))
        second = await model.generate(gai.ModelRequest(messages=(gai.user("y"),)))
    assert first.text == recorded[0].response_json["choices"][0]["message"]["content"]
    call = recorded[1].response_json["choices"][0]["message"]["tool_calls"][0]
    assert second.tool_calls[0].call_id == call["id"]
    assert second.tool_calls[0].arguments == json.loads(call["function"]["arguments"])


async def test_stream_cut_off_by_max_tokens(replay: StartReplay):
    server = await replay("openai_chat/stream_finish_length.yaml")
    async with (
        model_for(server) as model,
        gai.stream_text(model, prompt="long story", settings={"max_tokens": 50}) as stream,
    ):
        async for _ in stream:
            pass
    assert stream.result.steps[0].finish_reason == "length"
    assert server.received[0].json["max_completion_tokens"] == 50


async def test_three_recorded_429s_exhaust_a_three_attempt_retry(replay: StartReplay):
    server = await replay("openai_chat/compat_openrouter_429_upstream.yaml")
    policy = gai.RetryPolicy(max_attempts=3, initial_delay=0.001, max_retry_after=0.001)
    async with model_for(server, provider="openrouter") as model:
        with pytest.raises(gai.errors.RateLimitError) as info:
            await gai.generate_text(model, prompt="hi", retry=policy)
    assert len(server.received) == 3
    assert info.value.partial_result is not None


async def test_a_server_given_by_base_url_needs_no_key(replay: StartReplay, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(gai.errors.MissingAPIKeyError, match="OPENAI_API_KEY"):
        OpenAI("gpt-4o-mini")  # api.openai.com does need one
    server = await replay("openai_chat/text_basic.yaml")
    async with OpenAI("Qwen2.5-7B-Instruct", base_url=server.url("/v1")) as local:
        result = await gai.generate_text(local, prompt="x")
    assert result.text
    assert "Authorization" not in server.received[0].headers


async def test_a_404_hints_at_a_missing_v1(replay: StartReplay):
    server = await replay("openai_chat/error_404_model_not_found.yaml")
    async with OpenAI("m", api_key="sk-test", base_url=server.url("")) as model:
        with pytest.raises(
            gai.errors.NotFoundError, match=r"serve under /v1: is base_url http.*/v1 meant"
        ):
            await gai.generate_text(model, prompt="x", retry=False)
