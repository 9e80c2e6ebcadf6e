"""Tool outputs as JSON values, for protocols that carry them as JSON."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

__all__ = ["json_safe"]


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data: models, dataclasses, dates as JSON, others as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        plain = to_jsonable_python(value)
        json.dumps(plain)
    except (TypeError, ValueError):
        return str(value)
    return plain
