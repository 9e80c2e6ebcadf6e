"""Checks of numeric settings, shared by the classes that take them.

A setting of the wrong type (a string where seconds go) is reported where it is given,
as a `ConfigError` naming it, rather than as a `TypeError` from a comparison inside.
"""

from __future__ import annotations

from typing import Any

from gai.errors import ConfigError

__all__ = ["numbers"]


def numbers(owner: str, *settings: tuple[str, Any], whole: bool = False) -> None:
    """Raise `ConfigError` for any (name, value) whose value is neither None nor a number.

    `whole`: the values must be whole numbers (counts, not seconds).
    """
    kind = int if whole else int | float
    for name, value in settings:
        if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
            continue
        raise ConfigError(
            f"{owner}{name} must be {'a whole number' if whole else 'a number'}, "
            f"got {type(value).__name__}: {value!r:.40}."
        )
