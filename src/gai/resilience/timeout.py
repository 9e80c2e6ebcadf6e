"""`Timeouts` for a run, and `TimeoutModel`, which bounds each model call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gai._checks import numbers
from gai.errors import ConfigError, ProviderTimeoutError
from gai.providers.base import Model, ModelRequest, ModelResponse
from gai.resilience._wrapper import WrapperModel, stream_of
from gai.types import ModelChunk

__all__ = ["TimeoutModel", "Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Deadlines for a run, in seconds; None means no limit.

    A run or step that reaches its deadline stops with `stop_reason.kind == "deadline"`
    and keeps the steps completed before it. A model call that reaches its deadline
    fails with a retryable `ProviderTimeoutError`, so a retry policy tries it again.
    Tool calls have their own `tool_timeout`.

    Args:
        run: The whole run.
        step: Each step (model call plus its tools).
        model_call: Each model call (each attempt, when retried).
    """

    run: float | None = None
    step: float | None = None
    model_call: float | None = None

    def __post_init__(self) -> None:
        limits = (("run", self.run), ("step", self.step), ("model_call", self.model_call))
        numbers("Timeouts.", *limits)
        for label, value in limits:
            if value is not None and value <= 0:
                raise ConfigError(f"Timeouts.{label} must be positive or None, got {value}.")


class TimeoutModel(WrapperModel):
    """A model whose calls fail with `ProviderTimeoutError` after `seconds`.

    For a stream the limit is on the whole call, and the stream is closed when it hits.

    Args:
        wrapped: The model to bound.
        seconds: Longest a call may take.
    """

    def __init__(self, wrapped: Model, seconds: float) -> None:
        super().__init__(wrapped)
        self.seconds = seconds

    def _error(self) -> ProviderTimeoutError:
        return ProviderTimeoutError(
            f"model call to {self.name} took longer than {self.seconds:g} seconds",
            provider=str(getattr(self.wrapped, "provider", self.name)),
            retryable=True,
        )

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the wrapped model within the limit."""
        try:
            async with asyncio.timeout(self.seconds):
                return await self.wrapped.generate(request)
        except TimeoutError as exc:
            raise self._error() from exc

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream from the wrapped model within the limit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        stream = stream_of(self.wrapped, request)
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(stream)
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    raise self._error() from exc
                yield chunk
        finally:
            await stream.aclose()
