"""`WrapperModel`: a model that adds behaviour around another one (retry, breaker, ...)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from gai.providers.base import BaseChatModel, Model, ModelRequest, ModelResponse
from gai.types import ModelChunk

__all__ = ["WrapperModel", "stream_of"]


def stream_of(model: Model, request: ModelRequest) -> AsyncGenerator[ModelChunk, None]:
    """The model's stream, or its whole answer as chunks when it cannot stream.

    Returns the model's own generator when it has one, so wrappers add no layer of
    their own per chunk.
    """
    stream = getattr(model, "stream", None)  # not isinstance(): Protocol checks are slow
    if stream is not None:
        return stream(request)  # type: ignore[no-any-return]
    return BaseChatModel.stream(_Generating(model), request)  # type: ignore[return-value]


class _Generating(BaseChatModel):
    def __init__(self, model: Model) -> None:
        self._model = model

    @property
    def name(self) -> str:
        return self._model.name

    async def generate(self, request: ModelRequest) -> ModelResponse:
        return await self._model.generate(request)


class WrapperModel(BaseChatModel):
    """Delegates to `wrapped`; subclasses override `generate` and `stream`.

    Args:
        wrapped: The model to wrap, or a "provider:model" string naming it.
    """

    def __init__(self, wrapped: Model | str) -> None:
        from gai._registry import resolve_model  # the registry sits above resilience

        self.wrapped: Model = resolve_model(wrapped)

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.wrapped.name

    @property
    def endpoint(self) -> str:
        """Where the wrapped model's requests go (its base URL, or its name)."""
        return str(getattr(self.wrapped, "endpoint", self.wrapped.name))

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the wrapped model."""
        return await self.wrapped.generate(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream from the wrapped model."""
        async for chunk in stream_of(self.wrapped, request):
            yield chunk

    async def aclose(self) -> None:
        """Close the wrapped model."""
        aclose = getattr(self.wrapped, "aclose", None)
        if aclose is not None:
            await aclose()
