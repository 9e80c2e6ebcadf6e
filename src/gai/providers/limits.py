"""`HTTPLimits`: how long and how much a provider's server may take before gai gives up."""

from __future__ import annotations

from dataclasses import dataclass

from gai.errors import ConfigError

__all__ = ["HTTPLimits"]

_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class HTTPLimits:
    """Bounds on one HTTP exchange with a provider.

    They keep a broken or hostile server from hanging a run or exhausting the process's
    memory. Every bound that is hit raises a typed `gai.ProviderError`: time limits a retryable
    `ProviderTimeoutError`, size limits a `ResponseFormatError`. The time to answer a
    non-streamed request is the provider's `timeout=` argument.
    """

    stream_timeout: float = 600.0
    """Seconds a whole streamed response may take, from the request to its last byte."""

    idle_timeout: float = 300.0
    """Seconds a stream may go without an event; keep-alive comments do not count."""

    connect_timeout: float = 10.0
    """Seconds to open a connection."""

    max_response_bytes: int = 64 * _MiB
    """Largest non-streamed response body (after decompression) accepted."""

    max_event_bytes: int = 16 * _MiB
    """Largest single server-sent event or NDJSON line of a stream accepted."""

    def __post_init__(self) -> None:
        for name in ("stream_timeout", "idle_timeout", "connect_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"HTTPLimits.{name} must be a positive number of seconds, "
                    f"got {getattr(self, name)!r}."
                )
        for name in ("max_response_bytes", "max_event_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1024:
                raise ConfigError(
                    f"HTTPLimits.{name} must be a whole number of bytes of at least 1024, "
                    f"got {value!r}."
                )
