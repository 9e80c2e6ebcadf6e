from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

import gai
from gai import Message, Step, StopReason, Text, TextResult, ToolCall, ToolResult, Usage
from gai.types import ImageURL, ToolCallPart, ToolResultPart


def test_usage_adds_and_defaults_total():
    a = Usage(input_tokens=3, output_tokens=2)
    assert a.total_tokens == 5
    b = Usage(input_tokens=1, output_tokens=1, total_tokens=10)
    assert a + b == Usage(input_tokens=4, output_tokens=3, total_tokens=15)
    assert sum([a, b]) == a + b
    assert Usage() + Usage() == Usage()


def test_message_helpers_build_typed_parts():
    assert gai.system("be brief") == Message(role="system", parts=(Text(text="be brief"),))
    m = gai.user("look", "https://x/img.png")
    assert m.role == "user"
    assert m.parts == (Text(text="look"), ImageURL(url="https://x/img.png"))
    assert m.text == "look"
    assert gai.assistant("ok").role == "assistant"


def test_message_rejects_unknown_role_and_part():
    with pytest.raises(ValidationError):
        Message.model_validate({"role": "robot", "parts": []})
    with pytest.raises(ValidationError):
        Message.model_validate({"role": "user", "parts": [{"kind": "video", "url": "x"}]})


def test_message_parts_round_trip_through_json():
    m = Message(
        role="assistant",
        parts=(
            Text(text="hi"),
            ToolCallPart(call_id="c1", name="f", arguments={"x": [1, 2]}),
            ToolResultPart(call_id="c1", name="f", content="3", is_error=False),
            ImageURL(url="data:image/png;base64,AAAA", media_type="image/png"),
        ),
        name="agent",
    )
    assert Message.model_validate_json(m.model_dump_json()) == m
    assert [p.kind for p in m.parts] == ["text", "tool_call", "tool_result", "image_url"]
    assert m.tool_calls[0].name == "f"
    assert m.tool_results[0].content == "3"


def test_tool_call_gets_an_id_when_none_given():
    a, b = ToolCall(name="f"), ToolCall(name="f")
    assert a.call_id.startswith("call_")
    assert a.call_id != b.call_id


def test_tool_result_content_is_text_or_json_or_error():
    assert ToolResult(call_id="1", name="f", output="plain").content == "plain"
    assert ToolResult(call_id="1", name="f", output={"a": 1}).content == '{"a":1}'
    failed = ToolResult(call_id="1", name="f", error="boom")
    assert failed.content == "boom"
    assert not failed.ok


def test_text_result_round_trips_through_json():
    step = Step(
        step_number=1,
        text="t",
        tool_calls=(ToolCall(call_id="c", name="f", arguments={"a": 1}),),
        tool_results=(ToolResult(call_id="c", name="f", output={"r": [1]}, duration=0.1),),
        usage=Usage(input_tokens=5, output_tokens=7),
        duration=0.3,
        model_duration=0.2,
        finish_reason="tool_calls",
        model="scripted",
    )
    result = TextResult(
        text="done",
        steps=(step,),
        usage=step.usage,
        stop_reason=StopReason(kind="tool_seen", detail="tool 'f'", condition="UntilToolSeen('f')"),
        messages=(gai.user("go"),),
        run_id="r1",
        raw={"id": "x"},
    )
    again = TextResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.tool_calls == [step.tool_calls[0]]
    assert again.steps[0].tools_duration == pytest.approx(0.1)
    assert pickle.loads(pickle.dumps(result)) == result


def test_values_are_not_validated_when_built_but_when_read_in():
    # Built by gai from checked values, so not checked again; data from outside is.
    assert Usage(input_tokens=3).total_tokens == 3
    with pytest.raises(ValidationError):
        Usage.model_validate({"input_tokens": "many"})
