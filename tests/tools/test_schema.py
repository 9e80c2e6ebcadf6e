from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import gai
from gai import Tool, ToolContext, tool
from gai.errors import ToolDefinitionError


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


class Address(BaseModel):
    street: str
    city: str = Field(description="City name")


class Person(BaseModel):
    name: str
    addresses: list[Address] = []


@dataclass
class Point:
    x: float
    y: float


class Options(TypedDict):
    verbose: bool


@tool
def forecast(
    city: str,
    days: int = 3,
    unit: Unit = Unit.C,
    mode: Literal["brief", "full"] = "brief",
    near: str | None = None,
    tags: list[str] | None = None,
) -> str:
    """Forecast the weather.

    Longer explanation of the tool.

    Args:
        city: City to forecast.
        days: How many days ahead.
        unit: Temperature unit.
        mode: Level of detail.
        near: Optional landmark.
        tags: Labels to attach.
    """
    return city


def test_schema_from_hints_and_google_docstring():
    assert forecast.name == "forecast"
    assert forecast.description == "Forecast the weather.\n\nLonger explanation of the tool."
    p = forecast.parameters
    assert p["type"] == "object"
    assert p["required"] == ["city"]
    assert p["additionalProperties"] is False
    props = p["properties"]
    assert props["city"] == {"type": "string", "description": "City to forecast."}
    assert props["days"] == {"type": "integer", "default": 3, "description": "How many days ahead."}
    assert props["mode"]["enum"] == ["brief", "full"]
    assert props["near"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert props["tags"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}
    assert props["unit"]["$ref"] == "#/$defs/Unit"
    assert p["$defs"]["Unit"]["enum"] == ["celsius", "fahrenheit"]
    assert "title" not in str(p)


def test_nested_models_keep_field_descriptions():
    @tool
    def register(person: Person, origin: Point, opts: Options) -> None:
        """Register someone."""

    defs = register.parameters["$defs"]
    assert defs["Address"]["properties"]["city"]["description"] == "City name"
    assert defs["Person"]["properties"]["addresses"]["items"] == {"$ref": "#/$defs/Address"}
    assert set(defs) == {"Address", "Person", "Point", "Options"}


def test_property_named_title_is_kept():
    @tool
    def book(title: str) -> str:
        """Find a book."""
        return title

    assert book.parameters["properties"] == {"title": {"type": "string"}}


def test_tool_context_parameter_is_not_in_schema():
    @tool
    async def whoami(ctx: ToolContext[dict[str, str]], loud: bool = False) -> str:
        """Say who calls."""
        return ctx.deps["user"]

    assert whoami.takes_context
    assert list(whoami.parameters["properties"]) == ["loud"]


def test_decorator_options_and_direct_call():
    @tool(name="sum_two", description="Adds.", timeout=2)
    def add(a: int, b: int) -> int:
        return a + b

    assert (add.name, add.description, add.timeout) == ("sum_two", "Adds.", 2)
    assert add(2, 3) == 5
    assert add.definition == gai.types.ToolDefinition(
        name="sum_two", description="Adds.", parameters=add.parameters
    )


def test_seed_style_tool_with_input_type():
    async def update_state(inp: Person) -> dict[str, object]:
        return {"who": inp.name}

    t = Tool(name="update_state", description="Update state", fn=update_state, input_type=Person)
    assert t.parameters["required"] == ["name"]
    assert t.validate({"name": "Ada"}) == Person(name="Ada")


def test_input_type_must_be_an_object():
    with pytest.raises(ToolDefinitionError, match="must describe a JSON object"):
        Tool(name="x", fn=lambda v: v, input_type=int)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda *args: None, r"\*args or \*\*kwargs"),
        (lambda **kw: None, r"\*args or \*\*kwargs"),
    ],
)
def test_unfillable_signatures_are_rejected(fn, message):
    with pytest.raises(ToolDefinitionError, match=message):
        Tool(name="bad", fn=fn)


def test_positional_only_and_misplaced_context_are_rejected():
    def positional(a: int, /) -> int:
        return a

    def late_ctx(a: int, ctx: ToolContext[None]) -> int:
        return a

    with pytest.raises(ToolDefinitionError, match="positional-only"):
        Tool(name="p", fn=positional)
    with pytest.raises(ToolDefinitionError, match="must be the first parameter"):
        Tool(name="c", fn=late_ctx)


def test_bad_names_and_missing_fn():
    with pytest.raises(ToolDefinitionError, match="Invalid tool name"):
        Tool(name="has space", fn=lambda: None)
    with pytest.raises(ToolDefinitionError, match="needs fn="):
        Tool(name="nofn")
    with pytest.raises(ToolDefinitionError, match="timeout must be positive"):
        Tool(name="t", fn=lambda: None, timeout=0)


def test_unresolvable_local_type_is_a_clear_error():
    class Local(BaseModel):
        a: int

    def uses_local(x: Local) -> None:  # annotation is a string here
        return None

    with pytest.raises(ToolDefinitionError, match="Cannot resolve the type hints"):
        tool(uses_local)


def test_registry_looks_up_by_name_and_rejects_clashes():
    reg = gai.tools.ToolRegistry([forecast])
    assert reg.get("forecast") is forecast
    assert "forecast" in reg
    assert len(reg) == 1
    assert list(reg) == [forecast]
    assert reg.resolve(["forecast"]) == [forecast]
    with pytest.raises(gai.UserError, match="Known: forecast"):
        reg.get("nope")
    with pytest.raises(gai.UserError, match="already registered"):
        reg.register(Tool(name="forecast", description="Twice.", fn=lambda: None))


def test_a_tool_the_model_cannot_understand_warns_once_when_made():
    with pytest.warns(
        gai.GaiWarning, match=r"Tool 'lookup' has no description.*untyped parameters key"
    ):

        @gai.tool
        def lookup(key, limit: int = 3) -> str:  # type: ignore[no-untyped-def]
            return str(key)

    with pytest.warns(gai.GaiWarning) as caught:
        gai.Tool(name="weather", description="Weather for a city.", fn=lambda city: city)
    assert "untyped parameters city" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the user's line, not gai's

    # A deliberate empty description, or a schema given as it is: nothing to warn about.
    def shout(text: str) -> str:
        return text.upper()

    gai.tool(description="")(shout)
    gai.Tool(name="mcp_tool", fn=shout, parameters={"type": "object", "properties": {}})
