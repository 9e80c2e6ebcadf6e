"""The providers' count-tokens endpoints, which context policies ask near their budget.

No recording of these endpoints exists in the fixtures; the answers below have the
shape each provider documents (`{"input_tokens": n}`, `{"totalTokens": n}`), and the
requests are checked against what the generate calls of the recordings send.
"""

from __future__ import annotations

import json

import orjson
import pytest

import gai
from gai.errors import ResponseFormatError
from gai.providers.anthropic import Anthropic
from gai.providers.base import ModelRequest
from gai.providers.gemini import Gemini
from tests.support.recordings import Exchange, load
from tests.support.replay import ReplayServer


def _answer(body: object, status: int = 200) -> Exchange:
    return Exchange(
        method="POST", path="", request_body=b"", status=status,
        headers={"content-type": "application/json"}, body=json.dumps(body).encode(),
    )  # fmt: skip


def _request() -> ModelRequest:
    weather = load("anthropic/tool_call_single_with_result.yaml")[0].request_json["tools"][0]
    return ModelRequest(
        messages=(gai.system("Be brief."), gai.user("What's the weather in Paris?")),
        tools=(gai.types.ToolDefinition(
            name=weather["name"], description=weather["description"], parameters=weather["input_schema"]
        ),),
        settings={"temperature": 0, "max_tokens": 100},
    )  # fmt: skip


async def test_anthropic_counts_the_whole_request_without_generation_settings():
    async with ReplayServer([_answer({"input_tokens": 412})]) as server:
        model = Anthropic("claude-sonnet-4-5", api_key="sk-ant-test", base_url=server.url(""))
        assert await model.count_tokens(_request()) == 412
        await model.aclose()
    sent = server.received[0]
    assert sent.path == "/v1/messages/count_tokens"
    body = sent.json
    generate = orjson.loads(orjson.dumps(model.payload(_request(), stream=False)))
    assert body["messages"] == generate["messages"]
    assert body["system"] == "Be brief."
    assert body["tools"][0]["name"] == "get_weather"
    assert not {"max_tokens", "temperature", "stream"} & set(body)


async def test_gemini_counts_a_generate_content_request():
    async with ReplayServer([_answer({"totalTokens": 57})]) as server:
        model = Gemini("gemini-2.5-flash", api_key="test-key", base_url=server.url(""))
        assert await model.count_tokens(_request()) == 57
        await model.aclose()
    sent = server.received[0]
    assert sent.path.startswith("/v1beta/models/gemini-2.5-flash:countTokens")
    inner = sent.json["generateContentRequest"]
    assert inner["model"] == "models/gemini-2.5-flash"
    assert inner["contents"][0]["parts"][0]["text"] == "What's the weather in Paris?"
    assert inner["systemInstruction"]["parts"][0]["text"] == "Be brief."


async def test_a_count_without_its_field_is_a_format_error():
    async with ReplayServer([_answer({"tokens": 3})]) as server:
        model = Anthropic("claude-sonnet-4-5", api_key="sk-ant-test", base_url=server.url(""))
        with pytest.raises(ResponseFormatError, match="token count"):
            await model.count_tokens(_request())
        await model.aclose()
