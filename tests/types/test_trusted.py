"""`Frozen._trusted` builds the same values as calling the class, without validating."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, PrivateAttr

from gai.providers.base import ModelRequest
from gai.types import (
    Message,
    Step,
    Text,
    ToolCall,
    ToolCallPart,
    ToolDefinition,
    ToolResult,
    ToolResultPart,
    Usage,
)
from gai.types.base import Frozen

CALL = ToolCall(call_id="c1", name="add", arguments={"a": 1})
RESULT = ToolResult(call_id="c1", name="add", output={"sum": 1}, duration=0.5)

CASES: list[tuple[type[Frozen], dict[str, Any]]] = [
    (Text, {"text": "hi"}),
    (ToolCallPart, {"call_id": "c1", "name": "add", "arguments": {"a": 1}, "provider_data": None}),
    (
        ToolCallPart,
        {"call_id": "c2", "name": "add", "arguments": {}, "provider_data": {"sig": "x"}},
    ),
    (ToolResultPart, {"call_id": "c1", "name": "add", "content": "1", "is_error": False}),
    (
        Message,
        {"role": "assistant", "parts": (Text(text="a"), ToolCallPart(call_id="c", name="f"))},
    ),
    (Message, {"role": "tool", "parts": ()}),
    (
        ToolResult,
        {"call_id": "c1", "name": "add", "output": None, "error": "boom", "duration": 1.5},
    ),
    (ToolResult, {"call_id": "c1", "name": "add", "output": [1, "x"], "start_offset": 0.25}),
    (Usage, {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}),
    (
        Step,
        {
            "step_number": 2,
            "text": "t",
            "tool_calls": (CALL,),
            "tool_results": (RESULT,),
            "usage": Usage(input_tokens=1),
            "duration": 2.0,
            "finish_reason": "tool_calls",
            "model": "m",
            "memory_mb": None,
        },
    ),
    (Step, {"step_number": 1}),
    (
        ModelRequest,
        {
            "messages": (Message(role="user", parts=(Text(text="q"),)),),
            "tools": (ToolDefinition(name="f"),),
            "tool_choice": "auto",
            "settings": {"temperature": 0},
        },
    ),
]


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_trusted_equals_calling_the_class(cls: type[Frozen], values: dict[str, Any]):
    called, trusted = cls(**values), cls._trusted(**values)
    assert type(trusted) is cls
    assert trusted == called
    assert trusted.model_fields_set == called.model_fields_set
    assert trusted.model_dump_json() == called.model_dump_json()
    assert trusted.model_dump() == called.model_dump()
    assert repr(trusted) == repr(called)
    assert cls.model_validate_json(trusted.model_dump_json()) == called
    assert trusted.model_copy(update={}) == called


def test_default_factories_run_for_each_instance():
    first, second = Step._trusted(step_number=1), Step._trusted(step_number=2)
    assert first.usage == Usage()
    assert first.usage is not second.usage
    assert ToolCall._trusted(name="f").call_id != ToolCall._trusted(name="f").call_id


class _Tagged(Frozen):
    name: str
    tags: list[str] = ["a"]  # noqa: RUF012 - pydantic copies mutable defaults
    extra: dict[str, int] = Field(default_factory=dict)


class _MoreTagged(_Tagged):
    level: int = 0


def test_mutable_defaults_are_copied_like_pydantic_does():
    first, second = _Tagged._trusted(name="x"), _Tagged._trusted(name="y")
    assert first.tags == ["a"]
    assert first.tags is not second.tags
    assert first.extra == {}
    assert first.extra is not second.extra
    assert first == _Tagged(name="x")


def test_a_subclass_has_its_own_fields():
    _Tagged._trusted(name="x")
    more = _MoreTagged._trusted(name="x", level=2)
    assert more == _MoreTagged(name="x", level=2)
    assert more.model_fields_set == {"name", "level"}


def test_missing_or_unknown_fields_are_type_errors():
    with pytest.raises(
        TypeError, match=r"ToolCallPart._trusted: missing or unknown fields \['call_id'\]"
    ):
        ToolCallPart._trusted(name="f")
    with pytest.raises(TypeError, match=r"unknown fields \['bogus'\]"):
        Text._trusted(text="x", bogus=1)


class _Private(Frozen):
    name: str
    _cache: int = PrivateAttr(default=0)


def test_a_class_with_private_attributes_must_be_called():
    with pytest.raises(TypeError, match="_Private has private attributes"):
        _Private._trusted(name="x")
