"""Tools: Python functions the model can call, with schemas from type hints."""

from typing import TYPE_CHECKING, Any

from gai.tools.context import DepsT, ToolContext
from gai.tools.core import FunctionTool, Tool, tool
from gai.tools.limits import clear_limits, set_global_tool_limit, set_group_limit
from gai.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from gai.tools.mcp import MCPServer

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


def __getattr__(name: str) -> Any:
    # The MCP client loads on first use: most programs define their tools in Python.
    if name == "MCPServer":
        from gai.tools.mcp import MCPServer

        return MCPServer
    raise AttributeError(f"module 'gai.tools' has no attribute {name!r}")
