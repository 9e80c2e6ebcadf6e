"""Offline models for tests and demos: scripted, function-driven, schema-exercising, replay."""

from typing import TYPE_CHECKING, Any

from gai.models.function import FunctionModel, ModelFunction
from gai.models.scripted import ScriptedModel
from gai.models.test import TestModel

if TYPE_CHECKING:
    from gai.models.replay import ReplayModel

__all__ = ["FunctionModel", "ModelFunction", "ReplayModel", "ScriptedModel", "TestModel"]


def __getattr__(name: str) -> Any:
    # ReplayModel pulls in the stores; load it only when asked for.
    if name == "ReplayModel":
        from gai.models.replay import ReplayModel

        return ReplayModel
    raise AttributeError(f"module 'gai.models' has no attribute {name!r}")
