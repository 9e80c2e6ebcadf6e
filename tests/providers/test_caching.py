"""Prompt caching: Anthropic's breakpoints as recorded, and cached tokens in `Usage`."""

from __future__ import annotations

import gai
from gai import MaxSteps, tool
from gai.providers.anthropic import Anthropic
from gai.providers.gemini import Gemini
from gai.providers.openai import OpenAI
from gai.types import CachePoint
from tests.providers.conftest import StartReplay

EPHEMERAL = {"type": "ephemeral"}


async def test_anthropic_caches_the_system_prompt_then_reads_it(replay: StartReplay) -> None:
    server = await replay("anthropic/cache_control_write_then_read.yaml")
    first, second = (e.request_json for e in server.exchanges)
    system = first["system"][0]["text"]
    settings = {"max_tokens": first["max_tokens"], "prompt_cache": True}
    async with Anthropic("claude-sonnet-4-0", api_key="k", base_url=server.url("")) as model:
        wrote = await gai.generate_text(
            model, system=system, prompt="Hello there.", settings=settings
        )
        read = await gai.generate_text(
            model, system=system, prompt="What should I have for breakfast?", settings=settings
        )
    assert wrote.usage.cache_write_tokens == 4167
    assert wrote.usage.cache_read_tokens == 0
    assert read.usage.cache_read_tokens == 4167
    assert read.usage.input_tokens == 12 + 4167  # gai's input counts cached input too
    for sent, recorded in zip(server.received, (first, second), strict=True):
        assert sent.json["system"] == recorded["system"]
        # One user message: the breakpoint on it is the conversation's.
        (turn,) = sent.json["messages"]
        assert turn["content"][-1]["cache_control"] == EPHEMERAL
        assert "prompt_cache" not in sent.json


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 22C in {city}"


async def test_the_breakpoint_moves_with_the_conversation_and_stays_within_four(
    replay: StartReplay,
) -> None:
    server = await replay("anthropic/tool_call_single_with_result.yaml")
    async with Anthropic("claude-sonnet-4-5", api_key="k", base_url=server.url("")) as model:
        await gai.generate_text(
            model,
            system="Be brief.",
            prompt="What's the weather in Paris?",
            tools=[get_weather],
            settings={"prompt_cache": True},
            stop_when=MaxSteps(3),
        )
    for sent in server.received:
        body = sent.json
        marked = [
            block
            for turn in body["messages"]
            for block in turn["content"]
            if "cache_control" in block
        ]
        assert len(marked) == 1  # only the last turn's last block: earlier ones are cached
        assert body["messages"][-1]["content"][-1] is not None
        assert body["tools"][-1]["cache_control"] == EPHEMERAL
        assert body["system"][0]["cache_control"] == EPHEMERAL
    # The second request's breakpoint is on the tool result, the newest block.
    last_block = server.received[1].json["messages"][-1]["content"][-1]
    assert last_block["type"] == "tool_result"
    assert last_block["cache_control"] == EPHEMERAL


async def test_an_explicit_cache_point_marks_the_block_before_it(replay: StartReplay) -> None:
    server = await replay("anthropic/text_basic.yaml")
    document = gai.Message(
        role="user",
        parts=(gai.Text(text="A long reference document."), CachePoint(), gai.Text(text="Q?")),
    )
    async with Anthropic("claude-3-opus-latest", api_key="k", base_url=server.url("")) as model:
        await gai.generate_text(model, messages=[document])
    (turn,) = server.received[0].json["messages"]
    assert turn["content"] == [
        {"type": "text", "text": "A long reference document.", "cache_control": EPHEMERAL},
        {"type": "text", "text": "Q?"},
    ]


async def test_openai_reports_cached_prompt_tokens_and_ignores_cache_settings(
    replay: StartReplay,
) -> None:
    server = await replay("openai_chat/prompt_cache_cached_tokens.yaml")
    first, second = (e.request_json for e in server.exchanges)
    system = first["messages"][0]["content"]
    async with OpenAI("gpt-4o", api_key="k", base_url=server.url("/v1")) as model:
        await gai.generate_text(
            model, system=system, prompt="Hello there.", settings={"prompt_cache": True}
        )
        cached = await gai.generate_text(
            model,
            messages=[
                gai.system(system),
                gai.user(
                    "What should I have for breakfast?",
                ),
            ],
        )
    assert cached.usage.cache_read_tokens == 3584
    assert server.received[0].json["messages"] == first["messages"]
    assert "prompt_cache" not in server.received[0].json
    assert server.received[1].json["messages"] == second["messages"]


async def test_gemini_reports_tokens_read_from_an_explicit_cache(replay: StartReplay) -> None:
    server = await replay("gemini/cached_content_explicit.yaml")
    generate = server.exchanges[1].request_json
    # The cache itself is made through Google's API (one POST); gai uses it by name.
    server.exchanges = server.exchanges[1:-1]
    async with Gemini("gemini-2.5-flash", api_key="k", base_url=server.url("")) as model:
        result = await gai.generate_text(
            model,
            prompt=generate["contents"][0]["parts"][0]["text"],
            settings={
                "cachedContent": generate["cachedContent"],
                "generationConfig": generate["generationConfig"],
            },
        )
    assert result.usage.cache_read_tokens == 3512
    assert server.received[0].json["cachedContent"] == generate["cachedContent"]


def test_cached_input_is_priced_at_the_cached_rate() -> None:
    from gai.observe.metrics import step_cost

    def step(**usage: int) -> gai.Step:
        tokens = gai.Usage(**usage)
        return gai.Step(step_number=1, usage=tokens, model="anthropic:claude-sonnet-4-0")

    fresh = step_cost(step(input_tokens=4179, output_tokens=350, total_tokens=4529))
    cached = step_cost(
        step(input_tokens=4179, output_tokens=350, total_tokens=4529, cache_read_tokens=4167)
    )
    assert fresh is not None
    assert cached is not None
    assert cached < fresh / 2  # cache reads cost a tenth of fresh input
