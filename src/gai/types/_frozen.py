"""`Frozen`: the base of gai's immutable value types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen", "keep_dict"]

_MAX_SHARED = 8
"""Distinct fields sets kept per class and size; a class rarely has more in practice."""


class Frozen(BaseModel):
    """An immutable pydantic model whose instances share their `model_fields_set`.

    Pydantic gives every instance its own set of the field names it was given. A run
    in flight holds dozens of these values, almost all with the same few sets, and
    each set is memory and one more object for every garbage-collector pass; since
    the values cannot change, instances of a class share one set per distinct content.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    _shared_fields_sets: ClassVar[dict[int, list[set[str]]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._shared_fields_sets = {}

    def model_post_init(self, context: Any, /) -> None:
        """Swap this instance's fields set for the class's identical shared one."""
        fields = self.__pydantic_fields_set__
        known = self._shared_fields_sets.setdefault(len(fields), [])
        for shared in known:
            if shared == fields:
                object.__setattr__(self, "__pydantic_fields_set__", shared)
                return
        if len(known) < _MAX_SHARED:
            known.append(fields)


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
