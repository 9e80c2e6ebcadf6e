"""Tools: Python functions the model can call, with schemas from type hints."""

from gai.tools.context import DepsT, ToolContext
from gai.tools.registry import ToolRegistry
from gai.tools.tool import FunctionTool, Tool, tool

__all__ = ["DepsT", "FunctionTool", "Tool", "ToolContext", "ToolRegistry", "tool"]
