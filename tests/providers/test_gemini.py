from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

import gai
from gai import MaxSteps, tool
from gai.providers import StreamAssembler
from gai.providers.gemini import Gemini
from tests.providers.conftest import StartReplay
from tests.support.recordings import load
from tests.support.replay import ReplayServer


def model_for(server, name: str = "gemini-2.5-flash") -> Gemini:
    return Gemini(name, api_key="goog-test", base_url=server.url(""))


def sig(value: str | None) -> str | None:
    # The recorder re-encoded signatures URL-safe; compare the bytes they stand for.
    return None if value is None else value.replace("-", "+").replace("_", "/")


def normalise(contents: list[dict[str, Any]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    out = []
    for c in contents:
        parts: list[tuple[Any, ...]] = []
        for p in c["parts"]:
            if "text" in p:
                parts.append(("text", p["text"]))
            elif "functionCall" in p:
                fc = p["functionCall"]
                parts.append(
                    ("call", fc["name"], fc.get("args", {}), sig(p.get("thoughtSignature")))
                )
            elif "functionResponse" in p:
                fr = p["functionResponse"]
                parts.append(("response", fr["name"], list(fr["response"].values())))
        out.append((c["role"], parts))
    return out


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 22C in {city}"


async def test_text_with_system_instruction(replay: StartReplay):
    server = await replay("gemini/text_basic.yaml")
    async with model_for(server) as model:
        result = await gai.generate_text(model, system="You are a chatbot.", prompt="Hello!")
    assert result.text == "Hello! How can I help you today?"
    assert result.usage.input_tokens == 9
    assert result.usage.output_tokens == 9 + 34
    assert result.usage.reasoning_tokens == 34
    assert result.usage.total_tokens == 52
    sent, recorded = server.received[0], server.exchanges[0].request_json
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "goog-test"
    assert sent.json["systemInstruction"]["parts"] == recorded["systemInstruction"]["parts"]
    assert normalise(sent.json["contents"]) == normalise(recorded["contents"])


async def test_function_call_with_thought_signature_round_trip(replay: StartReplay):
    server = await replay("gemini/tool_call_single_with_result.yaml")
    async with model_for(server) as model:
        result = await gai.generate_text(
            model, prompt="What's the weather in Paris?", tools=[get_weather], stop_when=MaxSteps(3)
        )
    call = result.steps[0].tool_calls[0]
    assert call.arguments == {"city": "Paris"}
    assert call.provider_data is not None
    assert result.steps[0].finish_reason == "tool_calls"
    assert result.text == "The weather in Paris is sunny with a temperature of 22C."
    ours, recorded = server.received[1].json, server.exchanges[1].request_json
    assert normalise(ours["contents"]) == normalise(recorded["contents"])
    declared = ours["tools"][0]["functionDeclarations"][0]
    recorded_decl = recorded["tools"][0]["functionDeclarations"][0]
    assert declared["parametersJsonSchema"] == recorded_decl["parameters_json_schema"]
    assert ours["toolConfig"] == recorded["toolConfig"]


async def test_parallel_calls_over_several_rounds(replay: StartReplay):
    server = await replay("gemini/tool_calls_parallel_with_results.yaml")
    topics = itertools.cycle(["cars", "penguins", "wheels"])

    @tool
    def generate_topic() -> str:
        """Generate topic (a test tool)."""
        return next(topics)

    @tool
    def final_result(response: list[str]) -> str:
        """The final response which ends this conversation"""
        return "ok"

    system = server.exchanges[0].request_json["systemInstruction"]["parts"][0]["text"]
    async with model_for(server, "gemini-3-flash-preview") as model:
        result = await gai.generate_text(
            model,
            system=system,
            messages=[gai.Message(role="user", parts=(gai.Text(text=""),))],
            tools=[generate_topic, final_result],
            tool_choice="required",
            stop_when=gai.UntilToolSeen("final_result"),
        )
    assert len(result.steps[0].tool_calls) == 3
    assert result.steps[-1].tool_calls[0].name == "final_result"
    assert len(result.steps[-1].tool_calls[0].arguments["response"]) == 3
    assert len(server.received) == len(server.exchanges)
    for sent, recorded in zip(server.received[1:], server.exchanges[1:], strict=True):
        ours = normalise(sent.json["contents"])
        theirs = normalise(recorded.request_json["contents"])
        # the function responses carry our tool's outputs; compare the structure
        assert [(role, [p[:2] for p in parts]) for role, parts in ours] == [
            (role, [p[:2] for p in parts]) for role, parts in theirs
        ]


@tool
def secret_retrieval_tool(password: str) -> str:
    """A tool that requires a password to retrieve a secret."""
    return {"mellon": "Welcome to Moria!", "radiance": "Life before Death"}[password]


async def test_streamed_parallel_calls_then_streamed_answer(replay: StartReplay):
    server = await replay("gemini/stream_tool_calls_parallel_with_results.yaml")
    async with model_for(server) as model:
        async with gai.stream_text(
            model,
            system="Use parallel tool calling.",
            prompt="Please retrieve the secrets associated with each of these passwords: mellon,radiance",
            tools=[secret_retrieval_tool],
            stop_when=MaxSteps(3),
        ) as stream:
            texts = [t async for t in stream.text_stream]
    result = stream.result
    assert [c.arguments for c in result.steps[0].tool_calls] == [
        {"password": "mellon"},
        {"password": "radiance"},
    ]
    assert result.steps[0].finish_reason == "tool_calls"
    assert "".join(texts) == result.text
    assert "Moria" in result.text
    assert server.received[1].path.endswith(":streamGenerateContent?alt=sse")
    ours = normalise(server.received[1].json["contents"])
    theirs = normalise(server.exchanges[1].request_json["contents"])
    assert ours[:2] == theirs[:2]
    assert [p[2] for p in ours[2][1]] == [p[2] for p in theirs[2][1]]


async def test_stream_text_and_max_tokens(replay: StartReplay):
    server = await replay("gemini/stream_text.yaml")
    async with Gemini("gemini-2.0-flash-exp", api_key="k", base_url=server.url("")) as model:
        async with gai.stream_text(
            model,
            system="You are a helpful chatbot.",
            prompt="What is the capital of France?",
            settings={"temperature": 0.0},
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
    assert "Paris" in text
    assert server.received[0].json["generationConfig"] == {"temperature": 0.0}

    server = await replay("gemini/stream_max_tokens.yaml")
    async with (
        model_for(server) as model,
        gai.stream_text(
            model, prompt="List all U.S. states.", settings={"max_tokens": 50}
        ) as stream,
    ):
        async for _ in stream:
            pass
    assert stream.result.steps[0].finish_reason == "length"
    assert server.received[0].json["generationConfig"] == {"maxOutputTokens": 50}


async def test_stream_thought_signature_is_kept_for_the_follow_up(replay: StartReplay):
    server = await replay("gemini/stream_tool_call_thought_signature.yaml")

    @tool
    def get_country() -> str:
        """Get country (a test tool)."""
        return "Mexico"

    async with (
        model_for(server, "gemini-3-pro-preview") as model,
        gai.stream_text(
            model,
            prompt="What is the capital of the user country? Call the tool",
            tools=[get_country],
            stop_when=MaxSteps(3),
        ) as stream,
    ):
        async for _ in stream:
            pass
    assert stream.result.text == "The capital of Mexico is Mexico City."
    ours = normalise(server.received[1].json["contents"])
    theirs = normalise(server.exchanges[1].request_json["contents"])
    assert ours[1] == theirs[1]  # functionCall with the same thought signature


async def test_vertex_partial_function_arguments():
    exchanges = load("gemini/stream_partial_function_args_vertex.chunks.txt")
    async with ReplayServer(exchanges) as server, model_for(server) as model:
        assembler = StreamAssembler("gemini")
        async for chunk in model.stream(
            gai.ModelRequest(messages=(gai.user("weather in two cities"),))
        ):
            assembler.add(chunk)
    response = assembler.response()
    assert [(c.name, c.arguments) for c in response.tool_calls] == [
        ("getWeather", {"location": "Boston"}),
        ("getWeather", {"location": "San Francisco"}),
    ]
    assert response.finish_reason == "tool_calls"
    assert response.usage.reasoning_tokens == 132


@pytest.mark.parametrize(
    ("fixture", "error", "status", "retryable"),
    [
        ("gemini/error_400_api_key_invalid.yaml", gai.errors.AuthenticationError, 400, False),
        ("gemini/error_403_permission_denied.httprr", gai.errors.PermissionDeniedError, 403, False),
        ("gemini/error_404_model_not_found.yaml", gai.errors.NotFoundError, 404, False),
        ("gemini/error_429_resource_exhausted.yaml", gai.errors.RateLimitError, 429, True),
    ],
)
async def test_errors(replay: StartReplay, fixture, error, status, retryable):
    server = await replay(fixture)
    async with model_for(server) as model:
        with pytest.raises(error) as info:
            await gai.generate_text(model, prompt="hi", retry=False)
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert info.value.message == server.exchanges[0].response_json["error"]["message"]


def test_retry_info_in_the_body_sets_retry_after():
    from gai.providers._http import error_for_status

    body = b'{"error":{"code":429,"message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}'
    err = error_for_status("gemini", 429, {}, body)
    assert err.retry_after == 17.0


def test_request_mapping():
    with pytest.raises(gai.errors.MissingAPIKeyError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        Gemini("gemini-2.5-flash")
    payload = Gemini("m", api_key="k").payload(
        gai.ModelRequest(
            messages=(gai.user("see", "data:image/png;base64,AAAA", "https://x.test/a.png"),),
            tools=(gai.types.ToolDefinition(name="f"),),
            tool_choice="f",
            settings={"stop": ["X"], "seed": 7, "top_p": 0.5, "safetySettings": []},
        )
    )
    body = orjson.loads(orjson.dumps(payload))
    parts = body["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    assert parts[2]["fileData"]["fileUri"] == "https://x.test/a.png"
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}
    }
    assert body["generationConfig"] == {"stopSequences": ["X"], "seed": 7, "topP": 0.5}
    assert body["safetySettings"] == []
