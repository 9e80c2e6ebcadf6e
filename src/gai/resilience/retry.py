"""`RetryPolicy` and `RetryModel`: retry retryable model errors with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from gai._checks import numbers
from gai.errors import ConfigError, ProviderError, ResponseFormatError
from gai.providers.base import Model, ModelRequest, ModelResponse
from gai.resilience._wrapper import WrapperModel, stream_of
from gai.types import ModelChunk, StreamEnd, StreamRestart

__all__ = ["DEFAULT_RETRY", "RetryModel", "RetryPolicy", "is_retryable"]

logger = logging.getLogger("gai.retry")


def is_retryable(exc: BaseException) -> bool:
    """Whether trying the same request again may succeed.

    True for provider errors marked retryable: 408, 409, 429, 5xx, 529, timeouts,
    dropped connections and truncated responses. Never for other 4xx or for misuse.
    """
    return isinstance(exc, ProviderError) and exc.retryable


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry a failed model call.

    Waits grow exponentially with full jitter (a random wait between 0 and the
    exponential bound), except when the provider said how long to wait (`retry_after`),
    which is honoured up to `max_retry_after`. No retry starts once `max_elapsed`
    seconds would have passed since the first attempt.

    The defaults ride out a provider that fails even 40% of its answers (10 attempts:
    a request then fails about once in 9,500; at 20%, once in 10 million) and still
    give up on a dead one quickly: a provider refusing every call fails after at most
    32.5 s of waiting (0.5 + 1 + 2 + 4 + 5 x 5; about half that on average, with
    jitter); one that never answers fails after its own timeout, and no retry starts
    `max_elapsed` seconds after the first attempt.

    Args:
        max_attempts: Calls in total, the first included (1 means no retry).
        initial_delay: Upper bound of the first wait, in seconds.
        max_delay: Largest wait between attempts, in seconds.
        multiplier: Growth of the bound per attempt.
        jitter: Randomise waits (full jitter); False waits the bound exactly.
        max_retry_after: Cap on a provider's `retry_after`, in seconds.
        max_elapsed: Seconds after the first attempt's start past which no retry
            starts (a wait that would end later is not begun); None for no limit.
        sleep: Coroutine used to wait (tests pass a fake clock's sleep).
    """

    max_attempts: int = 10
    initial_delay: float = 0.5
    max_delay: float = 5.0
    multiplier: float = 2.0
    jitter: bool = True
    max_retry_after: float = 60.0
    max_elapsed: float | None = 90.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def __post_init__(self) -> None:
        numbers("RetryPolicy.", ("max_attempts", self.max_attempts), whole=True)
        numbers(
            "RetryPolicy.",
            ("initial_delay", self.initial_delay),
            ("max_delay", self.max_delay),
            ("max_retry_after", self.max_retry_after),
            ("max_elapsed", self.max_elapsed),
        )
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts}.")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ConfigError("initial_delay and max_delay must not be negative.")
        if self.max_elapsed is not None and self.max_elapsed <= 0:
            raise ConfigError(f"max_elapsed must be positive or None, got {self.max_elapsed}.")

    def out_of_time(self, started: float, wait: float) -> bool:
        """Whether a retry after `wait` seconds would start past `max_elapsed`.

        Args:
            started: `time.perf_counter()` when the first attempt started.
            wait: Seconds the next wait would take.
        """
        if self.max_elapsed is None:
            return False
        return time.perf_counter() - started + wait > self.max_elapsed

    def delay(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after the given failed attempt (1 for the first)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.max_retry_after)
        bound = min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1))
        return random.uniform(0, bound) if self.jitter else bound

    async def before_retry(self, what: str, attempt: int, error: Exception, started: float) -> None:
        """Wait before the attempt after failed `attempt`, or raise `error` if none comes.

        The one retry loop, for calls and streams alike: `error` is raised when it is
        not retryable, when `attempt` was the last, or when the wait would end past
        `max_elapsed`; otherwise the retry is logged (WARNING on `gai.retry`) and waited.

        Args:
            what: The model, for the log.
            attempt: The attempt that failed (1 for the first).
            error: Its error.
            started: `time.perf_counter()` when the first attempt started.
        """
        if not is_retryable(error) or attempt >= self.max_attempts:
            raise error
        wait = self.delay(attempt, error)
        if self.out_of_time(started, wait):
            raise error
        logger.warning(
            "%s: attempt %d of %d failed (%s); retrying in %.2fs",
            what,
            attempt,
            self.max_attempts,
            error,
            wait,
        )
        await self.sleep(wait)


DEFAULT_RETRY = RetryPolicy()
"""The policy real providers get unless `retry=` says otherwise."""


class RetryModel(WrapperModel):
    """A model whose failed calls are retried according to a `RetryPolicy`.

    A stream is retried only if it fails before its first chunk: once output has been
    passed on, retrying would repeat it, so later failures propagate.

    Args:
        wrapped: The model to retry.
        policy: When and how long to wait.
    """

    def __init__(self, wrapped: Model | str, policy: RetryPolicy = DEFAULT_RETRY) -> None:
        super().__init__(wrapped)
        self.policy = policy

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the wrapped model, retrying retryable failures."""
        started = time.perf_counter()
        attempt = 1
        while True:
            try:
                response = await self.wrapped.generate(request)
            except Exception as exc:
                await self.policy.before_retry(self.name, attempt, exc, started)
                attempt += 1
                continue
            if attempt == 1:
                return response
            return response.model_copy(update={"attempts": response.attempts + attempt - 1})

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream from the wrapped model, retrying retryable failures.

        A stream that fails after it began is started again with a `StreamRestart`
        chunk first, so consumers drop the partial output. A stream that ends without
        its `StreamEnd` counts as truncated (retryable).
        """
        started = time.perf_counter()
        attempt = 1
        while True:
            began = ended = False
            stream = stream_of(self.wrapped, request)
            try:
                async for chunk in stream:
                    if isinstance(chunk, StreamEnd):
                        ended = True
                        chunk = _with_attempts(chunk, attempt - 1)
                    began = True
                    yield chunk
                _require_end(ended, self.name)
            except Exception as exc:
                await self.policy.before_retry(self.name, attempt, exc, started)
                attempt += 1
                if began:
                    yield StreamRestart(attempt=attempt, reason=f"{type(exc).__name__}: {exc}")
            else:
                return
            finally:
                await stream.aclose()


def _require_end(ended: bool, name: str) -> None:
    if not ended:
        raise ResponseFormatError(
            "the model's stream ended before it finished (truncated stream)",
            provider=name,
            retryable=True,
        )


def _with_attempts(end: StreamEnd, extra: int) -> StreamEnd:
    if not extra:
        return end
    return StreamEnd(
        finish_reason=end.finish_reason,
        usage=end.usage,
        model_name=end.model_name,
        raw=end.raw,
        answered_by=end.answered_by,
        attempts=end.attempts + extra,
    )
