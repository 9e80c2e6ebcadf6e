"""Objects named on the command line as `module:attribute`."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

from gai.errors import UserError
from gai.tools import ToolRegistry

__all__ = ["import_module", "load_object", "load_registry"]


def import_module(name: str) -> ModuleType:
    """Import a module named on the command line, from the current directory too.

    Raises:
        UserError: It cannot be imported.
    """
    # Every command finds modules of the current directory, as `python -m` would.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise UserError(f"Cannot import {name!r}: {exc}") from exc


def load_object(spec: str) -> Any:
    """Import `module` and return its `attribute`.

    Raises:
        UserError: The spec is malformed, or the module or attribute is missing.
    """
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise UserError(f"Expected module:attribute, got {spec!r}.")
    module = import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"Module {module_name!r} has no attribute {attr!r}.") from None


def load_registry(spec: str | None) -> ToolRegistry | None:
    """The `ToolRegistry` a `--tools module:name` option names, if any.

    Raises:
        UserError: It cannot be loaded or is not a `ToolRegistry`.
    """
    if spec is None:
        return None
    if ":" not in spec:
        raise UserError(f"--tools expects MODULE:NAME, e.g. myapp.tools:registry; got {spec!r}.")
    found = load_object(spec)
    if not isinstance(found, ToolRegistry):
        raise UserError(f"{spec!r} is a {type(found).__name__}, not a ToolRegistry.")
    return found
