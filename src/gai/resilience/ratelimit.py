"""`RateLimiter`: requests- and tokens-per-minute buckets plus a concurrency cap, fair (FIFO)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from gai.providers.base import Model, ModelRequest, ModelResponse
from gai.resilience._wrapper import WrapperModel, stream_of
from gai.types import ModelChunk, StreamEnd, Text, ToolResultPart

__all__ = ["RateLimitedModel", "RateLimiter", "estimate_tokens", "with_rate_limit"]


def estimate_tokens(request: ModelRequest) -> int:
    """A rough input-token count (4 characters a token) used before the real usage is known."""
    chars = 0
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, Text):
                chars += len(part.text)
            elif isinstance(part, ToolResultPart):
                chars += len(part.content)
    return max(1, chars // 4)


@dataclass(slots=True)
class _Bucket:
    """A token bucket holding up to `capacity`, refilled at `capacity` per minute."""

    capacity: float
    level: float
    updated: float

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.updated) * self.capacity / 60.0)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` is available (0 if it is now)."""
        needed = min(amount, self.capacity) - self.level
        return max(0.0, needed * 60.0 / self.capacity)


@dataclass
class RateLimiter:
    """Limits how fast calls start: waiting callers queue in arrival order.

    Share one limiter between every run that uses the same model or key: 500
    concurrent runs against a 60-requests-per-minute limit then wait their turn instead
    of failing with 429s.

    Args:
        requests_per_minute: Calls started per minute at most (bursts up to this many).
        tokens_per_minute: Tokens per minute at most; a call reserves its estimated
            input tokens, and the real usage is settled when it finishes.
        max_concurrency: Calls in flight at once at most.
        clock: Monotonic clock in seconds (tests pass a fake one).
        sleep: Coroutine used to wait (tests pass a fake one).
    """

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_concurrency: int | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    waited: float = field(default=0.0, init=False)
    """Total seconds callers spent waiting for their turn."""

    def __post_init__(self) -> None:
        for label, value in (
            ("requests_per_minute", self.requests_per_minute),
            ("tokens_per_minute", self.tokens_per_minute),
            ("max_concurrency", self.max_concurrency),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{label} must be positive or None, got {value}.")
        now = self.clock()
        self._requests = (
            _Bucket(self.requests_per_minute, self.requests_per_minute, now)
            if self.requests_per_minute
            else None
        )
        self._tokens = (
            _Bucket(self.tokens_per_minute, self.tokens_per_minute, now)
            if self.tokens_per_minute
            else None
        )
        self._turn = asyncio.Lock()  # FIFO: waiters are served in arrival order
        self._slots = asyncio.Semaphore(self.max_concurrency) if self.max_concurrency else None

    async def acquire(self, tokens: int = 0) -> None:
        """Wait for a slot and for the buckets to hold one request and `tokens`."""
        if self._slots is not None:
            await self._slots.acquire()
        try:
            async with self._turn:
                while True:
                    now = self.clock()
                    delay = 0.0
                    for bucket, amount in ((self._requests, 1), (self._tokens, tokens)):
                        if bucket is not None:
                            bucket.refill(now)
                            delay = max(delay, bucket.wait_for(amount))
                    if delay <= 0:
                        break
                    self.waited += delay
                    await self.sleep(delay)
                if self._requests is not None:
                    self._requests.level -= 1
                if self._tokens is not None:
                    self._tokens.level -= min(tokens, self._tokens.capacity)
        except BaseException:
            if self._slots is not None:
                self._slots.release()
            raise

    def release(self, reserved_tokens: int = 0, used_tokens: int | None = None) -> None:
        """Free the call's slot and settle its tokens against the real usage."""
        if self._slots is not None:
            self._slots.release()
        if self._tokens is not None and used_tokens is not None:
            # Charge the difference; the bucket may go negative, delaying later callers.
            self._tokens.level -= used_tokens - min(reserved_tokens, self._tokens.capacity)


class RateLimitedModel(WrapperModel):
    """A model whose calls go through a `RateLimiter`.

    Args:
        wrapped: The model to limit.
        limiter: The limiter, shared by everything that should count together.
    """

    def __init__(self, wrapped: Model, limiter: RateLimiter) -> None:
        super().__init__(wrapped)
        self.limiter = limiter

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Wait for a turn, then call the wrapped model."""
        reserved = estimate_tokens(request)
        await self.limiter.acquire(reserved)
        used: int | None = None
        try:
            response = await self.wrapped.generate(request)
            used = response.usage.total_tokens or None
            return response
        finally:
            self.limiter.release(reserved, used)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Wait for a turn, then stream from the wrapped model."""
        reserved = estimate_tokens(request)
        await self.limiter.acquire(reserved)
        used: int | None = None
        try:
            async for chunk in stream_of(self.wrapped, request):
                if isinstance(chunk, StreamEnd):
                    used = chunk.usage.total_tokens or None
                yield chunk
        finally:
            self.limiter.release(reserved, used)


def with_rate_limit(model: Model, limiter: RateLimiter) -> RateLimitedModel:
    """Make `model`'s calls wait for their turn in `limiter`.

    Args:
        model: The model to limit.
        limiter: The shared limiter.
    """
    return RateLimitedModel(model, limiter)
