"""Turn a Python function's signature and Google docstring into a validator and JSON schema."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from gai.errors import ToolDefinitionError
from gai.tools.context import ToolContext

__all__ = [
    "ParsedDoc",
    "arguments_model",
    "clean_schema",
    "input_schema",
    "parse_doc",
    "takes_context",
]


class ParsedDoc(typing.NamedTuple):
    description: str
    params: dict[str, str]


def parse_doc(fn: Callable[..., Any]) -> ParsedDoc:
    """Split a docstring into the tool description and per-argument descriptions."""
    doc = inspect.getdoc(fn)
    if not doc:
        return ParsedDoc("", {})
    import docstring_parser  # loaded with the first tool, not with `import gai`

    parsed = docstring_parser.parse(doc)
    parts = [p for p in (parsed.short_description, parsed.long_description) if p]
    params = {p.arg_name: p.description for p in parsed.params if p.description}
    return ParsedDoc("\n\n".join(parts).strip(), params)


def _is_context(annotation: Any) -> bool:
    return annotation is ToolContext or typing.get_origin(annotation) is ToolContext


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise ToolDefinitionError(
            f"Cannot resolve the type hints of {name}: {exc}. Define the types it uses at "
            f"module level (not inside a function) so they can be resolved."
        ) from exc


def takes_context(fn: Callable[..., Any]) -> bool:
    """Whether the function's first parameter is annotated `ToolContext`."""
    params = list(inspect.signature(fn).parameters.values())
    if not params:
        return False
    return _is_context(_hints(fn).get(params[0].name))


def arguments_model(fn: Callable[..., Any], name: str, docs: dict[str, str]) -> type[BaseModel]:
    """Build a pydantic model of the function's parameters (minus a leading ToolContext)."""
    hints = _hints(fn)
    params = list(inspect.signature(fn).parameters.values())
    if params and _is_context(hints.get(params[0].name)):
        params = params[1:]
    fields: dict[str, Any] = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"Tool {name!r}: parameter {p.name!r} is *args or **kwargs, which a model "
                f"cannot fill. Declare each argument explicitly, or take one pydantic model."
            )
        if p.kind is p.POSITIONAL_ONLY:
            raise ToolDefinitionError(
                f"Tool {name!r}: parameter {p.name!r} is positional-only; tools are called "
                f"with keyword arguments. Remove the '/' from the signature."
            )
        if _is_context(hints.get(p.name)):
            raise ToolDefinitionError(
                f"Tool {name!r}: ToolContext must be the first parameter, not {p.name!r}."
            )
        annotation = hints.get(p.name, Any)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (annotation, Field(default, description=docs.get(p.name)))
    try:
        return create_model(
            f"{name}_arguments",
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
            **fields,
        )
    except Exception as exc:
        raise ToolDefinitionError(
            f"Tool {name!r}: cannot build an argument schema from its type hints: {exc}"
        ) from exc


def input_schema(adapter: TypeAdapter[Any] | type[BaseModel], name: str) -> dict[str, Any]:
    """JSON schema of the tool's input; it must describe an object."""
    try:
        schema = (
            adapter.json_schema()
            if isinstance(adapter, TypeAdapter)
            else adapter.model_json_schema()
        )
    except Exception as exc:
        raise ToolDefinitionError(
            f"Tool {name!r}: its input type has no JSON schema: {exc}"
        ) from exc
    cleaned: dict[str, Any] = clean_schema(schema)
    if cleaned.get("type") != "object":
        raise ToolDefinitionError(
            f"Tool {name!r}: input_type must describe a JSON object (a pydantic model, "
            f"dataclass or TypedDict), got a schema of type {cleaned.get('type')!r}."
        )
    return cleaned


def clean_schema(schema: Any) -> Any:
    """Drop pydantic's auto-generated titles, which only add tokens for the model."""
    if isinstance(schema, dict):
        return {
            k: (
                {pk: clean_schema(pv) for pk, pv in v.items()}
                if k in ("properties", "$defs") and isinstance(v, dict)
                else clean_schema(v)
            )
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [clean_schema(v) for v in schema]
    return schema
