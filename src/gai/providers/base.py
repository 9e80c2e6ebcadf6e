"""The `Model` protocol every provider implements, and what goes in and out of a model call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol, Self, TypeAlias, runtime_checkable

import orjson
from pydantic import Field, model_validator

from gai.types import (
    Citation,
    FinishReason,
    HostedTool,
    Message,
    ModelChunk,
    Reasoning,
    StreamEnd,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    ToolDefinition,
    Usage,
)
from gai.types.base import Frozen

__all__ = [
    "BaseChatModel",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "StreamingModel",
    "ToolChoice",
]

ToolChoice: TypeAlias = Literal["auto", "none", "required"] | str
"""Whether the model may, must or must not call tools; any other string names one tool."""


class ModelRequest(Frozen):
    """Everything a model needs for one call."""

    # The run's encoded history (gai.providers.wire), kept outside the fields.
    __slots__ = ("_history",)

    messages: tuple[Message, ...]
    """The conversation so far, system message first when there is one."""
    tools: tuple[ToolDefinition, ...] = ()
    """Tools the model may call."""
    tool_choice: ToolChoice = "auto"
    """Whether the model may, must or must not call tools, or which one."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """Sampling options (temperature, max_tokens...) and provider-specific extras."""


class ModelResponse(Frozen):
    """What a model answered: text and/or tool calls.

    `finish_reason` defaults to "tool_calls" when there are tool calls, else "stop".
    """

    text: str = ""
    """Text the model produced."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls the model asked for, in its order."""
    reasoning: tuple[Reasoning, ...] = ()
    """The model's reasoning before its answer, as the provider gave it."""
    hosted_tools: tuple[HostedTool, ...] = ()
    """Tools the provider ran itself while answering."""
    citations: tuple[Citation, ...] = ()
    """Sources the answer cites."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens used by this call."""
    finish_reason: FinishReason = "stop"
    """Why the model stopped, normalised."""
    refusal: str | None = None
    """The model's words when it declined to answer (finish reason "refusal")."""
    model_name: str | None = None
    """The model that answered, as the provider reported it (e.g. a dated version)."""
    answered_by: str | None = None
    """gai name of the model that answered, when a wrapper chose among several."""
    attempts: int = 1
    """Calls it took to get this answer (more than 1 when retried)."""
    raw: Any = None
    """The provider's raw payload, for debugging."""

    @model_validator(mode="before")
    @classmethod
    def _default_finish(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("finish_reason") is None:
            data = {**data, "finish_reason": "tool_calls" if data.get("tool_calls") else "stop"}
        return data


@runtime_checkable
class Model(Protocol):
    """A language model: anything with a `name` and an async `generate`."""

    @property
    def name(self) -> str:
        """Name used in steps, logs and traces, e.g. "openai:gpt-4o-mini"."""
        ...

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one model call.

        Raises:
            gai.errors.ProviderError: The provider failed to answer.
        """
        ...


@runtime_checkable
class StreamingModel(Model, Protocol):
    """A model that can also stream its answer as chunks."""

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Make one model call and yield its output as it arrives, ending with `StreamEnd`.

        Raises:
            gai.errors.ProviderError: The provider failed to answer.
        """
        ...


class BaseChatModel:
    """Shared code for models: streaming from `generate`, `aclose`, `async with`.

    Subclasses implement `name` and `generate`.
    """

    @property
    def name(self) -> str:
        """Name used in steps, logs and traces."""
        raise NotImplementedError

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one model call."""
        raise NotImplementedError

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream a call; by default the whole `generate` answer arrives as one chunk each."""
        response = await self.generate(request)
        if response.text:
            yield TextChunk(response.text)
        for index, call in enumerate(response.tool_calls):
            yield ToolCallChunk(
                index=index,
                call_id=call.call_id,
                name=call.name,
                arguments=orjson.dumps(call.arguments).decode(),
                provider_data=call.provider_data,
            )
        yield StreamEnd(
            finish_reason=response.finish_reason,
            usage=response.usage,
            model_name=response.model_name,
            raw=response.raw,
            answered_by=response.answered_by,
            attempts=response.attempts,
        )

    async def aclose(self) -> None:
        """Release any connections the model holds; it reopens them when used again."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
