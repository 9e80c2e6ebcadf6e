"""`RateLimiter`: requests- and tokens-per-minute buckets plus a concurrency cap, fair (FIFO)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from gai._checks import numbers
from gai.errors import ConfigError
from gai.providers.base import Model, ModelRequest, ModelResponse
from gai.resilience._wrapper import WrapperModel, stream_of
from gai.types import ModelChunk, StreamEnd, Text, ToolResultPart

__all__ = ["RateLimitedModel", "RateLimiter", "estimate_tokens"]


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
class _Window:
    """What started in the last 60 seconds: (start time, amount) entries, oldest first."""

    limit: float
    entries: deque[list[float]] = field(default_factory=deque)
    total: float = 0.0

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - 60.0:
            self.total -= self.entries.popleft()[1]

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` more fits in the window (0 if it does now)."""
        amount = min(amount, self.limit)
        excess = self.total + amount - self.limit
        if excess <= 0:
            return 0.0
        freed = 0.0
        for started, size in self.entries:
            freed += size
            if freed >= excess:
                return max(0.0, started + 60.0 - now)
        return 60.0

    def add(self, now: float, amount: float) -> list[float]:
        entry = [now, min(amount, self.limit)]
        self.entries.append(entry)
        self.total += entry[1]
        return entry


@dataclass
class RateLimiter:
    """Limits how fast calls start: waiting callers queue in arrival order.

    The limits hold over any 60-second window (a sliding log, not a bucket that would
    allow a double burst). Share one limiter between every run that uses the same model or key: 500
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
        settings = (
            ("requests_per_minute", self.requests_per_minute),
            ("tokens_per_minute", self.tokens_per_minute),
            ("max_concurrency", self.max_concurrency),
        )
        numbers("RateLimiter.", *settings)
        for label, value in settings:
            if value is not None and value <= 0:
                raise ConfigError(f"{label} must be positive or None, got {value}.")
        self._requests = _Window(self.requests_per_minute) if self.requests_per_minute else None
        self._tokens = _Window(self.tokens_per_minute) if self.tokens_per_minute else None
        self._turn = asyncio.Lock()  # FIFO: waiters are served in arrival order
        self._slots = asyncio.Semaphore(self.max_concurrency) if self.max_concurrency else None

    async def acquire(self, tokens: int = 0) -> list[float] | None:
        """Wait for a slot and for room for one request and `tokens` in the window.

        Returns:
            A handle to pass to `release` to settle the real token usage.
        """
        if self._slots is not None:
            await self._slots.acquire()
        try:
            async with self._turn:
                while True:
                    now = self.clock()
                    delay = 0.0
                    for window, amount in ((self._requests, 1), (self._tokens, tokens)):
                        if window is not None:
                            window.expire(now)
                            delay = max(delay, window.wait_for(amount, now))
                    if delay <= 0:
                        break
                    self.waited += delay
                    await self.sleep(delay)
                if self._requests is not None:
                    self._requests.add(now, 1)
                return self._tokens.add(now, tokens) if self._tokens is not None else None
        except BaseException:
            if self._slots is not None:
                self._slots.release()
            raise

    def release(self, handle: list[float] | None = None, used_tokens: int | None = None) -> None:
        """Free the call's slot and settle its tokens against the real usage."""
        if self._slots is not None:
            self._slots.release()
        if self._tokens is not None and handle is not None and used_tokens is not None:
            # The window now counts what the call really used instead of the estimate.
            self._tokens.total += used_tokens - handle[1]
            handle[1] = float(used_tokens)


class RateLimitedModel(WrapperModel):
    """A model whose calls go through a `RateLimiter`.

    Args:
        wrapped: The model to limit.
        limiter: The limiter, shared by everything that should count together.
    """

    def __init__(self, wrapped: Model | str, limiter: RateLimiter) -> None:
        super().__init__(wrapped)
        self.limiter = limiter

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Wait for a turn, then call the wrapped model."""
        handle = await self.limiter.acquire(estimate_tokens(request))
        used: int | None = None
        try:
            response = await self.wrapped.generate(request)
            used = response.usage.total_tokens or None
            return response
        finally:
            self.limiter.release(handle, used)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Wait for a turn, then stream from the wrapped model."""
        handle = await self.limiter.acquire(estimate_tokens(request))
        used: int | None = None
        try:
            async for chunk in stream_of(self.wrapped, request):
                if isinstance(chunk, StreamEnd):
                    used = chunk.usage.total_tokens or None
                yield chunk
        finally:
            self.limiter.release(handle, used)
