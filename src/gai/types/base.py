"""The two kinds of value gai is made of.

Data a run keeps, stores or hands back (messages, steps, results, stored records) is
a `Frozen` pydantic model, validated when built. Notifications made dozens of times
per model call and read once (run events, stream chunks) are `readonly` slotted
dataclasses, never validated: they are built only by gai from values already checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, dataclass_transform

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen", "keep_dict", "readonly"]

T = TypeVar("T")


class Frozen(BaseModel):
    """An immutable pydantic model that rejects unknown fields.

    Every message, step, result and stored record is one. Construction always
    validates: measured against building instances without validation, a validated
    `Step` costs about a microsecond more and a `Text` the same, which is less than
    any shortcut's upkeep (see benchmarks/README.md).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def keep_dict(value: Any) -> dict[str, Any]:
    """Validate a JSON-object field without copying it (pydantic copies dicts it checks).

    Tool arguments are held by the call, its transcript part and the step; sharing one
    dict instead of three matters with many runs in flight.
    """
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return dict(value)
    raise ValueError(f"must be a JSON object (a dict with string keys), got {type(value).__name__}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def readonly(*, eq: bool = True) -> Callable[[type[T]], type[T]]:
    """A slotted dataclass that type checkers treat as frozen.

    Events and stream chunks are made dozens of times per model call. A frozen
    dataclass sets each field through `object.__setattr__`, which makes its `__init__`
    cost three times a plain one (0.80 against 0.25 µs for an event). These values
    are shared with every observer, so assigning to one is a type error, not a
    runtime check.

    Args:
        eq: Compare and hash by fields (as a frozen dataclass does), or by identity.
    """

    def build(cls: type[T]) -> type[T]:
        return dataclass(eq=eq, unsafe_hash=eq, slots=True)(cls)

    return build
