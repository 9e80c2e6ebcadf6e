"""`ToolRegistry`: tools looked up by name (for templates and durable runs)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gai.errors import UserError
from gai.tools.core import Tool

__all__ = ["ToolRegistry"]


class ToolRegistry:
    """A set of tools keyed by name.

    Args:
        tools: Tools to register at once.

    Raises:
        UserError: Two tools share a name.
    """

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.register(t)

    def register(self, tool: Tool) -> Tool:
        """Add a tool; usable as a decorator on a `Tool`.

        Raises:
            UserError: A different tool with that name is already registered.
        """
        existing = self._tools.get(tool.name)
        if existing is not None and existing is not tool:
            raise UserError(
                f"A tool named {tool.name!r} is already registered; give one of them "
                f"another name (e.g. @tool(name=...))."
            )
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool:
        """Return the tool with that name.

        Raises:
            UserError: No tool has that name; the message lists the registered ones.
        """
        try:
            return self._tools[name]
        except KeyError:
            known = ", ".join(sorted(self._tools)) or "none"
            raise UserError(f"No tool named {name!r} is registered. Known: {known}.") from None

    def resolve(self, names: Iterable[str]) -> list[Tool]:
        """Return the tools with these names, in order."""
        return [self.get(n) for n in names]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)
