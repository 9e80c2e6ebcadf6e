"""The issue's long chat: 200 turns on a SQLite session within a 4k-token budget, over HTTP.

Every request goes through gai's Anthropic provider to a loopback server that refuses
what the real API refuses (see `anthropic_server.py`) and counts tokens its own way.
"""

from __future__ import annotations

from pathlib import Path

import gai
from gai.context import DropOldest
from gai.providers.anthropic import Anthropic
from gai.store import SQLiteStore
from tests.conversations.anthropic_server import AnthropicChatServer, problems
from tests.conversations.chat import lookup

BUDGET = 4000


async def test_two_hundred_turns_stay_within_budget_with_every_tool_pair(tmp_path: Path):
    store = SQLiteStore(tmp_path / "chat.db")
    session = gai.Session(
        "long-chat", store=store, context=DropOldest(max_tokens=BUDGET, keep_first=1)
    )
    async with AnthropicChatServer() as server:
        model = Anthropic("claude-sonnet-4-5", api_key="sk-ant-test", base_url=server.url())
        for number in range(1, 201):
            result = await gai.generate_text(
                model, prompt=f"turn {number}: tell me more", tools=[lookup], session=session,
                system="You are a patient assistant.", stop_when=gai.NoMoreTools(),
            )  # fmt: skip
            assert result.text == f"answer {number}"
        await model.aclose()
    assert server.refused == []
    assert len(server.requests) == 200 + 200 // 3
    # Within budget by the server's own count: near the budget gai asks the
    # count-tokens endpoint, and only there (not before every request).
    assert max(server.tokens) <= BUDGET
    assert max(server.tokens) > BUDGET * 0.8  # the budget was actually in play
    assert 0 < server.counted < len(server.requests) / 2
    messages = await session.messages()
    assert messages[0].text == "turn 1: tell me more"  # keep_first
    assert messages[-1].text == "answer 200"
    # What the session would send next is accepted too.
    wire: list[dict[str, object]] = [{"role": m.role, "content": _blocks(m)} for m in messages]
    assert problems({"messages": _merged(wire)}) == []
    await store.aclose()


def _blocks(message: gai.Message) -> list[dict[str, object]]:
    blocks: list[dict[str, object]] = (
        [{"type": "text", "text": message.text}] if message.text else []
    )
    blocks += [{"type": "tool_use", "id": c.call_id} for c in message.tool_calls]
    blocks += [{"type": "tool_result", "tool_use_id": r.call_id} for r in message.tool_results]
    return blocks


def _merged(wire: list[dict[str, object]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for entry in wire:
        role = "user" if entry["role"] == "tool" else entry["role"]
        if out and out[-1]["role"] == role:
            out[-1]["content"] = [*out[-1]["content"], *entry["content"]]  # type: ignore[misc]
        else:
            out.append({"role": role, "content": entry["content"]})
    return out


async def test_the_cache_breakpoint_follows_the_edited_conversation(tmp_path: Path):
    session = gai.Session("cached", context=DropOldest(max_tokens=1_500))
    async with AnthropicChatServer() as server:
        model = Anthropic("claude-sonnet-4-5", api_key="sk-ant-test", base_url=server.url())
        for number in range(1, 31):
            await gai.generate_text(
                model, prompt=f"turn {number}: go on", tools=[lookup], session=session,
                system="Be brief.", settings={"prompt_cache": True}, stop_when=gai.NoMoreTools(),
            )  # fmt: skip
        await model.aclose()
    assert server.refused == []
    edited = 0
    for body in server.requests:
        marked = [
            (index, block_index)
            for index, message in enumerate(body["messages"])
            for block_index, block in enumerate(message["content"])
            if "cache_control" in block
        ]
        # One breakpoint in the conversation: on the last block of its last message.
        last = len(body["messages"]) - 1
        assert marked == [(last, len(body["messages"][last]["content"]) - 1)]
        edited += body["messages"][0]["content"][0].get("text") == gai.context.TRIMMED_NOTE
    assert edited > 10  # most requests were of a trimmed conversation
