"""Log entries leave out what other entries hold and fields that are None; reads restore them."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

import gai
from gai.models import ScriptedModel
from gai.providers.base import ModelResponse
from gai.store import BaseStore, NewRun
from gai.store.records import RecordedResponse, RunSnapshot
from tests.store.conftest import log

# Every model the stores write with exclude_none, and so every model nested in them.
STORED: list[type[Any]] = [
    RecordedResponse,
    gai.Step,
    gai.ToolResult,
    gai.TextResult,
    RunSnapshot,
]


def _is_value_class(annotation: Any) -> bool:
    return isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
    )


def _nested_models(annotation: Any) -> list[type[Any]]:
    if _is_value_class(annotation):
        return [annotation]
    found: list[type[Any]] = []
    for arg in typing.get_args(annotation):
        found.extend(_nested_models(arg))
    return found


def _fields(cls: type[Any]) -> list[tuple[str, Any, bool, Any]]:
    """(name, annotation, required, default) of a pydantic model's or dataclass's fields."""
    if issubclass(cls, BaseModel):
        return [
            (name, info.annotation, info.is_required(), info.default)
            for name, info in cls.model_fields.items()
        ]
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if f.default is dataclasses.MISSING else f.default
        out.append((f.name, hints[f.name], required, default))
    return out


def _allows_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _allows_none(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_allows_none(arg) for arg in typing.get_args(annotation))
    return False


def test_every_field_that_may_be_none_defaults_to_none() -> None:
    # A None left out of the JSON must read back as None, so such a field cannot be
    # required or default to something else.
    seen: set[type[Any]] = set()
    todo: list[type[Any]] = list(STORED)
    wrong = []
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, annotation, required, default in _fields(model):
            todo.extend(_nested_models(annotation))
            nullable = _allows_none(annotation) and annotation is not Any
            if nullable and (required or default is not None):
                wrong.append(f"{model.__name__}.{name}")
    assert len(seen) > len(STORED)
    assert wrong == []


@gai.tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


def _script() -> ScriptedModel:
    return ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    gai.ToolCall(call_id="c1", name="lookup", arguments={"key": "x", "n": None}),
                    gai.ToolCall(call_id="c2", name="lookup", arguments={"key": "y"}),
                ),
                usage=gai.Usage(input_tokens=11, output_tokens=7, cache_read_tokens=3),
                finish_reason="tool_calls",
                model_name="m-2024",
                attempts=2,
            ),
            ModelResponse(
                text="done",
                usage=gai.Usage(input_tokens=30, output_tokens=2),
                model_name="m-2025",
            ),
        ]
    )


async def test_step_entries_hold_only_what_the_answer_does_not(store: BaseStore) -> None:
    result = await gai.generate_text(
        _script(), prompt="go", tools=[lookup], stop_when=gai.NoMoreTools(), run_store=store,
        run_id="r1",
    )  # fmt: skip
    record = await store.load_run("r1")
    entries = [c.payload for c in record.checkpoints if c.kind == "step_finished"]
    assert len(entries) == 2
    for entry in entries:
        assert not {"text", "usage", "finish_reason", "tool_calls", "tool_results"} & set(entry)
        assert None not in entry.values()
    assert record.steps == list(result.steps)
    assert record.steps[0].usage.cache_read_tokens == 3
    assert record.steps[0].attempts == 2
    assert record.steps[1].response_model == "m-2025"
    assert record.result == result


async def test_a_log_written_before_compact_entries_still_reads(store: BaseStore) -> None:
    # Older logs kept a step's text, usage and the rest in its own entry.
    answer = RecordedResponse(text="done", usage=gai.Usage(input_tokens=5), model_name="a")
    step = gai.Step(step_number=1, text="done", usage=gai.Usage(input_tokens=5), model="m")
    old = step.model_dump(mode="json", exclude={"tool_calls", "tool_results"})
    old["response_model"] = "as-logged"
    await store.write(
        [
            NewRun("r1", "m", RunSnapshot(messages=[gai.user("go")])),
            log("r1", 1, "model_response", 1, answer.model_dump(mode="json")),
            log("r1", 2, "step_finished", 1, old),
        ]
    )
    record = await store.load_run("r1")
    assert record.steps == [step.model_copy(update={"response_model": "as-logged"})]


@pytest.mark.parametrize("output", [{"a": None, "b": [None]}, None])
async def test_nones_inside_values_are_kept(store: BaseStore, output: Any) -> None:
    @gai.tool
    def odd(key: str | None) -> Any:
        """Return something with nulls in it."""
        return output

    model = ScriptedModel(
        [
            ModelResponse(
                tool_calls=(gai.ToolCall(call_id="c1", name="odd", arguments={"key": None}),)
            ),
            "done",
        ]
    )
    result = await gai.generate_text(
        model, prompt="go", tools=[odd], stop_when=gai.NoMoreTools(), run_store=store,
        run_id="r1",
    )  # fmt: skip
    record = await store.load_run("r1")
    assert record.steps[0].tool_results[0].output == output
    assert record.steps[0].tool_calls[0].arguments == {"key": None}
    assert record.result == result


@pytest.mark.parametrize("status", ["completed", "paused", "failed", "cancelled", "running"])
@pytest.mark.parametrize("without_messages", [False, True])
async def test_a_stored_result_reads_back_as_the_result_less_what_the_log_holds(
    status: Any, without_messages: bool
) -> None:
    from gai.store.base import result_json

    calls = ModelResponse(tool_calls=(gai.ToolCall(call_id="c1", name="ping"),))

    @gai.tool
    def ping() -> str:
        """Ping."""
        return "pong"

    result = await gai.generate_text(
        ScriptedModel([calls, "done"]), prompt="x", tools=[ping], stop_when=gai.MaxSteps(3)
    )
    assert result.steps
    assert result.messages
    data = result_json(status, result, without_messages=without_messages)
    assert data is not None
    expected: dict[str, Any] = {}
    if status in ("completed", "paused"):
        expected["steps"] = ()
    if without_messages:
        expected["messages"] = ()
    assert gai.TextResult.model_validate_json(data) == result.model_copy(update=expected)
    assert result_json(status, None) is None
