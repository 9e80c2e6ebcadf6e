"""Frozen values: immutable, strict about fields, sharing tool arguments and fields sets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gai.types import ToolCall, ToolResult


def test_values_are_immutable_and_reject_unknown_fields() -> None:
    result = ToolResult(call_id="1", name="t", output="x")
    with pytest.raises(ValidationError, match="frozen"):
        result.output = "y"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        ToolResult(call_id="1", name="t", outptu="x")  # type: ignore[call-arg]
    changed = result.model_copy(update={"duration": 1.5})
    assert (changed.duration, result.duration) == (1.5, 0.0)


def test_tool_arguments_are_kept_not_copied_and_still_checked() -> None:
    arguments = {"key": "value"}
    call = ToolCall(call_id="1", name="t", arguments=arguments)
    assert call.arguments is arguments
    assert ToolCall.model_validate_json('{"name": "t", "arguments": {"a": 1}}').arguments == {
        "a": 1
    }
    with pytest.raises(ValueError, match="JSON object"):
        ToolCall(name="t", arguments=["not", "a", "dict"])  # type: ignore[arg-type]
    assert ToolCall.model_json_schema()["properties"]["arguments"]["type"] == "object"


def test_instances_share_one_fields_set_per_content() -> None:
    c = ToolResult(call_id="3", name="t", error="boom")  # another set of the same size first
    a = ToolResult(call_id="1", name="t", output="x")
    b = ToolResult(call_id="2", name="t", output="y")
    assert a.model_fields_set is b.model_fields_set == {"call_id", "name", "output"}
    assert c.model_fields_set == {"call_id", "name", "error"}
    assert c.model_fields_set is not a.model_fields_set


def test_copies_get_their_own_set() -> None:
    a = ToolResult(call_id="1", name="t", output="x")
    b = ToolResult(call_id="2", name="t", output="y")
    changed = a.model_copy(update={"duration": 1.5})
    assert "duration" in changed.model_fields_set
    assert "duration" not in b.model_fields_set
    assert b.model_dump(exclude_unset=True) == {"call_id": "2", "name": "t", "output": "y"}
