"""The two kinds of value gai is made of.

Values a run makes by the dozen and keeps (messages and their parts, tool calls and
results, steps, usage, the result) and notifications (run events, stream chunks) are
`readonly` slotted dataclasses: 80-odd bytes and a fraction of a microsecond each, with
no per-instance dict or fields set for the garbage collector to walk. They are not
validated when built; they are validated where data enters (`model_validate`,
`model_validate_json`: one pydantic `TypeAdapter` per class), and pydantic validates
and serialises them inside its models like any dataclass.

Documents that cross a boundary as a whole (a run's stored records, a model request
and response) are `Frozen` pydantic models, validated when built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar, dataclass_transform

from pydantic import BaseModel, ConfigDict, with_config

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic.main import IncEx

__all__ = ["Frozen", "Value", "keep_dict", "readonly"]

T = TypeVar("T")


class Frozen(BaseModel):
    """An immutable pydantic model that rejects unknown fields (stored and wire documents)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def readonly(*, eq: bool = True, kw_only: bool = False) -> Callable[[type[T]], type[T]]:
    """A slotted dataclass that type checkers treat as frozen.

    A frozen dataclass sets each field through `object.__setattr__`, which makes its
    `__init__` cost three times a plain one (0.80 against 0.25 µs for an event). These
    values are shared with every observer, so assigning to one is a type error, not a
    runtime check.

    Args:
        eq: Compare and hash by fields (as a frozen dataclass does), or by identity.
        kw_only: Fields are given by keyword (values), or also by position (events).
    """

    def build(cls: type[T]) -> type[T]:
        return dataclass(eq=eq, unsafe_hash=eq, slots=True, kw_only=kw_only)(cls)

    return build


class Value:
    """pydantic's model API for `readonly` value classes, through one `TypeAdapter` each.

    `model_validate` and `model_validate_json` validate; `model_dump` and
    `model_dump_json` serialise as pydantic does; `model_copy(update=...)` copies.
    """

    __slots__ = ()

    _gai_adapter: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        with_config(ConfigDict(extra="forbid"))(cls)  # validating rejects unknown fields

    @classmethod
    def _adapter(cls) -> TypeAdapter[Any]:
        adapter = cls.__dict__.get("_gai_adapter")
        if adapter is None:
            from pydantic import TypeAdapter

            adapter = TypeAdapter(cls)
            type.__setattr__(cls, "_gai_adapter", adapter)
        return adapter

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """A validated instance from a dict (or an instance)."""
        value: Self = cls._adapter().validate_python(obj)
        return value

    @classmethod
    def model_validate_json(cls, data: str | bytes) -> Self:
        """A validated instance from JSON."""
        value: Self = cls._adapter().validate_json(data)
        return value

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        exclude: IncEx | None = None,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The fields as a dict (`mode="json"`: JSON-compatible values)."""
        data: dict[str, Any] = self._adapter().dump_python(
            self, mode=mode, exclude=exclude, exclude_none=exclude_none
        )
        return data

    def model_dump_json(self, *, exclude: IncEx | None = None, exclude_none: bool = False) -> str:
        """The value as JSON text."""
        return self._adapter().dump_json(self, exclude=exclude, exclude_none=exclude_none).decode()

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with `update`'s fields changed."""
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        """The JSON schema of the class."""
        return cls._adapter().json_schema()


def keep_dict(value: Any, _handler: Any) -> dict[str, Any]:
    """Validate a JSON-object field without copying it (pydantic copies dicts it checks).

    Tool arguments are held by the call, its transcript part and the step; sharing one
    dict instead of three matters with many runs in flight. Used as a wrap validator.
    """
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return dict(value)
    raise ValueError(f"must be a JSON object (a dict with string keys), got {type(value).__name__}")
