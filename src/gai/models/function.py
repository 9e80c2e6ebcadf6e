"""`FunctionModel`: a Python function decides what the model answers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeAlias

from gai.models._usage import with_usage
from gai.providers.base import BaseChatModel, ModelRequest, ModelResponse
from gai.types import Message, ToolDefinition

__all__ = ["FunctionModel", "ModelFunction"]

ModelFunction: TypeAlias = Callable[
    [Sequence[Message], Sequence[ToolDefinition]],
    ModelResponse | str | Awaitable[ModelResponse | str],
]
"""`fn(messages, tools)` returning a `ModelResponse` or a text answer, sync or async."""


class FunctionModel(BaseChatModel):
    """A model whose answers come from a Python function.

    Args:
        fn: Gets the messages and tool definitions; returns a `ModelResponse` or a
            string (a text answer). Sync or async.
        name: Model name reported in steps; defaults to "function:<fn name>".
    """

    def __init__(self, fn: ModelFunction, *, name: str | None = None) -> None:
        self.fn = fn
        self._name = name or f"function:{getattr(fn, '__name__', 'fn')}"

    @property
    def name(self) -> str:
        """Model name reported in steps."""
        return self._name

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the function and return its answer."""
        answer = self.fn(request.messages, request.tools)
        if inspect.isawaitable(answer):
            answer = await answer
        response = ModelResponse(text=answer) if isinstance(answer, str) else answer
        return with_usage(request, response)
