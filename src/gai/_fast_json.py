"""JSON for the log entries a store writes at every step, through orjson when it can.

A run with a store serialises each model answer, the end of each step and each turn's
tool results. Through pydantic, each dump pays for its filters and the serializer's
setup, about half of what recording a step cost; these values are almost always made
of JSON types only (strings, numbers, dicts and lists), which orjson writes directly.
Each function falls back to pydantic, which gives the same JSON, for anything else: a
subclass of one of gai's types, or a value orjson does not write the way pydantic
would (a datetime, a dataclass, a pydantic model in a tool's output, bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from gai.types import Step, ToolCall, ToolResult, Usage

__all__ = ["call_list", "json_or_none", "results_json", "step_end_json", "usage_dict"]

# Anything orjson would write differently from pydantic raises instead, and is left to
# pydantic: datetimes (orjson writes "+00:00" where pydantic writes "Z"), dataclasses
# and subclasses of str, int, dict and list.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def json_or_none(value: Any) -> str | None:
    """`value` as JSON text, or None when orjson cannot write it as pydantic would."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return None


def usage_dict(usage: Usage) -> dict[str, Any] | None:
    """A `Usage`'s fields (all numbers), or None for a subclass."""
    if type(usage) is not Usage:
        return None
    return usage.__dict__


def call_list(calls: Sequence[ToolCall]) -> list[dict[str, Any]] | None:
    """Tool calls as pydantic dumps them with `exclude_none`, or None for a subclass."""
    out = []
    for call in calls:
        if type(call) is not ToolCall:
            return None
        fields = call.__dict__
        entry = {
            "call_id": fields["call_id"],
            "name": fields["name"],
            "arguments": fields["arguments"],
        }
        if fields["invalid_arguments"] is not None:
            entry["invalid_arguments"] = fields["invalid_arguments"]
        if fields["provider_data"] is not None:
            entry["provider_data"] = fields["provider_data"]
        out.append(entry)
    return out


def results_json(results: Sequence[ToolResult], fallback: Callable[[], Any]) -> str:
    """Tool results as a JSON list, as `fallback()` (a pydantic `TypeAdapter`) dumps them.

    The adapter is asked for only when needed: building it takes milliseconds.
    """
    out = []
    for result in results:
        fields = result.__dict__
        if type(result) is not ToolResult or fields["usage"] is not None:
            break  # pydantic dumps the rare result of a tool that ran other runs
        entry = {"call_id": fields["call_id"], "name": fields["name"]}
        if fields["output"] is not None:
            entry["output"] = fields["output"]
        if fields["error"] is not None:
            entry["error"] = fields["error"]
        entry["duration"] = fields["duration"]
        if fields["start_offset"] is not None:
            entry["start_offset"] = fields["start_offset"]
        out.append(entry)
    else:
        text = json_or_none(out)
        if text is not None:
            return text
    data: bytes = fallback().dump_json(results, exclude_none=True)
    return data.decode()


def step_end_json(step: Step, fields: tuple[str, ...], exclude: set[str]) -> str:
    """`step.model_dump_json(exclude=exclude, exclude_none=True)`, through orjson if it can.

    `fields` are the step's fields that `exclude` leaves, in declaration order: the few
    numbers and strings a step's end records.
    """
    if type(step) is Step:
        values = step.__dict__
        text = json_or_none({name: v for name in fields if (v := values[name]) is not None})
        if text is not None:
            return text
    return step.model_dump_json(exclude=exclude, exclude_none=True)
