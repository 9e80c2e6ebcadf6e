"""`lazy_module`: a module's names, imported the first time one of them is used."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """Stands for a module until one of its names is read, then imports it.

    Each name read is kept on this object, so later reads are a plain attribute lookup.
    The import itself goes through Python's import lock, so threads are safe.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """An object whose attributes are those of module `name`, imported on first use.

    Type it as the module under `TYPE_CHECKING`:

        if TYPE_CHECKING:
            from gai.types import events
        else:
            events = lazy_module("gai.types.events")
    """
    return _LazyModule(name)
