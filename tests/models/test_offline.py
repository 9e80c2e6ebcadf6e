from __future__ import annotations

import enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field

import gai
from gai import ModelResponse, ScriptedModel, TestModel, tool
from gai.models import FunctionModel
from gai.models._fake_args import fake_value


class Color(enum.Enum):
    RED = "red"


class Box(BaseModel):
    label: str = Field(min_length=12, max_length=20)
    size: int = Field(gt=3, le=10)
    weight: float = Field(ge=-5.0, lt=0)
    color: Color
    tags: list[str] = Field(min_length=2)
    kind: Literal["crate"]


@tool
def ship(box: Box, when: str | None, urgent: bool, note: str = "none") -> str:
    """Ship a box."""
    return f"{box.label}:{box.size}:{box.color.value}:{urgent}"


@tool
def count(n: int) -> int:
    """Count."""
    return n


async def test_test_model_calls_every_tool_with_valid_arguments_then_summarises():
    result = await gai.generate_text(
        TestModel(), prompt="go", tools=[ship, count], stop_when=gai.MaxSteps(5)
    )
    first = result.steps[0]
    assert [c.name for c in first.tool_calls] == ["ship", "count"]
    assert all(r.ok for r in first.tool_results), first.error
    assert result.steps[1].text == "ship -> examplexxxxx:4:red:True; count -> 1"
    assert result.stop_reason.kind == "no_more_tools"
    # usage counted in words, deterministic
    again = await gai.generate_text(
        TestModel(), prompt="go", tools=[ship, count], stop_when=gai.MaxSteps(5)
    )
    assert again.usage == result.usage
    assert result.usage.total_tokens > 0


async def test_test_model_options():
    r = await gai.generate_text(
        TestModel(call_tools=["count"], text="fixed"),
        prompt="go",
        tools=[ship, count],
        stop_when=gai.MaxSteps(3),
    )
    assert [c.name for c in r.steps[0].tool_calls] == ["count"]
    assert r.text == "fixed"
    r2 = await gai.generate_text(TestModel(), prompt="hello there")
    assert r2.text == "test answer to: hello there"
    r3 = await gai.generate_text(TestModel(), prompt="x", tools=[ship, count], tool_choice="count")
    assert [c.name for c in r3.steps[0].tool_calls] == ["count"]
    r4 = await gai.generate_text(TestModel(), prompt="x", tools=[count], tool_choice="none")
    assert r4.steps[0].tool_calls == ()


def test_fake_value_handles_refs_formats_and_unions():
    schema = {
        "type": "object",
        "properties": {
            "d": {"type": "string", "format": "date"},
            "u": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/N"}]},
            "t": {"type": ["null", "integer"], "exclusiveMaximum": -2},
            "c": {"const": 7},
            "m": {"type": "number", "exclusiveMinimum": 1},
            "x": {},
        },
        "$defs": {"N": {"type": "object", "properties": {"k": {"type": "boolean"}}}},
    }
    assert fake_value(schema, schema) == {
        "d": "2024-01-01",
        "u": {"k": True},
        "t": -3,
        "c": 7,
        "m": 1.5,
        "x": "example",
    }


async def test_scripted_model_replays_and_records():
    model = ScriptedModel(["one", ModelResponse(text="two", usage=gai.Usage(input_tokens=1))])
    r1 = await gai.generate_text(model, prompt="first prompt")
    r2 = await gai.generate_text(model, prompt="second")
    assert (r1.text, r2.text) == ("one", "two")
    assert r1.usage == gai.Usage(input_tokens=2, output_tokens=1)
    assert r2.usage == gai.Usage(input_tokens=1)
    assert [req.messages[-1].text for req in model.requests] == ["first prompt", "second"]
    assert model.remaining == 0
    with pytest.raises(gai.errors.ScriptExhaustedError, match="has no response left"):
        await gai.generate_text(model, prompt="third")


async def test_function_model_sync_and_async():
    def sync_fn(messages, tools):
        return f"{len(messages)} msgs, tools: {[t.name for t in tools]}"

    async def async_fn(messages, tools):
        return ModelResponse(text="async", finish_reason="length")

    r = await gai.generate_text(FunctionModel(sync_fn), prompt="x", tools=[count])
    assert r.text == "1 msgs, tools: ['count']"
    assert r.steps[0].model == "function:sync_fn"
    r2 = await gai.generate_text(FunctionModel(async_fn, name="mine"), prompt="x")
    assert (r2.text, r2.steps[0].finish_reason, r2.steps[0].model) == ("async", "length", "mine")


def test_model_response_finish_reason_defaults():
    assert ModelResponse(text="a").finish_reason == "stop"
    assert ModelResponse(tool_calls=(gai.ToolCall(name="f"),)).finish_reason == "tool_calls"


async def test_model_strings_resolve_through_the_registry():
    r = await gai.generate_text("test", prompt="hi")
    assert r.steps[0].model == "test"
    assert gai.resolve_model("test:any").name == "test:any"
    with pytest.raises(gai.errors.UnknownModelError, match="Did you mean 'test'") as info:
        gai.resolve_model("tset:x")
    assert info.value.suggestions[0] == "test"
    with pytest.raises(gai.errors.UnknownModelError, match="known providers"):
        gai.resolve_model("zzzzzz")
    with pytest.raises(gai.UserError, match="provider:model"):
        gai.resolve_model(42)  # type: ignore[arg-type]


def test_register_provider():
    gai.register_provider(
        "echo", lambda name: FunctionModel(lambda m, t: name, name=f"echo:{name}")
    )
    try:
        assert gai.resolve_model("echo:abc").name == "echo:abc"
        with pytest.raises(gai.UserError, match="already registered"):
            gai.register_provider("echo", lambda name: TestModel())
        with pytest.raises(gai.UserError, match="without ':'"):
            gai.register_provider("a:b", lambda name: TestModel())
    finally:
        from gai import _registry

        _registry._FACTORIES.pop("echo")


def test_models_satisfy_the_protocol():
    for m in (TestModel(), ScriptedModel([]), FunctionModel(lambda m, t: "x")):
        assert isinstance(m, gai.Model)
        assert repr(m).startswith(type(m).__name__)


def test_model_strings_for_openai_compatible_services(monkeypatch: pytest.MonkeyPatch):
    from gai.providers.openai import OpenAI

    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    model = gai.resolve_model("groq:llama-3.3-70b-versatile")
    assert isinstance(model, OpenAI)
    assert model.name == "groq:llama-3.3-70b-versatile"
    assert gai.resolve_model("groq:llama-3.3-70b-versatile") is model
    with pytest.raises(gai.errors.MissingAPIKeyError, match="OPENAI_API_KEY"):
        gai.resolve_model("openai:gpt-4o-mini-uncached")
