"""Offline models for tests and demos: scripted, function-driven and schema-exercising."""

from gai.models.function import FunctionModel, ModelFunction
from gai.models.replay import ReplayModel
from gai.models.scripted import ScriptedModel
from gai.models.test import TestModel

__all__ = ["FunctionModel", "ModelFunction", "ReplayModel", "ScriptedModel", "TestModel"]
