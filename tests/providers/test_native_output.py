"""Native structured output on each provider: the schema sent as recorded, the answer read."""

from __future__ import annotations

from typing import Any

import pydantic
from typing_extensions import TypedDict

import gai
from gai.providers.anthropic import Anthropic
from gai.providers.gemini import Gemini
from gai.providers.ollama import Ollama
from gai.providers.openai import OpenAI
from gai.providers.openai_responses import OpenAIResponses
from tests.providers.conftest import StartReplay


def _untitled(value: Any) -> Any:
    """A JSON schema without its titles (each client titles its schemas its own way)."""
    if isinstance(value, list):
        return [_untitled(v) for v in value]
    if isinstance(value, dict):
        return {k: _untitled(v) for k, v in value.items() if k != "title"}
    return value


class IntegerAdditionResponse(pydantic.BaseModel):
    """A simple response for testing."""

    integer_a: int
    integer_b: int
    answer: int


async def test_anthropic_output_format_with_its_beta_header(replay: StartReplay) -> None:
    server = await replay("anthropic/structured_output_format_json_schema.yaml")
    recorded = server.exchanges[0].request_json
    async with Anthropic(
        "claude-sonnet-4-5",
        api_key="k",
        base_url=server.url(""),
        headers={"anthropic-beta": "files-api-2025-04-14"},
    ) as model:
        answer = await gai.generate_object(
            model,
            IntegerAdditionResponse,
            prompt="Answer this question: What is 2 + 2?",
            mode="native",
            settings={"max_tokens": recorded["max_tokens"]},
        )
    assert answer.object == IntegerAdditionResponse(integer_a=2, integer_b=2, answer=4)
    sent = server.received[0]
    assert sent.json["output_format"] == recorded["output_format"]
    assert sent.headers["anthropic-beta"] == "files-api-2025-04-14,structured-outputs-2025-11-13"
    assert "tools" not in sent.json


class Author(pydantic.BaseModel):
    """The author of a book."""

    first_name: str
    last_name: str


class Book(pydantic.BaseModel):
    """A book with a rating. The title should be in all caps!"""

    title: str
    author: Author
    rating: int = pydantic.Field(description="For testing purposes, the rating should be 7")


async def test_chat_completions_strict_json_schema(replay: StartReplay) -> None:
    server = await replay("openai_chat/response_format_json_schema_strict.yaml")
    recorded = server.exchanges[0].request_json["response_format"]
    async with OpenAI("gpt-4o", api_key="k", base_url=server.url("/v1")) as model:
        book = await gai.generate_object(
            model,
            Book,
            prompt="Please recommend the most popular book by Patrick Rothfuss",
            output_tool_name="Book",
        )
    assert book.object.title == "THE NAME OF THE WIND"
    assert book.object.author == Author(first_name="Patrick", last_name="Rothfuss")
    sent = server.received[0].json["response_format"]
    spec = {k: v for k, v in recorded["json_schema"].items() if k != "description"}
    assert sent == {**recorded, "json_schema": spec}


class CityLocation(TypedDict):
    city: str
    country: str


@gai.tool(name="get_user_country", description="Get the user's country.")
def get_user_country() -> str:
    return "Mexico"


async def test_responses_text_format_after_a_tool_call(replay: StartReplay) -> None:
    server = await replay("openai_responses/text_format_json_schema_with_tool_result.yaml")
    recorded = server.exchanges[0].request_json["text"]
    async with OpenAIResponses("gpt-4o", api_key="k", base_url=server.url("/v1")) as model:
        located = await gai.generate_object(
            model,
            CityLocation,
            prompt="What is the largest city in the user country?",
            tools=[get_user_country],
            mode="native",
            output_tool_name="CityLocation",
            stop_when=gai.MaxSteps(3),
        )
    assert located.object == {"city": "Mexico City", "country": "Mexico"}
    for sent in server.received:
        assert _untitled(sent.json["text"]) == recorded


class DescribedCity(pydantic.BaseModel):
    """A city and its country."""

    city: str
    country: str


async def test_gemini_response_json_schema(replay: StartReplay) -> None:
    server = await replay("gemini/response_json_schema.yaml")
    config = server.exchanges[0].request_json["generationConfig"]
    async with Gemini("gemini-2.0-flash", api_key="k", base_url=server.url("")) as model:
        located = await gai.generate_object(
            model,
            DescribedCity,
            prompt="What is the largest city in Mexico?",
            settings={"generationConfig": {"responseModalities": ["TEXT"]}},
        )
    assert located.object == DescribedCity(city="Mexico City", country="Mexico")
    sent = server.received[0].json["generationConfig"]
    assert _untitled(sent) == _untitled(config)


class NauticalMile(pydantic.BaseModel):
    answer: float


async def test_ollama_json_mode_streams_an_object(replay: StartReplay) -> None:
    server = await replay("ollama/chat_stream_format_json.httprr")
    async with Ollama("gemma3:1b", base_url=server.url("")) as model:
        async with gai.stream_text(
            model,
            prompt="How many feet are in a nautical mile? Respond with JSON containing the answer.",
            settings={"format": "json", "temperature": 0},
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
    assert NauticalMile.model_validate_json(text).answer == 600  # the small model's answer
    sent = server.received[0].json
    assert (sent["format"], sent["options"]) == ("json", {"temperature": 0})
