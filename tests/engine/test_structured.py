"""Structured output: `generate_object`, `stream_object`, validation retries."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import gai
from gai import ModelResponse, ScriptedModel, ToolCall
from gai.engine._output import extract_json
from gai.errors import OutputValidationError, UserError
from gai.models import FunctionModel
from gai.providers import OpenAI
from gai.types import Message, ToolDefinition


class City(BaseModel):
    name: str
    population: int = Field(gt=0)


def answer(**arguments: Any) -> ModelResponse:
    return ModelResponse(tool_calls=(ToolCall(name="final_result", arguments=arguments),))


async def test_the_output_tool_is_forced_and_its_arguments_become_the_object():
    seen: list[tuple[list[str], Any]] = []

    def model(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> ModelResponse:
        seen.append(([t.name for t in tools], tools[0].parameters["properties"]))
        return answer(name="Lisbon", population=545_000)

    result = await gai.generate_object(
        FunctionModel(model), City, prompt="Largest city of Portugal?"
    )
    assert result.object == City(name="Lisbon", population=545_000)
    assert result.failed_attempts == []
    assert seen[0][0] == ["final_result"]
    assert set(seen[0][1]) == {"name", "population"}
    assert result.result.stop_reason.kind == "tool_seen"


async def test_the_tool_choice_forces_the_output_tool_without_other_tools():
    model = ScriptedModel([answer(name="Porto", population=230_000)])
    await gai.generate_object(model, City, prompt="x")
    assert model.requests[0].tool_choice == "final_result"


async def test_invalid_answers_go_back_with_the_errors_then_succeed():
    model = ScriptedModel(
        [answer(name="Lisbon", population=-3), answer(name="Lisbon", population=545_000)]
    )
    result = await gai.generate_object(model, City, prompt="x")
    assert result.object.population == 545_000
    assert len(result.failed_attempts) == 1
    assert "population" in result.failed_attempts[0].error
    assert json.loads(result.failed_attempts[0].given) == {"name": "Lisbon", "population": -3}
    sent_back = model.requests[1].messages[-1].tool_results[0]
    assert sent_back.is_error
    assert "population" in sent_back.content


async def test_retries_are_limited_and_the_error_keeps_every_attempt():
    model = ScriptedModel([answer(name="x", population=-i) for i in range(1, 10)])
    with pytest.raises(OutputValidationError) as info:
        await gai.generate_object(model, City, prompt="x", max_output_retries=2)
    assert len(info.value.attempts) == 3
    assert info.value.partial_result is not None
    assert info.value.partial_result is not None
    assert len(info.value.partial_result.steps) == 3
    assert "City" in str(info.value)


async def test_tools_run_first_then_the_object():
    @gai.tool
    def population(city: str) -> int:
        """Population of a city."""
        return 545_000

    model = ScriptedModel(
        [
            ModelResponse(tool_calls=(ToolCall(name="population", arguments={"city": "Lisbon"}),)),
            answer(name="Lisbon", population=545_000),
        ]
    )
    result = await gai.generate_object(model, City, prompt="x", tools=[population])
    assert result.object.population == 545_000
    assert model.requests[0].tool_choice == "required"
    assert [t.name for t in model.requests[0].tools] == ["population", "final_result"]
    assert [s.tool_calls[0].name for s in result.result.steps] == ["population", "final_result"]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


@pytest.mark.parametrize(
    ("output_type", "arguments", "expected"),
    [
        (Point, {"x": 1, "y": 2}, Point(1, 2)),
        (Movie, {"title": "Up", "year": 2009}, {"title": "Up", "year": 2009}),
        (list[int], {"result": [1, 2, 3]}, [1, 2, 3]),
        (Colour, {"result": "blue"}, Colour.BLUE),
    ],
)
async def test_dataclasses_typeddicts_lists_and_enums(output_type, arguments, expected):
    tools_seen: list[dict[str, Any]] = []

    def model(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> ModelResponse:
        tools_seen.append(tools[0].parameters)
        return answer(**arguments)

    result = await gai.generate_object(FunctionModel(model), output_type, prompt="x")
    assert result.object == expected
    assert tools_seen[0]["type"] == "object"


async def test_a_tool_with_the_output_tools_name_is_refused():
    @gai.tool
    def final_result(x: int) -> int:
        """Clash."""
        return x

    with pytest.raises(UserError, match="output_tool_name"):
        await gai.generate_object(ScriptedModel([]), City, prompt="x", tools=[final_result])
    with pytest.raises(UserError, match="max_output_retries"):
        await gai.generate_object(ScriptedModel([]), City, prompt="x", max_output_retries=-1)


def test_json_is_extracted_from_fences_and_prose():
    assert extract_json('Sure!\n```json\n{"a": 1}\n```\nDone.') == '{"a": 1}'
    assert extract_json('Here: {"a": [1, 2]} hope it helps') == '{"a": [1, 2]}'
    assert extract_json("[1, 2]") == "[1, 2]"
    assert extract_json("no json") == "no json"


async def test_text_mode_extracts_json_and_retries_with_the_errors():
    model = ScriptedModel(
        [
            'Here you go: {"name": "Lisbon", "population": "many"}',
            '```json\n{"name": "Lisbon", "population": 545000}\n```',
        ]
    )
    result = await gai.generate_object(model, City, prompt="x", mode="text")
    assert result.object == City(name="Lisbon", population=545_000)
    assert len(result.failed_attempts) == 1
    first = model.requests[0]
    assert "JSON schema" in first.messages[0].text
    assert model.requests[0].tools == ()
    assert "not valid" in model.requests[1].messages[-1].text
    assert "population" in model.requests[1].messages[-1].text


async def test_text_mode_gives_up_after_the_retries():
    model = ScriptedModel(["nope", "still no", "never"])
    with pytest.raises(OutputValidationError) as info:
        await gai.generate_object(model, City, prompt="x", mode="text", max_output_retries=1)
    assert [a.given for a in info.value.attempts] == ["nope", "still no"]


# --- streaming through the real OpenAI provider over loopback ------------------------


def _sse(chunks: list[dict[str, Any]]) -> bytes:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return body.encode()


def _tool_call_chunks(arguments: str, pieces: int) -> list[dict[str, Any]]:
    size = max(1, len(arguments) // pieces)
    fragments = [arguments[i : i + size] for i in range(0, len(arguments), size)]
    first = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "final_result", "arguments": ""},
    }
    chunks = [{"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]}]
    for fragment in fragments:
        delta = {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}
        chunks.append({"choices": [{"index": 0, "delta": delta}]})
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return chunks


async def test_stream_object_yields_growing_partials_then_the_object():
    answers = [
        json.dumps({"name": "Lisbon", "population": -1}),
        json.dumps({"name": "Lisbon", "population": 545000}),
    ]
    bodies: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        bodies.append(body)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_sse(_tool_call_chunks(answers[len(bodies) - 1], pieces=6)))
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    async with TestServer(app) as server:
        base = str(server.make_url("/v1"))
        async with OpenAI("m", api_key="k", base_url=base) as model:
            async with gai.stream_object(model, City, prompt="Largest city?") as stream:
                seen = [item async for item in stream]
    assert seen[-1] == City(name="Lisbon", population=545000)
    partials = seen[:-1]
    assert all(isinstance(p, dict) for p in partials)
    assert any(p.get("name", "").startswith("Lis") and "population" not in p for p in partials)
    # A number still streaming is left out rather than shown truncated.
    assert {p["population"] for p in partials if "population" in p} <= {-1, 545000}
    assert stream.object == seen[-1]
    assert len(stream.failed_attempts) == 1
    assert bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "final_result"}}
    assert bodies[0]["stream"] is True
    assert bodies[1]["messages"][-1]["role"] == "tool"
    assert "population" in bodies[1]["messages"][-1]["content"]


async def test_stream_object_raises_when_nothing_validates():
    model = ScriptedModel([answer(name="x", population=-1)] * 3)
    stream = gai.stream_object(model, City, prompt="x", max_output_retries=1)

    async def drain() -> None:
        async with stream:
            async for _ in stream:
                pass

    with pytest.raises(OutputValidationError):
        await drain()
    with pytest.raises(UserError, match="not finished"):
        _ = stream.object


# --- native structured output ---------------------------------------------------------


async def test_native_mode_sends_response_format_and_validates_the_content():
    bodies: list[dict[str, Any]] = []
    contents = ['{"name": "Lisbon", "population": "lots"}', '{"name": "Lisbon", "population": 5}']

    async def handle(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        message = {"role": "assistant", "content": contents[len(bodies) - 1]}
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "model": "m",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    async with TestServer(app) as server:
        async with OpenAI("m", api_key="k", base_url=str(server.make_url("/v1"))) as model:
            result = await gai.generate_object(model, City, prompt="x", mode="native")
    assert result.object == City(name="Lisbon", population=5)
    assert len(result.failed_attempts) == 1
    response_format = bodies[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "final_result"
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"name", "population"}
    assert "tools" not in bodies[0]
    assert bodies[1]["response_format"] == response_format


def test_native_settings_of_each_provider():
    from gai.providers import Gemini, Ollama, OpenAIResponses
    from gai.providers.base import ModelRequest

    schema = City.model_json_schema()
    request = ModelRequest(messages=(gai.user("x"),))

    gemini = Gemini("g", api_key="k")
    body = gemini.payload(
        request.model_copy(update={"settings": gemini.native_output("o", schema)})
    )
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["generationConfig"]["responseJsonSchema"] == schema

    ollama = Ollama("o")
    body = ollama.payload(
        request.model_copy(update={"settings": ollama.native_output("o", schema)}), stream=False
    )
    assert body["format"] == schema

    responses = OpenAIResponses("r", api_key="k")
    body = responses.payload(
        request.model_copy(update={"settings": responses.native_output("o", schema)}),
        stream=False,
    )
    assert body["text"]["format"]["type"] == "json_schema"
    assert body["text"]["format"]["schema"] == {**schema, "additionalProperties": False}
    assert body["text"]["format"]["strict"] is True


async def test_native_mode_needs_a_provider_that_has_it():
    with pytest.raises(UserError, match="no native structured output"):
        await gai.generate_object(ScriptedModel(["{}"]), City, prompt="x", mode="native")


def test_openai_native_schemas_are_strict_when_every_field_is_required():
    class Loose(BaseModel):
        name: str
        nickname: str | None = None

    class Nested(BaseModel):
        city: City
        tags: list[str]

    model = OpenAI("m", api_key="k")
    strict = model.native_output("o", Nested.model_json_schema())["response_format"]["json_schema"]
    assert strict["strict"] is True
    assert strict["schema"]["additionalProperties"] is False
    assert strict["schema"]["$defs"]["City"]["additionalProperties"] is False
    loose = model.native_output("o", Loose.model_json_schema())["response_format"]["json_schema"]
    assert loose["strict"] is False
    assert "additionalProperties" not in loose["schema"]


async def test_output_type_on_generate_text_runs_tools_then_sets_output():
    @gai.tool
    def population(city: str) -> int:
        """Population of a city."""
        return 545_000

    model = ScriptedModel(
        [
            ModelResponse(tool_calls=(ToolCall(name="population", arguments={"city": "Lisbon"}),)),
            answer(name="Lisbon", population=-1),
            answer(name="Lisbon", population=545_000),
        ]
    )
    result = await gai.generate_text(
        model, prompt="x", tools=[population], stop_when=gai.MaxSteps(6), output_type=City
    )
    assert result.output == City(name="Lisbon", population=545_000)
    assert len(result.steps) == 3
    assert model.requests[0].tool_choice == "required"


def test_output_type_on_generate_text_sync():
    result = gai.generate_text_sync(
        ScriptedModel([answer(result=[3, 1, 2])]), prompt="x", output_type=list[int]
    )
    assert result.output == [3, 1, 2]


async def test_auto_mode_is_native_without_tools_and_tool_mode_with_them():
    bodies: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        bodies.append(body)
        if "tools" in body:
            call = {
                "id": "c1",
                "type": "function",
                "function": {"name": "final_result", "arguments": '{"name": "A", "population": 1}'},
            }
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
        else:
            message = {"role": "assistant", "content": '{"name": "B", "population": 2}'}
        return web.json_response(
            {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "model": "m"}
        )

    @gai.tool
    def noop() -> str:
        """Nothing."""
        return ""

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    async with TestServer(app) as server:
        async with OpenAI("m", api_key="k", base_url=str(server.make_url("/v1"))) as model:
            native = await gai.generate_object(model, City, prompt="x")
            with_tools = await gai.generate_object(model, City, prompt="x", tools=[noop])
    assert native.object.name == "B"
    assert "response_format" in bodies[0]
    assert with_tools.object.name == "A"
    assert "response_format" not in bodies[1]


class Capital(BaseModel):
    city: str
    country: str


async def test_tool_mode_sends_a_text_answer_back_to_call_the_output_tool(replay):
    """Ollama Cloud ignores tool choice and answers "Paris." first (recorded); told to
    call the output tool, it does."""
    server = await replay("openai_chat/compat_ollama_v1_tool_call.yaml")
    async with OpenAI("gpt-oss:20b", base_url=server.url("/v1"), provider="ollama-openai") as m:
        answer = await gai.generate_object(
            m, Capital, prompt="What is the capital of France?", mode="tool"
        )
    assert answer.object == Capital(city="Paris", country="France")
    assert [a.given for a in answer.failed_attempts] == ["Paris."]
    assert "instead of calling the output tool 'final_result'" in answer.failed_attempts[0].error
    nudge = server.received[1].json["messages"][-1]
    assert nudge["role"] == "user"
    assert "call the 'final_result' tool" in nudge["content"]


async def test_tool_mode_accepts_json_given_as_text():
    model = ScriptedModel(['Here it is: {"city": "Paris", "country": "France"}'])
    answer = await gai.generate_object(model, Capital, prompt="x", mode="tool")
    assert answer.object == Capital(city="Paris", country="France")
    assert len(answer.result.steps) == 1


async def test_tool_mode_text_answers_count_against_the_retries():
    model = FunctionModel(lambda messages, tools: "Paris.")
    with pytest.raises(OutputValidationError) as info:
        await gai.generate_object(model, Capital, prompt="x", mode="tool", max_output_retries=2)
    assert [a.given for a in info.value.attempts] == ["Paris."] * 3
    assert info.value.partial_result is not None
    assert len(info.value.partial_result.steps) == 3
