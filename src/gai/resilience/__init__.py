"""Resilience: wrappers that retry, fall back, break circuits, rate-limit and time out models.

Each wrapper's module loads on first use: every run loads `retry` (real providers are
retried by default), and most runs need none of the others.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gai.resilience.breaker import (
        BreakerState,
        BreakerStateChanged,
        CircuitBreaker,
        CircuitBreakerModel,
        breaker_for,
    )
    from gai.resilience.fallback import FallbackModel
    from gai.resilience.ratelimit import RateLimitedModel, RateLimiter
    from gai.resilience.retry import (
        DEFAULT_RETRY,
        RetryModel,
        RetryPolicy,
        is_retryable,
    )
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
]

_MODULES = {
    "gai.resilience.breaker": (
        "BreakerState",
        "BreakerStateChanged",
        "CircuitBreaker",
        "CircuitBreakerModel",
        "breaker_for",
    ),
    "gai.resilience.fallback": ("FallbackModel",),
    "gai.resilience.ratelimit": ("RateLimitedModel", "RateLimiter"),
    "gai.resilience.retry": (
        "DEFAULT_RETRY",
        "RetryModel",
        "RetryPolicy",
        "is_retryable",
    ),
    "gai.resilience.timeout": ("TimeoutModel", "Timeouts"),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gai.resilience' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
