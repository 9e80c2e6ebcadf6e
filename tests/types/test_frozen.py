"""Values: slotted, validated where data enters, strict about fields, sharing tool arguments."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

import gai
from gai.types import Message, Step, Text, ToolCall, ToolResult, Usage


def test_values_are_slotted_and_copied_with_changes() -> None:
    result = ToolResult(call_id="1", name="t", output="x")
    assert not hasattr(result, "__dict__")
    changed = result.model_copy(update={"duration": 1.5})
    assert (changed.duration, result.duration) == (1.5, 0.0)
    assert pickle.loads(pickle.dumps(result)) == result


def test_data_entering_is_validated_and_unknown_fields_rejected() -> None:
    with pytest.raises(ValidationError, match="Unexpected keyword argument"):
        ToolResult.model_validate({"call_id": "1", "name": "t", "outptu": "x"})
    with pytest.raises(ValidationError, match="step_number"):
        Step.model_validate({"step_number": "first"})
    message = Message.model_validate(
        {"role": "user", "parts": [{"kind": "text", "text": "hi"}, {"kind": "tool_call", "call_id": "c", "name": "f"}]}
    )  # fmt: skip
    assert isinstance(message.parts[0], Text)
    assert Message.model_validate_json(message.model_dump_json()) == message
    assert Usage.model_validate({"input_tokens": 2, "output_tokens": 3}).total_tokens == 5


def test_a_result_round_trips_through_json() -> None:
    result = gai.generate_text_sync("test", prompt="hi")
    assert gai.TextResult.model_validate_json(result.model_dump_json()) == result.model_copy(
        update={"raw": None}
    )


def test_tool_arguments_are_kept_not_copied_and_still_checked() -> None:
    arguments = {"key": "value"}
    call = ToolCall(call_id="1", name="t", arguments=arguments)
    assert call.arguments is arguments
    assert ToolCall.model_validate_json('{"name": "t", "arguments": {"a": 1}}').arguments == {
        "a": 1
    }
    with pytest.raises(ValueError, match="JSON object"):
        ToolCall.model_validate({"name": "t", "arguments": ["not", "a", "dict"]})
    assert ToolCall.model_json_schema()["properties"]["arguments"]["type"] == "object"
