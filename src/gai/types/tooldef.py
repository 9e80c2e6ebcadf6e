"""What a provider sends to the model about a tool: name, description, JSON schema."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from gai.types.base import Value, readonly

__all__ = ["ToolDefinition"]


@readonly(kw_only=True)
class ToolDefinition(Value):
    """A tool as the model sees it."""

    name: str
    """Name the model calls the tool by."""
    description: str = ""
    """What the tool does and when to use it."""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    """JSON schema of the arguments (an object schema)."""
    strict: bool | None = None
    """Ask providers that support it to enforce the schema exactly (OpenAI strict mode)."""
