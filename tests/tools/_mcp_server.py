"""An MCP server for the tests, built with the official SDK: `python _mcp_server.py stdio`
or `python _mcp_server.py http PORT`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("gai-test")
CALLS = Path(os.environ.get("GAI_MCP_CALL_LOG", os.devnull))


def _log(line: str) -> None:
    with CALLS.open("a") as f:
        f.write(line + "\n")


@server.tool(annotations=ToolAnnotations(idempotent_hint=True))
def add(a: int, b: int) -> int:
    """Add two integers."""
    _log(f"add {a} {b}")
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Upper-case a text."""
    _log(f"shout {text}")
    return text.upper()


@server.tool()
def broken(reason: str) -> str:
    """Always fails."""
    raise ToolError(f"broken on purpose: {reason}")


@server.tool(annotations=ToolAnnotations(idempotent_hint=True))
def crash() -> str:
    """Kills the server process (to test reconnection)."""
    _log("crash")
    os._exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
