"""Reasoning kept and sent back: each provider's recorded thinking round trip, replayed.

Each follow-up request must carry the reasoning exactly as the recording's did (the
signed thinking block, the redacted data, the encrypted item, the thought signature),
in the same place in the conversation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import gai
from gai import MaxSteps, tool
from gai.providers import ollama as ollama_wire
from gai.providers.anthropic import Anthropic
from gai.providers.gemini import Gemini
from gai.providers.ollama import Ollama
from gai.providers.openai import OpenAI
from gai.providers.openai_responses import OpenAIResponses
from gai.store import SQLiteStore
from tests.providers.conftest import StartReplay, standard_base64


def _without_false_flags(value: Any) -> Any:
    """The value with `"is_error": false` left out (some clients send it, some do not)."""
    if isinstance(value, list):
        return [_without_false_flags(v) for v in value]
    if isinstance(value, dict):
        return {
            k: _without_false_flags(v)
            for k, v in value.items()
            if not (k == "is_error" and v is False)
        }
    return value


def same_messages(sent: list[Any], recorded: list[Any]) -> None:
    assert _without_false_flags(sent) == _without_false_flags(recorded)


def _parsed_arguments(messages: list[Any]) -> list[Any]:
    """Chat messages with each tool call's arguments parsed (spacing differs by client)."""
    out = []
    for m in messages:
        if m.get("tool_calls"):
            calls = [
                {
                    **c,
                    "function": {
                        **c["function"],
                        "arguments": json.loads(c["function"]["arguments"]),
                    },
                }
                for c in m["tool_calls"]
            ]
            m = {**m, "tool_calls": calls}
        out.append(m)
    return out


def anthropic(server: Any, name: str) -> Anthropic:
    return Anthropic(name, api_key="sk-ant-test", base_url=server.url(""))


@tool(description="Get the user's country.")
def get_user_country() -> str:
    return "Mexico"


@tool
def fixed_version() -> str:
    """Return a fixed test version string"""
    return "0.32a0"


async def test_anthropic_thinking_with_a_tool_is_sent_back_signed(replay: StartReplay) -> None:
    server = await replay("anthropic/thinking_tool_call_with_result.yaml")
    thinking = server.exchanges[0].request_json["thinking"]
    async with anthropic(server, "claude-sonnet-4-0") as model:
        result = await gai.generate_text(
            model,
            prompt="What is the largest city in the user country?",
            tools=[get_user_country],
            settings={"thinking": thinking},
            stop_when=MaxSteps(3),
        )
    recorded = server.exchanges[0].response_json["content"][0]
    (reasoning,) = result.steps[0].reasoning
    assert reasoning == gai.types.Reasoning(
        text=recorded["thinking"], signature=recorded["signature"], provider="anthropic"
    )
    assert result.steps[1].reasoning == ()
    assert "Mexico City" in result.text
    assert server.received[0].json["thinking"] == thinking
    same_messages(server.received[1].json["messages"], server.exchanges[1].request_json["messages"])
    # The reasoning stays in the conversation, first in the assistant's turn.
    assert isinstance(result.messages[1].parts[0], gai.types.Reasoning)


async def test_anthropic_streamed_thinking_is_assembled_and_sent_back(
    replay: StartReplay,
) -> None:
    server = await replay("anthropic/stream_thinking_tool_call_with_result.yaml")
    first = server.exchanges[0].request_json
    async with anthropic(server, "claude-haiku-4-5-20251001") as model:
        async with gai.stream_text(
            model,
            prompt=first["messages"][0]["content"][0]["text"],
            tools=[fixed_version],
            settings={
                "max_tokens": first["max_tokens"],
                "temperature": first["temperature"],
                "thinking": first["thinking"],
            },
            stop_when=MaxSteps(3),
        ) as stream:
            events = [e async for e in stream]
    result = stream.result
    streamed = "".join(e.text for e in events if e.kind == "reasoning_delta" and e.step_number == 1)
    (reasoning,) = result.steps[0].reasoning
    assert reasoning.text == streamed
    assert streamed.startswith("The user wants me to:")
    assert reasoning.signature is not None
    assert reasoning.signature.startswith("EoQDCm0I")
    assert "0.32a0" in result.text
    same_messages(server.received[1].json["messages"], server.exchanges[1].request_json["messages"])


async def test_anthropic_redacted_thinking_goes_back_in_the_next_turn(replay: StartReplay) -> None:
    server = await replay("anthropic/redacted_thinking_with_followup.yaml")
    first, second = (e.request_json for e in server.exchanges)
    settings = {"thinking": first["thinking"]}
    async with anthropic(server, "claude-sonnet-4-5-20250929") as model:
        before = await gai.generate_text(
            model, prompt=first["messages"][0]["content"][0]["text"], settings=settings
        )
        after = await gai.generate_text(
            model, messages=[*before.messages, gai.user("What was that?")], settings=settings
        )
    (hidden,) = before.steps[0].reasoning
    assert hidden.text == ""
    assert hidden.redacted is not None
    same_messages(server.received[1].json["messages"], second["messages"])
    assert after.steps[0].reasoning[0].redacted != hidden.redacted


async def test_reasoning_of_another_provider_is_not_sent(replay: StartReplay) -> None:
    server = await replay("anthropic/text_basic.yaml")
    foreign = gai.types.Reasoning(text="thought elsewhere", signature="sig", provider="openai")
    unsigned = gai.types.Reasoning(text="no signature", provider="anthropic")
    history = [
        gai.user("Hi"),
        gai.Message(role="assistant", parts=(foreign, unsigned, gai.Text(text="Hello."))),
        gai.user("What is the capital of France?"),
    ]
    async with anthropic(server, "claude-3-opus-latest") as model:
        await gai.generate_text(model, messages=history)
    assistant = server.received[0].json["messages"][1]
    assert assistant == {"role": "assistant", "content": [{"type": "text", "text": "Hello."}]}


@tool
def load_capability(id: str) -> dict[str, str]:
    """Load a capability to access its full instructions and tools."""
    return {}


@tool
def get_player_name() -> str:
    """Get the player's name."""
    return "Anne"


@tool
def roll_dice() -> str:
    """Roll a six-sided die and return the result."""
    return "4"


async def test_deepseek_reasoning_content_goes_back_with_each_tool_turn(
    replay: StartReplay,
) -> None:
    server = await replay("openai_chat/compat_deepseek_reasoning_content_tool_calls.yaml")
    recorded = [e.request_json for e in server.exchanges]
    start = recorded[0]["messages"]
    async with OpenAI(
        "deepseek-reasoner", api_key="sk-test", base_url=server.url(""), provider="deepseek"
    ) as model:
        result = await gai.generate_text(
            model,
            messages=[
                gai.system(start[0]["content"]),
                gai.system(start[1]["content"]),
                gai.user(start[2]["content"]),
            ],
            tools=[load_capability, get_player_name, roll_dice],
            stop_when=MaxSteps(5),
        )
    assert [len(s.reasoning) for s in result.steps] == [1, 1, 1]
    assert all(s.reasoning[0].provider == "deepseek" for s in result.steps)
    assert "Congratulations, Anne" in result.text
    sent = [_parsed_arguments(r.json["messages"]) for r in server.received]
    recorded = [{"messages": _parsed_arguments(r["messages"])} for r in recorded]
    # The recording's client slipped in a tool search of its own between the steps: the
    # turns gai's run has in common with it must match it exactly.
    assert sent[1][:5] == recorded[1]["messages"][:5]
    assert sent[2][3:5] == recorded[2]["messages"][3:5]
    assert sent[2][5:] == recorded[2]["messages"][7:]
    assert sent[2][5]["reasoning_content"].startswith("Great, now I have access")


async def test_reasoning_content_is_not_sent_to_another_openai_compatible_provider(
    replay: StartReplay,
) -> None:
    server = await replay("openai_chat/text_basic.yaml")
    thought = gai.types.Reasoning(text="deep thought", provider="deepseek")
    history = [
        gai.user("Hi"),
        gai.Message(role="assistant", parts=(thought, gai.Text(text="Hello."))),
        gai.user("Say hi"),
    ]
    async with OpenAI("gpt-4o-mini", api_key="sk-test", base_url=server.url("/v1")) as model:
        await gai.generate_text(model, messages=history)
    assert server.received[0].json["messages"][1] == {"role": "assistant", "content": "Hello."}


@tool
def update_plan(plan: str) -> str:
    """Update the plan."""
    return "plan updated"


def _responses_items(items: list[Any]) -> list[Any]:
    """Responses input items with function-call arguments parsed and `status` left out."""
    out = []
    for item in items:
        item = {k: v for k, v in item.items() if k != "status"}
        if item.get("type") == "function_call":
            item["arguments"] = json.loads(item["arguments"])
        out.append(item)
    return out


async def test_responses_encrypted_reasoning_goes_back_before_its_call(
    replay: StartReplay,
) -> None:
    server = await replay("openai_responses/reasoning_encrypted_with_tool_result.yaml")
    first = server.exchanges[0].request_json
    async with OpenAIResponses("gpt-5", api_key="sk-test", base_url=server.url("/v1")) as model:
        result = await gai.generate_text(
            model,
            system=first["instructions"],
            prompt=first["input"][0]["content"],
            tools=[update_plan],
            settings={"include": first["include"], "reasoning": first["reasoning"]},
            stop_when=MaxSteps(3),
        )
    recorded = server.exchanges[0].response_json["output"][0]
    (reasoning,) = result.steps[0].reasoning
    assert reasoning.encrypted == recorded["encrypted_content"]
    assert reasoning.id == recorded["id"]
    assert reasoning.text == "\n\n".join(s["text"] for s in recorded["summary"])
    assert result.text.startswith("Softly old fountains")
    sent = server.received[1].json
    assert sent["include"] == ["reasoning.encrypted_content"]
    assert _responses_items(sent["input"]) == _responses_items(
        server.exchanges[1].request_json["input"]
    )


async def test_responses_streamed_reasoning_summary_is_assembled(replay: StartReplay) -> None:
    server = await replay("openai_responses/stream_reasoning_summary_code_interpreter.yaml")
    request = server.exchanges[0].request_json
    async with OpenAIResponses("gpt-5", api_key="sk-test", base_url=server.url("/v1")) as model:
        async with gai.stream_text(
            model,
            prompt=request["input"][0]["content"],
            settings={"include": request["include"], "reasoning": request["reasoning"]},
        ) as stream:
            events = [e async for e in stream]
    done = next(
        d["item"]
        for d in server.exchanges[0].sse_data()
        if d["type"] == "response.output_item.done" and d["item"]["type"] == "reasoning"
    )
    (reasoning,) = stream.result.steps[0].reasoning
    assert reasoning.text == "\n\n".join(s["text"] for s in done["summary"])
    assert reasoning.text == "".join(e.text for e in events if e.kind == "reasoning_delta")
    assert reasoning.encrypted == done["encrypted_content"]
    assert stream.result.text.startswith("123456^123 equals:")


@tool
def dummy() -> str:
    """A tool the model never calls."""
    return ""


async def test_gemini_thoughts_and_the_texts_signature_go_back_where_they_were(
    replay: StartReplay,
) -> None:
    server = await replay("gemini/thinking_thought_parts_with_followup.yaml")
    first, second = (e.request_json for e in server.exchanges)
    settings = {"generationConfig": first["generationConfig"]}
    async with Gemini("gemini-3-pro-preview", api_key="k", base_url=server.url("")) as model:
        before = await gai.generate_text(
            model,
            system=first["systemInstruction"]["parts"][0]["text"],
            prompt=first["contents"][0]["parts"][0]["text"],
            tools=[dummy],
            settings=settings,
        )
        await gai.generate_text(
            model,
            messages=[*before.messages, gai.user(second["contents"][2]["parts"][0]["text"])],
            tools=[dummy],
            settings=settings,
        )
    thought, signed = before.steps[0].reasoning
    assert thought.text.startswith("**A Safe Street-Crossing Guide")
    assert signed.text == ""
    assert signed.signature is not None
    assert before.text.startswith("Crossing the street safely")
    sent = server.received[1].json["contents"]
    assert standard_base64(sent) == standard_base64(second["contents"])


async def test_ollama_thinking_streams_as_reasoning_and_goes_back_with_the_turn(
    replay: StartReplay,
) -> None:
    server = await replay("ollama/cloud_chat_stream_thinking.httprr")
    async with Ollama("gpt-oss:120b", base_url=server.url("")) as model:
        async with gai.stream_text(model, prompt="Count from 1 to 5") as stream:
            events = [e async for e in stream]
    lines = [json.loads(line) for line in server.exchanges[0].body.decode().splitlines()]
    recorded = "".join(line["message"].get("thinking", "") for line in lines)
    (reasoning,) = stream.result.steps[0].reasoning
    assert (
        reasoning.text == recorded == "".join(e.text for e in events if e.kind == "reasoning_delta")
    )
    assert reasoning.provider == "ollama"
    assert recorded not in stream.result.text
    # The next turn carries the thinking back in the assistant message, as Ollama takes it.
    turn = ollama_wire._messages(stream.result.messages[-1])
    assert turn == [{"role": "assistant", "content": stream.result.text, "thinking": recorded}]


@tool(name="get_user_country", description="Get the user's country.", needs_approval=True)
def approved_country() -> str:
    return "Mexico"


async def test_thinking_survives_a_pause_in_the_store_and_goes_back_after_resume(
    replay: StartReplay, tmp_path: Path
) -> None:
    # The run pauses for approval after the model thought and called the tool; the
    # thinking block must come back from SQLite, signature intact, for the next request.
    server = await replay("anthropic/thinking_tool_call_with_result.yaml")
    thinking = server.exchanges[0].request_json["thinking"]
    store = SQLiteStore(tmp_path / "runs.db")
    async with anthropic(server, "claude-sonnet-4-0") as model:
        paused = await gai.generate_text(
            model,
            prompt="What is the largest city in the user country?",
            tools=[approved_country],
            settings={"thinking": thinking},
            run_store=store,
            run_id="thinking-run",
            stop_when=MaxSteps(3),
        )
        assert paused.stop_reason.kind == "approval_pending"
        record = await store.load_run("thinking-run")
        assert record.pending is not None
        assert record.pending.response is not None
        assert record.pending.response.reasoning is not None
        (stored,) = record.pending.response.reasoning
        assert stored.signature == server.exchanges[0].response_json["content"][0]["signature"]
        (call,) = paused.pending_approvals
        done = await gai.resume(
            "thinking-run",
            store=store,
            model=model,
            tools=[approved_country],
            approvals={call.call_id: gai.approve()},
            stop_when=MaxSteps(3),
        )
    await store.aclose()
    assert "Mexico City" in done.text
    assert done.steps[0].reasoning[0].signature == stored.signature
    sent = server.received[1].json["messages"]
    recorded = server.exchanges[1].request_json["messages"]
    assert sent[1]["content"][0] == recorded[1]["content"][0]  # the signed thinking block
    assert [b["type"] for b in sent[1]["content"]] == ["thinking", "text", "tool_use"]


async def test_one_reasoning_effort_setting_in_each_providers_terms(replay: StartReplay) -> None:
    sent: dict[str, Any] = {}
    cases: list[tuple[str, Any]] = [
        (
            "anthropic/text_basic.yaml",
            lambda url: Anthropic("claude-sonnet-4-5", api_key="k", base_url=url),
        ),
        (
            "openai_chat/text_basic.yaml",
            lambda url: OpenAI("o4-mini", api_key="k", base_url=url + "/v1"),
        ),
        (
            "openai_responses/text_basic.yaml",
            lambda url: OpenAIResponses("gpt-5", api_key="k", base_url=url + "/v1"),
        ),
        (
            "gemini/text_basic.yaml",
            lambda url: Gemini("gemini-2.5-flash", api_key="k", base_url=url),
        ),
        ("ollama/chat_nonstream_text.yaml", lambda url: Ollama("qwen3", base_url=url)),
    ]
    for fixture, make in cases:
        server = await replay(fixture)
        async with make(server.url("")) as model:
            await gai.generate_text(model, prompt="hi", settings={"reasoning_effort": "high"})
        sent[fixture.split("/")[0]] = server.received[0].json
    assert sent["anthropic"]["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert sent["anthropic"]["max_tokens"] > 16384  # room left to answer
    assert sent["openai_chat"]["reasoning_effort"] == "high"
    assert sent["openai_responses"]["reasoning"] == {"effort": "high", "summary": "auto"}
    assert sent["openai_responses"]["include"] == ["reasoning.encrypted_content"]
    thinking = sent["gemini"]["generationConfig"]["thinkingConfig"]
    assert thinking == {"thinkingBudget": 16384, "includeThoughts": True}
    assert sent["ollama"]["think"] is True
    assert all(
        "reasoning_effort" not in body for name, body in sent.items() if name != "openai_chat"
    )


async def test_a_providers_own_reasoning_setting_wins_and_a_bad_effort_is_a_user_error(
    replay: StartReplay,
) -> None:
    server = await replay("anthropic/text_basic.yaml")
    own = {"type": "enabled", "budget_tokens": 2000}
    async with Anthropic("claude-sonnet-4-5", api_key="k", base_url=server.url("")) as model:
        await gai.generate_text(
            model, prompt="hi", settings={"reasoning_effort": "low", "thinking": own}
        )
        with pytest.raises(
            gai.UserError, match="reasoning_effort must be 'low', 'medium' or 'high'"
        ):
            await gai.generate_text(model, prompt="hi", settings={"reasoning_effort": "max"})
    assert server.received[0].json["thinking"] == own
    assert len(server.received) == 1
