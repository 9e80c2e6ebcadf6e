"""Resilience: wrappers that retry, fall back, break circuits, rate-limit and time out models."""

from gai.resilience.breaker import (
    BreakerState,
    BreakerStateChanged,
    CircuitBreaker,
    CircuitBreakerModel,
    breaker_for,
    with_breaker,
)
from gai.resilience.fallback import FallbackModel
from gai.resilience.ratelimit import RateLimitedModel, RateLimiter, with_rate_limit
from gai.resilience.retry import DEFAULT_RETRY, RetryModel, RetryPolicy, is_retryable, with_retry
from gai.resilience.timeout import TimeoutModel, Timeouts

__all__ = [
    "DEFAULT_RETRY",
    "BreakerState",
    "BreakerStateChanged",
    "CircuitBreaker",
    "CircuitBreakerModel",
    "FallbackModel",
    "RateLimitedModel",
    "RateLimiter",
    "RetryModel",
    "RetryPolicy",
    "TimeoutModel",
    "Timeouts",
    "breaker_for",
    "is_retryable",
    "with_breaker",
    "with_rate_limit",
    "with_retry",
]
