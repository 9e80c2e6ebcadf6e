"""A small MCP server (official `mcp` SDK) for the README's MCP example.

python examples/mcp/notes_server.py               # stdio: a client starts it
python examples/mcp/notes_server.py http 8000     # streamable HTTP on 127.0.0.1:8000/mcp
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("gai-example")
NOTES: list[str] = []


@server.tool()
def add_note(text: str) -> str:
    """Keep a note."""
    NOTES.append(text)
    return f"noted ({len(NOTES)} notes)"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def search(query: str) -> list[str]:
    """Find notes containing a word."""
    return [n for n in NOTES if query.lower() in n.lower()] or [f"nothing about {query!r}"]


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
