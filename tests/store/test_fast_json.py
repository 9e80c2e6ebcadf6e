"""The log entries written through orjson are byte for byte what pydantic writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

import gai
from gai import _fast_json
from gai.engine._checkpoint import STEP_END_FIELDS, STEP_EXCLUDE
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.recorded import _pydantic_json, _sent_results, recorded_json
from gai.types import Step, ToolDefinition, ToolResult, ToolResultPart

RESULTS = TypeAdapter(list[ToolResult])


class _Point(BaseModel):
    x: int


@dataclasses.dataclass
class _Pair:
    a: int
    b: str


class _Label(str):
    pass


# Values a tool can return or a model can put in a call's arguments: JSON types that
# orjson writes itself, and others it must leave to pydantic.
JSON_VALUES: list[Any] = [
    "plain",
    'é "quoted" \\ \n\t\x01 \u2028 😀',
    {"n": [1, 2.5, -0.0, None, True], "deep": {"k": [{"z": 1e-7}]}},
    [1, "two", 3.0],
    (1, 2),
    0,
    2**63 - 1,
    1e300,
    float("nan"),
    float("inf"),
]
OTHER_VALUES: list[Any] = [
    dt.datetime(2026, 11, 26, 13, 7, 25, 197839, tzinfo=dt.UTC),
    dt.date(2026, 11, 26),
    _Point(x=1),
    _Pair(1, "b"),
    b"bytes",
    _Label("label"),
    {1: "non-string key"},
    2**70,
    {"set": {1}},
]


def _response(arguments: Any, **fields: Any) -> ModelResponse:
    calls = (
        gai.ToolCall(call_id="c1", name="lookup", arguments={"value": arguments}),
        gai.ToolCall(
            call_id="c2",
            name="lookup",
            invalid_arguments="{oops",
            provider_data={"signature": "abc"},
        ),
    )
    return ModelResponse(
        text="checking",
        tool_calls=calls,
        usage=gai.Usage(input_tokens=10, output_tokens=3, cache_read_tokens=2),
        finish_reason="tool_calls",
        **fields,
    )


def _request() -> ModelRequest:
    sent = gai.Message(
        role="tool",
        parts=(
            ToolResultPart(call_id="c0", name="lookup", content='é "quoted" \n'),
            ToolResultPart(call_id="c9", name="lookup", content="failed", is_error=True),
        ),
    )
    return ModelRequest(
        messages=[gai.user("hi"), sent],
        tools=[ToolDefinition(name="lookup"), ToolDefinition(name="other")],
    )


def _pydantic_recorded(
    response: ModelResponse, request: ModelRequest, started: list[str] | None
) -> str:
    names = [t.name for t in request.tools]
    return _pydantic_json(response, request, 0.25, started, names, _sent_results(request))


@pytest.mark.parametrize("value", JSON_VALUES + OTHER_VALUES, ids=repr)
@pytest.mark.parametrize("started", [None, ["c1", "c2"]])
def test_a_model_answer_is_recorded_as_pydantic_writes_it(
    value: Any, started: list[str] | None
) -> None:
    request = _request()
    for response in (
        _response(value),
        _response(value, model_name="m-1", answered_by="fallback:b", attempts=2),
        ModelResponse(text=value if isinstance(value, str) else "done"),
    ):
        expected = _pydantic_recorded(response, request, started)
        assert recorded_json(response, request, 0.25, started) == expected


def test_a_subclass_of_a_call_or_of_usage_is_left_to_pydantic() -> None:
    class MyUsage(gai.Usage):
        pass

    class MyCall(gai.ToolCall):
        pass

    assert _fast_json.usage_dict(MyUsage(input_tokens=1)) is None
    assert _fast_json.call_list([MyCall(call_id="c", name="n")]) is None
    request = _request()
    response = ModelResponse(
        tool_calls=(MyCall(call_id="c", name="n"),), usage=MyUsage(input_tokens=1)
    )
    assert recorded_json(response, request, 0.25) == _pydantic_recorded(response, request, None)


def _results(value: Any) -> list[ToolResult]:
    return [
        ToolResult(call_id="a", name="lookup", output=value, duration=5.27e-6),
        ToolResult(call_id="b", name="lookup", error="it broke", duration=0.25, start_offset=1.5),
        ToolResult(call_id="c", name="lookup"),
    ]


@pytest.mark.parametrize("value", JSON_VALUES + OTHER_VALUES, ids=repr)
def test_tool_results_are_written_as_pydantic_writes_them(value: Any) -> None:
    results = _results(value)
    expected = RESULTS.dump_json(results, exclude_none=True).decode()
    assert _fast_json.results_json(results, lambda: RESULTS) == expected


def test_json_values_take_orjson_and_others_fall_back() -> None:
    for value in JSON_VALUES:
        assert _fast_json.json_or_none({"output": value}) is not None, value
    for value in OTHER_VALUES:
        assert _fast_json.json_or_none({"output": value}) is None, value


def test_a_subclass_of_tool_result_is_left_to_pydantic() -> None:
    class Mine(ToolResult):
        note: str = "extra"

    results = [*_results("ok"), Mine(call_id="m", name="lookup", output="x")]
    expected = RESULTS.dump_json(results, exclude_none=True).decode()
    assert _fast_json.results_json(results, lambda: RESULTS) == expected


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"model": "openai:m", "start_offset": 0.03, "duration": 1e-5},
        {"memory_mb": 71.5, "error": 'tool "x" failed', "model": "é"},
    ],
)
def test_a_step_end_is_written_as_pydantic_writes_it(fields: dict[str, Any]) -> None:
    step = Step(
        step_number=3,
        text="not written",
        tool_calls=(gai.ToolCall(call_id="c", name="n"),),
        usage=gai.Usage(input_tokens=4),
        **fields,
    )
    expected = step.model_dump_json(exclude=STEP_EXCLUDE, exclude_none=True)
    assert _fast_json.step_end_json(step, STEP_END_FIELDS, STEP_EXCLUDE) == expected


def test_the_step_end_fields_follow_the_step_model() -> None:
    assert set(STEP_END_FIELDS) == set(Step.model_fields) - STEP_EXCLUDE
    assert list(STEP_END_FIELDS) == [f for f in Step.model_fields if f in STEP_END_FIELDS]
