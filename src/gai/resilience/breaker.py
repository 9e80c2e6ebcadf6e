"""`CircuitBreaker`: stop calling an endpoint that keeps failing, then probe it once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

from gai._checks import numbers
from gai.errors import CircuitOpenError, ConfigError, ProviderError
from gai.providers.base import Model, ModelRequest, ModelResponse
from gai.resilience._wrapper import WrapperModel, stream_of
from gai.types import ModelChunk

__all__ = [
    "BreakerState",
    "BreakerStateChanged",
    "CircuitBreaker",
    "CircuitBreakerModel",
    "breaker_for",
]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerStateChanged:
    """A breaker moved from one state to another."""

    breaker: str
    old: BreakerState
    new: BreakerState
    reason: str
    kind: Literal["breaker_state_changed"] = "breaker_state_changed"


def counts_as_failure(exc: BaseException) -> bool:
    """Failures that say the endpoint is unhealthy: 5xx, 429, timeouts, connection drops.

    A 4xx such as an invalid request is the caller's problem, not the endpoint's.
    """
    return isinstance(exc, ProviderError) and exc.retryable


class CircuitBreaker:
    """Closed, open, half-open: fail fast while an endpoint is down.

    After `failure_threshold` consecutive failures the breaker opens and every call
    fails at once with `CircuitOpenError`. After `reset_timeout` seconds it lets exactly
    one probe call through (half-open), however many runs are waiting; the probe's
    success closes it, its failure opens it again. State is shared by every run and
    thread using the breaker.

    Args:
        failure_threshold: Consecutive failures that open the breaker.
        reset_timeout: Seconds the breaker stays open before probing.
        name: Name used in errors and events.
        clock: Monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        *,
        name: str = "breaker",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        numbers("CircuitBreaker: ", ("failure_threshold", failure_threshold), whole=True)
        numbers("CircuitBreaker: ", ("reset_timeout", reset_timeout))
        if failure_threshold < 1:
            raise ConfigError(f"failure_threshold must be at least 1, got {failure_threshold}.")
        if reset_timeout <= 0:
            raise ConfigError(f"reset_timeout must be positive, got {reset_timeout}.")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._listeners: list[Callable[[BreakerStateChanged], None]] = []
        self.rejected = 0
        """Calls refused while open (or while a probe was in flight)."""
        self.transitions: list[BreakerStateChanged] = []
        """Every state change so far, in order."""

    @property
    def state(self) -> BreakerState:
        """The current state ("open" becomes "half_open" once the timeout has passed)."""
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self.reset_timeout:
                return "half_open"
            return self._state

    def subscribe(self, listener: Callable[[BreakerStateChanged], None]) -> None:
        """Call `listener` (synchronously; it must not block) on every state change."""
        self._listeners.append(listener)

    def _move(self, new: BreakerState, reason: str) -> None:
        # Called with the lock held.
        old, self._state = self._state, new
        if old != new:
            event = BreakerStateChanged(self.name, old, new, reason)
            self.transitions.append(event)
            for listener in self._listeners:
                listener(event)

    def before_call(self) -> bool:
        """Admit a call or raise `CircuitOpenError`; returns True if it is the probe."""
        with self._lock:
            if self._state == "closed":
                return False
            waited = self._clock() - self._opened_at
            if self._state == "open" and waited >= self.reset_timeout:
                self._move("half_open", f"{self.reset_timeout:g}s passed; probing")
            if self._state == "half_open" and not self._probing:
                self._probing = True
                return True
            self.rejected += 1
            left = max(0.0, self.reset_timeout - waited) if self._state == "open" else None
            raise CircuitOpenError(
                f"circuit '{self.name}' is {self._state.replace('_', '-')} after "
                f"{self._failures} consecutive failures; not calling it"
                + (f" for another {left:.1f}s" if left is not None else " while a probe runs"),
                provider=self.name,
                retryable=True,
                retry_after=left,
            )

    def on_success(self, probe: bool) -> None:
        """Record a successful call."""
        with self._lock:
            self._failures = 0
            if probe:
                self._probing = False
            if self._state != "closed":
                self._move("closed", "probe succeeded" if probe else "call succeeded")

    def on_abandon(self, probe: bool) -> None:
        """The call was cancelled: it says nothing about the endpoint."""
        if probe:
            with self._lock:
                self._probing = False

    def on_failure(self, exc: BaseException, probe: bool) -> None:
        """Record a failed call; only endpoint failures count toward opening."""
        with self._lock:
            if probe:
                self._probing = False
            if not counts_as_failure(exc):
                if probe:
                    # The endpoint answered; a client error says nothing against it.
                    self._failures = 0
                    self._move("closed", "probe reached the endpoint")
                return
            self._failures += 1
            if probe or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
                why = "probe failed" if probe else f"{self._failures} consecutive failures"
                self._move("open", f"{why}: {type(exc).__name__}")


_BREAKERS: dict[str, CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(endpoint: str, **options: Any) -> CircuitBreaker:
    """The process-wide breaker of an endpoint (created with `options` on first use)."""
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(endpoint)
        if breaker is None:
            breaker = _BREAKERS[endpoint] = CircuitBreaker(name=endpoint, **options)
        return breaker


class CircuitBreakerModel(WrapperModel):
    """A model guarded by a `CircuitBreaker`.

    Args:
        wrapped: The model to guard.
        breaker: The breaker; defaults to the shared one of the model's endpoint.
    """

    def __init__(self, wrapped: Model | str, breaker: CircuitBreaker | None = None) -> None:
        super().__init__(wrapped)
        self.breaker = breaker or breaker_for(self.endpoint)

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the wrapped model if the breaker allows it."""
        probe = self.breaker.before_call()
        try:
            response = await self.wrapped.generate(request)
        except asyncio.CancelledError:
            self.breaker.on_abandon(probe)
            raise
        except Exception as exc:
            self.breaker.on_failure(exc, probe)
            raise
        self.breaker.on_success(probe)
        return response

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream from the wrapped model if the breaker allows it."""
        probe = self.breaker.before_call()
        try:
            async for chunk in stream_of(self.wrapped, request):
                yield chunk
        except (asyncio.CancelledError, GeneratorExit):
            self.breaker.on_abandon(probe)
            raise
        except Exception as exc:
            self.breaker.on_failure(exc, probe)
            raise
        self.breaker.on_success(probe)
