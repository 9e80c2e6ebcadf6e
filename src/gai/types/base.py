"""The two kinds of value gai is made of.

Data a run keeps, stores or hands back (messages, steps, results, stored records) is
a `Frozen` pydantic model, validated when built (gai's own hot paths build them with
`_trusted` from values already validated). Notifications made dozens of times
per model call and read once (run events, stream chunks) are `readonly` slotted
dataclasses, never validated: they are built only by gai from values already checked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar, dataclass_transform

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen", "keep_dict", "readonly"]

T = TypeVar("T")


_MAX_SHARED = 8
"""Distinct fields sets kept per class and size; a class rarely has more in practice."""

_IMMUTABLE = (str, int, float, bool, bytes, type(None), tuple, frozenset)
"""Defaults of these types are used as they are; pydantic copies any other."""

_set = object.__setattr__


class _Layout:
    """What `Frozen._trusted` needs of a class: its fields in order and their defaults."""

    __slots__ = ("fields", "made", "required", "sets")

    def __init__(self, cls: type[Frozen]) -> None:
        if cls.__private_attributes__:
            raise TypeError(f"{cls.__name__} has private attributes: build it by calling it")
        self.fields: dict[str, Any] = {}
        self.made: list[tuple[str, Callable[[], Any]]] = []
        self.required: frozenset[str] = frozenset(
            name for name, field in cls.model_fields.items() if field.is_required()
        )
        self.sets: dict[tuple[str, ...], set[str]] = {}
        for name, info in cls.model_fields.items():
            self.fields[name] = None
            if info.is_required():
                continue
            if info.default_factory is not None:
                if info.default_factory_takes_validated_data:
                    raise TypeError(f"{cls.__name__}.{name}'s default factory takes data")
                self.made.append((name, info.default_factory))  # type: ignore[arg-type]
            elif isinstance(info.default, _IMMUTABLE):
                self.fields[name] = info.default
            else:
                copied = functools.partial(info.get_default, call_default_factory=True)
                self.made.append((name, copied))

    def fields_set(self, cls: type, keys: tuple[str, ...], data: dict[str, Any]) -> set[str]:
        """The shared fields set for instances given `keys`, once they are checked."""
        missing = self.required.difference(keys)
        if missing or len(data) != len(self.fields):
            wrong = sorted(missing or set(data).difference(self.fields))
            raise TypeError(f"{cls.__name__}._trusted: missing or unknown fields {wrong}")
        fields_set = self.sets[keys] = set(keys)
        return fields_set


class Frozen(BaseModel):
    """An immutable pydantic model whose instances share their `model_fields_set`.

    Pydantic gives every instance its own set of the field names it was given. A run
    in flight holds dozens of these values, almost all with the same few sets, and
    each set is memory and one more object for every garbage-collector pass; since
    the values cannot change, instances of a class share one set per distinct content.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    _shared_fields_sets: ClassVar[dict[int, list[set[str]]]]
    _trusted_layout: ClassVar[_Layout | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._shared_fields_sets = {}
        cls._trusted_layout = None  # each class its own, built on first use

    @classmethod
    def _trusted(cls, **values: Any) -> Self:
        """An instance from values already of the fields' types, without validating them.

        For gai's own hot paths only, which build values from other validated values
        (a transcript part from a tool call, a step from its parts): pydantic's
        validation is most of what creating these small objects costs, and a run
        creates a few dozen per step. The result is indistinguishable from
        `cls(**values)` (tests hold the two equal, fields set included); fields left
        out take their defaults, and a missing required field is a `TypeError`.
        """
        layout = cls._trusted_layout
        if layout is None:
            layout = cls._trusted_layout = _Layout(cls)
        data = {**layout.fields, **values}
        keys = tuple(values)
        fields_set = layout.sets.get(keys)
        if fields_set is None:
            fields_set = layout.fields_set(cls, keys, data)
        for name, make in layout.made:
            if name not in values:
                data[name] = make()
        self = cls.__new__(cls)
        _set(self, "__dict__", data)
        _set(self, "__pydantic_fields_set__", fields_set)
        _set(self, "__pydantic_extra__", None)
        _set(self, "__pydantic_private__", None)
        return self

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
