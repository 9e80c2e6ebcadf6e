"""`BaseHTTPModel`: what every HTTP provider shares (its name, session and closing)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gai._checks import numbers
from gai.errors import ConfigError
from gai.providers._http import HTTPClient
from gai.providers.base import BaseChatModel
from gai.providers.limits import HTTPLimits

__all__ = ["BaseHTTPModel"]


class BaseHTTPModel(BaseChatModel):
    """A model reached over HTTP through one shared `HTTPClient`.

    Args:
        provider: Provider name, the prefix of `name` and of errors.
        model: The provider's model name.
        base_url: API root.
        headers: Headers for every request (auth, API version, the caller's extras).
        timeout: Seconds a whole non-streamed request may take.
        max_connections: Open connections kept at most.
        limits: Stream deadlines, connect timeout and size caps.
        secrets: More values to mask in what the server sends back.
    """

    def __init__(
        self,
        provider: str,
        model: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float,
        max_connections: int,
        limits: HTTPLimits | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        _check(provider, model, base_url, timeout)
        self.provider = provider
        self.model = model
        self._http = HTTPClient(
            provider,
            base_url,
            headers,
            timeout=timeout,
            max_connections=max_connections,
            limits=limits,
            secrets=secrets,
        )

    @property
    def name(self) -> str:
        """The model string, "provider:model"."""
        return f"{self.provider}:{self.model}"

    @property
    def endpoint(self) -> str:
        """The base URL requests go to; circuit breakers are shared per endpoint."""
        return self._http.base_url

    retry_by_default = True
    """Real providers are retried with the default `RetryPolicy` unless told otherwise."""

    async def aclose(self) -> None:
        """Close the HTTP connections; they reopen if the model is used again."""
        await self._http.aclose()


def _check(provider: str, model: Any, base_url: Any, timeout: Any) -> None:
    """Reject constructor arguments of the wrong kind when the model is made, not used."""
    if not isinstance(model, str) or not model:
        raise ConfigError(
            f"{provider}: the model name must be a non-empty string (e.g. 'gpt-5-mini'), "
            f"got {model!r}."
        )
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{provider}: base_url must be an http:// or https:// URL, got {base_url!r}."
        )
    numbers(f"{provider}: ", ("timeout", timeout))
    if timeout <= 0:
        raise ConfigError(
            f"{provider}: timeout must be a positive number of seconds, got {timeout!r}."
        )
