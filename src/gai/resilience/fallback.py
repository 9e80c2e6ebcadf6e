"""`FallbackModel`: try several models in order until one answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

from gai.errors import FallbackExhaustedError, ProviderError, UserError
from gai.providers.base import BaseChatModel, Model, ModelRequest, ModelResponse
from gai.resilience._wrapper import stream_of
from gai.resilience.retry import RetryModel
from gai.types import ModelChunk, StreamEnd

__all__ = ["FallbackModel"]


def _default_fallback_on(exc: Exception) -> bool:
    return isinstance(exc, ProviderError)


class FallbackModel(BaseChatModel):
    """Calls the first model; on failure, the next one, and so on.

    A model whose failure is retryable is retried first (real providers get the
    default `RetryPolicy`), so the next model is tried only once retrying gave up, or
    at once for an error retrying cannot fix. The step records which model answered
    (`Step.model`). A stream moves on only if it fails before its first chunk.

    Args:
        models: Models (or model strings) in order of preference.
        fallback_on: Which errors move on to the next model; by default any
            `ProviderError` (a `UserError` is a bug to fix, so it is raised).

    Raises:
        FallbackExhaustedError: Every model failed; `.errors` holds each error.
    """

    def __init__(
        self,
        models: Sequence[Model | str],
        *,
        fallback_on: Callable[[Exception], bool] = _default_fallback_on,
    ) -> None:
        from gai._registry import resolve_model

        if not models:
            raise UserError("FallbackModel needs at least one model.")
        resolved = [resolve_model(m) for m in models]
        self.models = [
            RetryModel(m) if getattr(m, "retry_by_default", False) else m for m in resolved
        ]
        self.fallback_on = fallback_on

    @property
    def name(self) -> str:
        """The first model's name, prefixed with "fallback:"."""
        return f"fallback:{self.models[0].name}"

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Ask each model in turn until one answers."""
        errors: list[Exception] = []
        for model in self.models:
            try:
                response = await model.generate(request)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self.fallback_on(exc):
                    raise
                errors.append(exc)
                continue
            return response.model_copy(update={"answered_by": response.answered_by or model.name})
        raise FallbackExhaustedError(errors)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream from the first model that starts answering."""
        errors: list[Exception] = []
        for model in self.models:
            stream = stream_of(model, request)
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                continue
            except asyncio.CancelledError:
                await stream.aclose()
                raise
            except Exception as exc:
                await stream.aclose()
                if not self.fallback_on(exc):
                    raise
                errors.append(exc)
                continue
            try:
                chunk: ModelChunk = first
                while True:
                    if isinstance(chunk, StreamEnd) and chunk.answered_by is None:
                        chunk = StreamEnd(
                            finish_reason=chunk.finish_reason,
                            usage=chunk.usage,
                            model_name=chunk.model_name,
                            raw=chunk.raw,
                            answered_by=model.name,
                            attempts=chunk.attempts,
                        )
                    yield chunk
                    chunk = await anext(stream)
            except StopAsyncIteration:
                return
            finally:
                await stream.aclose()
        raise FallbackExhaustedError(errors)

    async def aclose(self) -> None:
        """Close every model."""
        for model in self.models:
            aclose = getattr(model, "aclose", None)
            if aclose is not None:
                await aclose()
