"""Context policies: what each keeps, what a run records, and that a resumed run agrees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import gai
from gai.context import (
    TRIMMED_NOTE,
    ContextWindow,
    DropOldest,
    DropToolResults,
    KeepEnds,
    Summarize,
    TokenCounter,
    estimate_tokens,
)
from gai.context.policies import SUMMARY_HEADING
from gai.errors import UserError
from gai.store import MemoryStore
from gai.types import Message, ToolCall, ToolResult
from gai.types.transcript import assistant_message, tool_message
from tests.conversations.chat import chat_model, lookup


def conversation(turns: int, *, tool_every: int = 2, result_chars: int = 400) -> list[Message]:
    out: list[Message] = []
    for n in range(1, turns + 1):
        out.append(gai.user(f"turn {n}: question " + "words " * 20))
        if n % tool_every == 0:
            call = ToolCall(call_id=f"c{n}", name="lookup", arguments={"q": str(n)})
            out.append(assistant_message("", [call]))
            out.append(
                tool_message(
                    [ToolResult(call_id=f"c{n}", name="lookup", output="x" * result_chars)]
                )
            )
        out.append(gai.assistant(f"answer {n} " + "words " * 20))
    return out


def pairs_intact(messages: Sequence[Message]) -> bool:
    for index, message in enumerate(messages):
        if message.role == "tool":
            before = messages[index - 1] if index else None
            if before is None or {c.call_id for c in before.tool_calls} != {
                r.call_id for r in message.tool_results
            }:
                return False
        if message.tool_calls and (
            index + 1 >= len(messages) or messages[index + 1].role != "tool"
        ):
            return False
    return True


def window() -> ContextWindow:
    return ContextWindow(TokenCounter())


async def test_drop_oldest_keeps_pairs_the_start_and_the_turn_in_progress():
    messages = conversation(30)
    policy = DropOldest(max_tokens=1500, keep_first=1)
    w = window()
    kept = await policy.edit(messages, w)
    assert kept is not None
    assert w.tokens(kept) <= 1500 * policy.target + 50
    assert kept[0] is messages[0]  # keep_first
    assert kept[1].text == TRIMMED_NOTE
    assert kept[-1] is messages[-1]
    assert pairs_intact(kept)
    assert w.dropped == len(messages) - len(kept) + 1  # the note is not a message dropped
    # Within budget: nothing to do.
    assert await policy.edit(kept, window()) is None
    # The question being answered stays, however large.
    huge = [gai.user("turn 1: " + "big " * 5000)]
    assert await DropOldest(max_tokens=100).edit(huge, window()) is None


async def test_keep_ends_and_drop_tool_results():
    messages = conversation(12)
    kept = await KeepEnds(first=1, last=3).edit(messages, window())
    assert kept is not None
    assert kept[0] is messages[0]
    assert kept[1].text == TRIMMED_NOTE
    assert kept[2:] == messages[-3:] or pairs_intact(kept)
    assert await KeepEnds(first=1, last=3).edit(kept, window()) is None  # the note is no turn

    w = window()
    shorter = await DropToolResults(max_tokens=w.tokens(messages) - 100, min_chars=300).edit(
        messages, w
    )
    assert shorter is not None
    assert len(shorter) == len(messages)
    assert pairs_intact(shorter)
    cut = [m for m in shorter if m.role == "tool" and "was removed" in m.tool_results[0].content]
    assert 1 <= len(cut) == w.shortened
    assert shorter.index(cut[0]) == 4  # the oldest result first
    assert [m for m in shorter if m.role != "tool"] == [m for m in messages if m.role != "tool"]


async def test_summarize_uses_the_cheaper_model_and_keeps_its_summary():
    summarizer = gai.ScriptedModel(["The user asked 20 questions; all were answered."])
    messages = conversation(20)
    w = window()
    kept = await Summarize(summarizer, max_tokens=1500, keep_last=2).edit(messages, w)
    assert kept is not None
    assert kept[0].role == "user"
    assert kept[0].text == f"{SUMMARY_HEADING}\nThe user asked 20 questions; all were answered."
    assert kept[1:] == messages[-2:] or pairs_intact(kept)
    sent = summarizer.requests[0].messages
    assert sent[0].role == "system"
    assert "turn 1: question" in sent[1].text
    assert "lookup returned: xxx" in sent[1].text
    assert w.summarized == len(messages) - len(kept) + 1
    assert w.usage.input_tokens > 0


async def test_a_summarising_run_records_the_summary_and_a_resumed_run_reuses_it():
    store = MemoryStore()
    session = gai.Session("summarised", store=store)
    for n in range(1, 7):
        await gai.generate_text(
            chat_model(), prompt=f"turn {n}: " + "tell me " * 30, tools=[lookup],
            session=session, stop_when=gai.NoMoreTools(),
        )  # fmt: skip
    cheap = gai.ScriptedModel(["Summary: six turns about lorem ipsum."], name="cheap")
    policy = Summarize(cheap, max_tokens=200, keep_last=2)
    crashing = _crash_after(chat_model(), calls=1)
    with pytest.raises(RuntimeError, match="provider went away"):
        await gai.generate_text(
            crashing, prompt="turn 9: and then?", tools=[lookup], session=session,
            stop_when=gai.NoMoreTools(), context=policy, run_store=store, run_id="sum-1",
        )  # fmt: skip
    record = await store.load_run("sum-1")
    step = record.steps[0]
    assert step.context is not None
    assert step.context.summarized > 0
    assert step.context.added[0][1].text.endswith("six turns about lorem ipsum.")
    assert step.context.usage is not None
    # The session holds the summarised conversation already.
    assert (await session.messages())[0].text.startswith(SUMMARY_HEADING)
    # Resumed, the run rebuilds the summarised conversation from its log: the cheap
    # model (its script is used up) is not asked again.
    result = await gai.resume(
        "sum-1", store=store, model=chat_model(), tools=[lookup], stop_when=gai.NoMoreTools(),
        context=policy,
    )  # fmt: skip
    assert result.text == "answer 9"
    assert result.messages[0].text.startswith(SUMMARY_HEADING)
    assert len(cheap.requests) == 1
    assert result.usage.input_tokens >= step.context.usage.input_tokens


def _crash_after(model: gai.Model, calls: int) -> gai.Model:
    from gai.models import FunctionModel

    seen: list[int] = []

    async def answer(
        messages: Sequence[Message], tools: Sequence[gai.types.ToolDefinition]
    ) -> gai.ModelResponse:
        seen.append(1)
        if len(seen) > calls:
            raise RuntimeError("provider went away")
        request = gai.ModelRequest(messages=tuple(messages), tools=tuple(tools))
        return await model.generate(request)

    return FunctionModel(answer, name="chat")


async def test_a_function_policy_and_its_checks():
    def last_four(messages: list[Message]) -> list[Message]:
        return messages[-4:]

    result = await gai.generate_text(
        chat_model(tool_every=100), messages=conversation(3, tool_every=100)[:-1], context=last_four
    )
    step = result.steps[0]
    assert step.context is not None
    assert step.context.dropped == 1
    assert step.context.policy.startswith("ContextFunction")
    assert len(result.messages) == 5  # the four kept and the answer

    def orphan(messages: list[Message]) -> list[Message]:
        return [m for m in messages if not m.tool_calls]

    with pytest.raises(UserError, match="without its call"):
        await gai.generate_text(
            chat_model(tool_every=2), messages=conversation(2)[:-1], context=orphan
        )
    with pytest.raises(UserError, match="context= takes a policy"):
        await gai.generate_text("test", prompt="hi", context=3)  # type: ignore[arg-type]
    with pytest.raises(gai.ConfigError, match="max_tokens must be a whole number"):
        DropOldest(max_tokens="lots")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="target must be a share"):
        DropOldest(max_tokens=100, target=2)


async def test_the_counter_follows_the_provider():
    counter = TokenCounter()
    messages = conversation(4)
    raw = estimate_tokens(messages)
    counter.calibrate(raw, raw * 2)
    assert counter.count(messages) == raw * 2
    counter.calibrate(raw, 0)  # a provider without usage changes nothing
    assert counter.ratio == 2
    counter.calibrate(1, 10_000)
    assert counter.ratio == 4.0  # one odd report cannot make counts absurd


async def test_runs_show_and_the_step_say_what_the_policy_did(tmp_path: object):
    store = MemoryStore()
    result = await gai.generate_text(
        chat_model(tool_every=100), messages=conversation(20, tool_every=100)[:-1],
        context=DropOldest(max_tokens=300), run_store=store,
    )  # fmt: skip
    edit = result.steps[0].context
    assert edit is not None
    assert edit.describe().startswith("DropOldest(max_tokens=300, keep_first=0): ")
    assert "message(s) dropped" in edit.describe()
    record = await store.load_run(result.run_id)
    assert record.steps[0].context == edit
    from gai.cli.runs import _describe

    assert "context: DropOldest" in _describe(record)


async def test_a_replayed_run_applies_the_recorded_edits():
    store = MemoryStore()
    cheap = gai.ScriptedModel(["Summary: twenty turns."], name="cheap")
    recorded = await gai.generate_text(
        chat_model(tool_every=100), messages=conversation(20, tool_every=100)[:-1],
        context=Summarize(cheap, max_tokens=300, keep_last=2), run_store=store,
    )  # fmt: skip
    assert recorded.steps[0].context is not None
    replay = await gai.ReplayModel.from_run(store, recorded.run_id)
    # No policy and no summarising model: the recording's edit is applied as it was.
    again = await gai.generate_text(replay, messages=conversation(20, tool_every=100)[:-1])
    replay.verify()
    assert again.text == recorded.text
    assert [m.text for m in again.messages] == [m.text for m in recorded.messages]
    assert again.steps[0].context == recorded.steps[0].context
    assert len(cheap.requests) == 1


async def test_the_step_span_says_what_the_policy_did():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from gai.observe.otel import OpenTelemetryObserver

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    await gai.generate_text(
        chat_model(tool_every=100), messages=conversation(20, tool_every=100)[:-1],
        context=DropOldest(max_tokens=300), observers=[OpenTelemetryObserver(provider)],
    )  # fmt: skip
    step = next(
        s
        for s in exporter.get_finished_spans()
        if s.attributes and "gai.context.policy" in s.attributes
    )
    attributes: dict[str, Any] = dict(step.attributes or {})
    assert attributes["gai.context.policy"] == "DropOldest(max_tokens=300, keep_first=0)"
    assert attributes["gai.context.dropped"] > 0
    assert attributes["gai.context.tokens_after"] < attributes["gai.context.tokens_before"]


async def test_no_policy_changes_an_assistant_message():
    signed = gai.types.Reasoning(text="thinking", provider="anthropic", signature="sig")
    messages: list[Message] = []
    for n in range(1, 16):
        messages.append(gai.user(f"turn {n}: " + "words " * 30))
        call = ToolCall(call_id=f"c{n}", name="lookup", arguments={"q": str(n)})
        messages.append(assistant_message("", [call], [signed]))
        messages.append(
            tool_message([ToolResult(call_id=f"c{n}", name="lookup", output="x" * 900)])
        )
        messages.append(
            Message(role="assistant", parts=(signed, gai.types.Text(text=f"answer {n}")))
        )
    assistants = {id(m) for m in messages if m.role == "assistant"}
    cheap = gai.ScriptedModel(["summary"])
    for policy in (
        DropOldest(max_tokens=800),
        KeepEnds(first=1, last=3),
        DropToolResults(max_tokens=800),
        Summarize(cheap, max_tokens=800),
    ):
        kept = await policy.edit(list(messages), window())
        assert kept is not None, policy
        assert pairs_intact(kept), policy
        # Every assistant message kept is the very one the provider signed.
        assert all(id(m) in assistants for m in kept if m.role == "assistant"), policy


async def test_the_timeline_page_says_what_the_policy_did():
    from gai.observe.timeline import render_timeline
    from gai.types.trace import RunTrace

    result = await gai.generate_text(
        chat_model(tool_every=100), messages=conversation(20, tool_every=100)[:-1],
        context=DropOldest(max_tokens=300),
    )  # fmt: skip
    page = render_timeline(RunTrace.from_result(result))
    assert "context: DropOldest(max_tokens=300, keep_first=0): " in page
    assert "message(s) dropped (~" in page
