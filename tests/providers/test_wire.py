"""Each message of a run is encoded once and reused on every later step."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Sequence
from typing import Any

import orjson

import gai
from gai import MaxSteps, StepOverrides, tool
from gai.providers import anthropic as anthropic_wire
from gai.providers import gemini as gemini_wire
from gai.providers import ollama as ollama_wire
from gai.providers import openai as openai_wire
from gai.providers.base import BaseChatModel, ModelRequest, ModelResponse
from gai.providers.wire import (
    MessageHistory,
    attach_history,
    encoded_messages,
    encoded_turns,
)
from gai.types import Message, ToolCall, ToolResultPart
from gai.types.transcript import assistant_message, tool_message


class Counting:
    """An encoder that counts the messages it converts."""

    def __init__(self) -> None:
        self.seen: list[Message] = []

    def __call__(self, message: Message) -> list[dict[str, Any]]:
        self.seen.append(message)
        return openai_wire._messages("openai", message)


def full(messages: Sequence[Message]) -> list[Any]:
    return [entry for m in messages for entry in openai_wire._messages("openai", m)]


def decoded(fragment: orjson.Fragment) -> Any:
    return orjson.loads(orjson.dumps(fragment))


def conversation() -> list[Message]:
    call = ToolCall(call_id="c1", name="add", arguments={"a": 1, "b": None})
    return [
        gai.system("be brief"),
        gai.user("add 1 and nothing"),
        assistant_message("", [call]),
        tool_message([gai.ToolResult(call_id="c1", name="add", output="1")]),
        gai.user("and again?"),
    ]


def test_a_growing_history_encodes_each_message_once():
    history, encode = MessageHistory(), Counting()
    messages = conversation()
    for n in range(1, len(messages) + 1):
        request = attach_history(ModelRequest(messages=tuple(messages[:n])), history)
        assert decoded(encoded_messages(request, encode)) == full(messages[:n])
    assert encode.seen == messages


def test_a_replaced_message_is_encoded_again_with_everything_after_it():
    history, encode = MessageHistory(), Counting()
    messages = conversation()
    history.encode(messages, encode)
    edited = [*messages[:2], gai.user("rewritten"), *messages[3:]]
    assert decoded(history.encode(edited, encode)) == full(edited)
    assert encode.seen[len(messages) :] == edited[2:]
    shorter = edited[:2]
    assert decoded(history.encode(shorter, encode)) == full(shorter)
    assert len(encode.seen) == len(messages) + len(edited) - 2


def test_equal_but_distinct_messages_are_not_taken_for_each_other():
    history, encode = MessageHistory(), Counting()
    history.encode([gai.user("same")], encode)
    history.encode([gai.user("same")], encode)
    assert len(encode.seen) == 2


def test_alternating_wire_protocols_each_get_their_own_encoding():
    # A fallback between providers of two protocols: correct each time, whatever is kept.
    history = MessageHistory()
    messages = conversation()
    chat_encoder = functools.partial(openai_wire._messages, "openai")
    for n in range(1, len(messages) + 1):
        chat = decoded(history.encode(messages[:n], chat_encoder))
        native = decoded(history.encode(messages[:n], ollama_wire._messages))
        assert chat == full(messages[:n])
        assert native == [e for m in messages[:n] for e in ollama_wire._messages(m)]
    assert chat != native


def test_a_list_changed_in_place_is_not_taken_for_the_past():
    history, encode = MessageHistory(), Counting()
    messages = conversation()[:2]
    history.encode(messages, encode)
    messages.append(gai.user("more"))
    assert decoded(history.encode(messages, encode)) == full(messages)
    messages[1] = gai.user("replaced")
    assert decoded(history.encode(messages, encode)) == full(messages)


def test_a_message_with_no_entries_leaves_no_gap():
    empty_tool = Message(role="tool", parts=())
    messages = [gai.user("a"), empty_tool, gai.user("b")]
    assert openai_wire._messages("openai", empty_tool) == []
    body = orjson.dumps(
        {"messages": encoded_messages(ModelRequest(messages=tuple(messages)), Counting())}
    )
    assert orjson.loads(body)["messages"] == full(messages)
    only_empty = ModelRequest(messages=(empty_tool,))
    assert decoded(encoded_messages(only_empty, Counting())) == []


def test_a_request_without_history_is_encoded_in_full_every_time():
    request, encode = ModelRequest(messages=tuple(conversation())), Counting()
    encoded_messages(request, encode)
    encoded_messages(request, encode)
    assert len(encode.seen) == 2 * len(conversation())


def test_the_history_is_no_part_of_a_request_value():
    messages = tuple(conversation())
    request = attach_history(ModelRequest(messages=messages), MessageHistory())
    assert request == ModelRequest(messages=messages)
    assert getattr(request.model_copy(), "_history", None) is None
    assert getattr(pickle.loads(pickle.dumps(request)), "_history", None) is None
    assert request.model_dump() == ModelRequest(messages=messages).model_dump()


class Recording(BaseChatModel):
    """Encodes each request as the OpenAI provider does, then answers from a script."""

    def __init__(self, answers: list[ModelResponse | str]) -> None:
        self.answers = answers
        self.encode = Counting()
        self.sent: list[Any] = []

    @property
    def name(self) -> str:
        return "recording"

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.sent.append(decoded(encoded_messages(request, self.encode)))
        assert self.sent[-1] == full(request.messages)
        answer = self.answers.pop(0)
        return ModelResponse(text=answer) if isinstance(answer, str) else answer


def calls(*names: str) -> ModelResponse:
    return ModelResponse(
        tool_calls=tuple(
            ToolCall(call_id=f"c{i}", name=n, arguments={}) for i, n in enumerate(names)
        )
    )


@tool
def ping() -> str:
    """Answer pong."""
    return "pong"


async def test_a_run_encodes_every_message_once_over_its_steps():
    model = Recording([calls("ping", "ping"), calls("ping"), "done"])
    result = await gai.generate_text(
        model, system="be brief", prompt="go", tools=[ping], stop_when=MaxSteps(5)
    )
    assert len(model.sent) == 3
    assert [m.role for m in model.encode.seen] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert model.sent[-1] == full(result.messages[:-1])
    results = [p for m in result.messages for p in m.parts if isinstance(p, ToolResultPart)]
    assert len(results) == 3


async def test_a_new_system_prompt_mid_run_is_sent_from_then_on():
    model = Recording([calls("ping"), calls("ping"), "done"])

    def prepare(run: gai.RunState) -> StepOverrides | None:
        return StepOverrides(system="now terse") if run.step_number == 1 else None

    await gai.generate_text(
        model,
        system="be brief",
        prompt="go",
        tools=[ping],
        stop_when=MaxSteps(5),
        prepare_step=prepare,
    )
    assert [sent[0]["content"] for sent in model.sent] == ["be brief", "now terse", "now terse"]
    assert [m.role for m in model.encode.seen] == [
        "system",
        "user",
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]


def test_a_protocol_sending_the_system_prompt_apart_reuses_the_rest():
    history, encode = MessageHistory(), Counting()
    messages = conversation()
    for n in (2, 4, 5):
        request = attach_history(ModelRequest(messages=tuple(messages[:n])), history)
        rest = [m for m in request.messages if m.role != "system"]
        assert decoded(encoded_messages(request, encode, rest)) == full(rest)
    assert encode.seen == messages[1:]


def merged_reference(messages: Sequence[Message], content: str) -> list[dict[str, Any]]:
    """Consecutive same-role turns merged, written out plainly."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role, blocks = anthropic_wire._turn(message)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1][content].extend(blocks)
        else:
            out.append({"role": role, content: blocks})
    return out


def test_turn_protocols_merge_consecutive_turns_of_one_role():
    messages = [
        gai.user("first"),
        Message(role="user", parts=()),
        gai.user("second"),
        *conversation()[2:],
    ]
    request = ModelRequest(messages=tuple(messages))
    turns = decoded(encoded_turns(request, anthropic_wire._turn, messages, "content"))
    assert turns == merged_reference(messages, "content")
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert [b["type"] for b in turns[2]["content"]] == ["tool_result", "text"]
    assert decoded(encoded_turns(request, anthropic_wire._turn, [], "content")) == []


def test_turn_protocols_convert_each_message_once():
    history, seen = MessageHistory(), []

    def turn(message: Message) -> tuple[str, list[dict[str, Any]]]:
        seen.append(message)
        return gemini_wire._turn(message)

    messages = conversation()[1:]
    for n in range(1, len(messages) + 1):
        request = attach_history(ModelRequest(messages=tuple(messages[:n])), history)
        sent = decoded(encoded_turns(request, turn, messages[:n], "parts"))
        fresh = decoded(
            encoded_turns(ModelRequest(messages=()), gemini_wire._turn, messages[:n], "parts")
        )
        assert sent == fresh
    assert seen == messages
    assert [c["role"] for c in sent] == ["user", "model", "user"]
