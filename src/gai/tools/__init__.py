"""Tools: Python functions the model can call, with schemas from type hints."""

from gai.tools.context import DepsT, ToolContext
from gai.tools.limits import clear_limits, set_global_tool_limit, set_group_limit
from gai.tools.mcp import MCPServer
from gai.tools.registry import ToolRegistry
from gai.tools.tool import FunctionTool, Tool, tool

__all__ = [
    "DepsT",
    "FunctionTool",
    "MCPServer",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "clear_limits",
    "set_global_tool_limit",
    "set_group_limit",
    "tool",
]
