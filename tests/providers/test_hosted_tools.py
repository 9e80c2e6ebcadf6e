"""Tools the provider runs itself: asked for by type, recorded in the step, sent back."""

from __future__ import annotations

from typing import Any

import pytest

import gai
from gai.providers.anthropic import Anthropic
from gai.providers.gemini import Gemini
from gai.providers.hosted import CodeExecution, FileSearch, WebSearch
from gai.providers.openai import OpenAI
from gai.providers.openai_responses import OpenAIResponses
from tests.providers.conftest import StartReplay, standard_base64


def _texts(blocks: list[dict[str, Any]]) -> str:
    return "".join(b["text"] for b in blocks if b["type"] == "text")


async def test_anthropic_web_search_is_a_hosted_tool_with_citations_sent_back(
    replay: StartReplay,
) -> None:
    server = await replay("anthropic/server_tool_web_search_with_followup.yaml")
    first, second = (e.request_json for e in server.exchanges)
    settings = {"thinking": first["thinking"], "hosted_tools": [WebSearch()]}
    async with Anthropic("claude-sonnet-4-0", api_key="k", base_url=server.url("")) as model:
        before = await gai.generate_text(
            model, prompt="What is the weather in San Francisco today?", settings=settings
        )
        await gai.generate_text(
            model,
            messages=[*before.messages, gai.user("how about Mexico City?")],
            settings=settings,
        )
    (search,) = before.steps[0].hosted_tools
    recorded = server.exchanges[0].response_json["content"]
    assert search.name == "web_search"
    assert search.provider == "anthropic"
    assert search.input == {"query": "San Francisco weather today"}
    assert search.output[0]["url"].startswith("https://www.accuweather.com/")
    assert search.items == (recorded[1], recorded[2])
    assert before.steps[0].citations
    assert before.steps[0].citations[0].title == "San Francisco, CA Weather Forecast | AccuWeather"
    assert before.text == _texts(recorded)
    (tool,) = server.received[0].json["tools"]
    assert (tool["type"], tool["name"]) == ("web_search_20250305", "web_search")
    # The follow-up: thinking, the search and its results as they came, then the text.
    sent = server.received[1].json["messages"][1]["content"]
    theirs = second["messages"][1]["content"]
    assert sent[:3] == theirs[:3]
    assert _texts(sent) == _texts(theirs)


async def test_anthropic_streamed_code_execution_is_assembled(replay: StartReplay) -> None:
    server = await replay("anthropic/stream_server_tool_code_execution.yaml")
    request = server.exchanges[0].request_json
    async with Anthropic("claude-sonnet-4-6", api_key="k", base_url=server.url("")) as model:
        async with gai.stream_text(
            model,
            prompt=request["messages"][0]["content"][0]["text"],
            settings={"thinking": request["thinking"], "hosted_tools": [CodeExecution()]},
        ) as stream:
            events = [e async for e in stream]
    step = stream.result.steps[0]
    (run,) = step.hosted_tools
    assert run.name == "bash_code_execution"
    assert run.input == {"command": 'echo "65465-6544 * 65464-6+1.02255" | bc -l'}
    assert run.output == {"stdout": "-428330955.97745\n", "stderr": "", "return_code": 0}
    assert step.tool_calls == ()  # not one of the run's tools
    assert not any(e.kind == "tool_call_started" for e in events)
    assert "-428" in stream.result.text
    assert server.received[0].json["tools"] == request["tools"]


async def test_a_provider_that_cannot_run_a_hosted_tool_says_so_before_sending(
    replay: StartReplay,
) -> None:
    server = await replay("anthropic/text_basic.yaml")
    async with Anthropic("claude-3-opus-latest", api_key="k", base_url=server.url("")) as model:
        with pytest.raises(gai.UserError, match="anthropic does not run FileSearch"):
            await gai.generate_text(
                model,
                prompt="hi",
                settings={"hosted_tools": [FileSearch(vector_store_ids=("vs_1",))]},
            )
    async with OpenAI("gpt-4o-mini", api_key="k", base_url=server.url("/v1")) as chat:
        with pytest.raises(gai.UserError, match="openai does not run WebSearch"):
            await gai.generate_text(chat, prompt="hi", settings={"hosted_tools": [WebSearch()]})
    with pytest.raises(gai.UserError, match="hosted_tools takes"):
        async with Anthropic("claude-3-opus-latest", api_key="k", base_url=server.url("")) as m:
            await gai.generate_text(m, prompt="hi", settings={"hosted_tools": ["web_search"]})
    assert server.received == []


async def test_responses_web_search_goes_back_between_its_reasoning_items(
    replay: StartReplay,
) -> None:
    server = await replay("openai_responses/web_search_call_with_followup.yaml")
    first, second = (e.request_json for e in server.exchanges)
    settings = {"include": first["include"], "hosted_tools": [WebSearch()]}
    async with OpenAIResponses("gpt-5", api_key="k", base_url=server.url("/v1")) as model:
        before = await gai.generate_text(
            model,
            system=first["instructions"],
            prompt=first["input"][0]["content"],
            settings=settings,
        )
        await gai.generate_text(
            model,
            system=first["instructions"],
            messages=[*before.messages[1:], gai.user(second["input"][-1]["content"])],
            settings=settings,
        )
    (search,) = before.steps[0].hosted_tools
    assert search.name == "web_search"
    assert search.input == {"query": "weather: San Francisco, CA", "type": "search"}
    assert server.received[0].json["tools"] == [{"type": "web_search"}]
    sent = server.received[1].json["input"]
    recorded = second["input"]
    # reasoning, search, reasoning: in the order they came, as they came.
    assert sent[1:4] == recorded[1:4]
    assert [i.get("type") for i in sent[1:4]] == ["reasoning", "web_search_call", "reasoning"]


async def test_responses_file_search_is_a_hosted_tool(replay: StartReplay) -> None:
    server = await replay("openai_responses/file_search_call_with_setup.yaml")
    # The vector store is made through OpenAI's files API; gai only searches it.
    calls = [e for e in server.exchanges if e.path.endswith("/responses")]
    server.exchanges = calls
    first = calls[0].request_json
    store = tuple(first["tools"][0]["vector_store_ids"])
    async with OpenAIResponses("gpt-4o", api_key="k", base_url=server.url("/v1")) as model:
        result = await gai.generate_text(
            model,
            system=first["instructions"],
            prompt=first["input"][0]["content"],
            settings={"hosted_tools": [FileSearch(vector_store_ids=store)]},
        )
    (search,) = result.steps[0].hosted_tools
    assert search.name == "file_search"
    assert search.input == {"queries": ["What is the capital of France?"]}
    assert result.text == "The capital of France is Paris."
    assert server.received[0].json["tools"] == first["tools"]


async def test_responses_streamed_code_interpreter_calls_are_hosted_tools(
    replay: StartReplay,
) -> None:
    server = await replay("openai_responses/stream_reasoning_summary_code_interpreter.yaml")
    request = server.exchanges[0].request_json
    async with OpenAIResponses("gpt-5", api_key="k", base_url=server.url("/v1")) as model:
        async with gai.stream_text(
            model,
            prompt=request["input"][0]["content"],
            settings={
                "include": request["include"],
                "reasoning": request["reasoning"],
                "hosted_tools": [CodeExecution()],
            },
        ) as stream:
            async for _ in stream:
                pass
    runs = stream.result.steps[0].hosted_tools
    assert [r.name for r in runs] == ["code_interpreter"] * 3
    assert runs[0].input == {"code": "n = pow(123456, 123)\nlen(str(n))"}
    assert server.received[0].json["tools"] == request["tools"]


async def test_gemini_code_execution_goes_back_as_it_came(replay: StartReplay) -> None:
    server = await replay("gemini/code_execution_with_followup.yaml")
    first, second = (e.request_json for e in server.exchanges)
    settings = {"generationConfig": first["generationConfig"], "hosted_tools": [CodeExecution()]}
    async with Gemini("gemini-3-flash-preview", api_key="k", base_url=server.url("")) as model:
        before = await gai.generate_text(
            model,
            system=first["systemInstruction"]["parts"][0]["text"],
            prompt=first["contents"][0]["parts"][0]["text"],
            settings=settings,
        )
        await gai.generate_text(
            model,
            system=first["systemInstruction"]["parts"][0]["text"],
            messages=[*before.messages[1:], gai.user(second["contents"][2]["parts"][0]["text"])],
            settings=settings,
        )
    runs = before.steps[0].hosted_tools
    assert [r.name for r in runs] == ["code_execution", "code_execution"]
    assert runs[0].output == {
        "outcome": "OUTCOME_OK",
        "output": "Current day in Utrecht: Tuesday, May 05, 2026\n",
    }
    assert server.received[0].json["tools"] == [{"codeExecution": {}}]
    sent = server.received[1].json["contents"]
    assert standard_base64(sent) == standard_base64(second["contents"])


async def test_gemini_grounding_is_a_search_with_citations(replay: StartReplay) -> None:
    server = await replay("gemini/google_search_grounding_with_followup.yaml")
    first, second = (e.request_json for e in server.exchanges)
    settings = {"hosted_tools": [WebSearch()]}
    async with Gemini("gemini-2.5-flash", api_key="k", base_url=server.url("")) as model:
        before = await gai.generate_text(
            model, prompt=first["contents"][0]["parts"][0]["text"], settings=settings
        )
        await gai.generate_text(
            model,
            messages=[*before.messages, gai.user(second["contents"][2]["parts"][0]["text"])],
            settings=settings,
        )
    (search,) = before.steps[0].hosted_tools
    assert search.name == "google_search"
    assert search.input == {"queries": ["bitcoin price January 1 2026", "BTC price Jan 1 2026"]}
    assert before.steps[0].citations[0].title == "morningstar.com"
    assert server.received[0].json["tools"] == first["tools"]
    assert server.received[1].json["contents"] == second["contents"]
