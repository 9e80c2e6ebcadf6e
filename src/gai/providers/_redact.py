"""Masking the credentials a provider object holds out of everything a server sends back.

A server that reflects the `Authorization` header (in an error body, an HTML error
page, a streamed error event or a model's text) would otherwise put the key into
exceptions, logs, spans, events and the run store. The HTTP boundary passes every byte
it keeps through one `Redactor`, so nothing downstream has to think about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Redactor", "mask"]

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "openai-api-key",
    }
)
"""Header names (lower case) whose values are credentials."""

SECRET_QUERY_KEYS = frozenset({"key", "api_key", "apikey", "api-key", "token", "access_token"})
"""URL query parameters (lower case) whose values are credentials, e.g. Gemini's `key=`."""

_MIN_LENGTH = 6
"""Shorter values are too likely to occur in ordinary text to be masked everywhere."""


def mask(secret: str) -> str:
    """What a secret becomes: its first and last three characters, or `***` when short."""
    return f"{secret[:3]}...{secret[-3:]}" if len(secret) >= 12 else "***"


class Redactor:
    """Replaces each known secret with its `mask` in text and bytes.

    Args:
        secrets: The values to mask; empty and very short ones are ignored.
    """

    __slots__ = ("_bytes", "_text")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        unique = sorted({s for s in secrets if len(s) >= _MIN_LENGTH}, key=len, reverse=True)
        self._text = tuple((s, mask(s)) for s in unique)
        self._bytes = tuple((s.encode(), m.encode()) for s, m in self._text)

    @classmethod
    def for_request(
        cls, headers: Mapping[str, str], url: str, extra: Iterable[str] = ()
    ) -> Redactor:
        """The secrets in `headers` (credential headers), `url` (query keys) and `extra`."""
        found = list(extra)
        for name, value in headers.items():
            if name.lower() in SECRET_HEADERS:
                scheme, _, token = value.partition(" ")
                # "Bearer sk-...", "Basic dXNl...": the scheme is no secret.
                found.append(token.strip() if token and scheme.isalpha() else value)
        for name, value in parse_qsl(urlsplit(url).query):
            if name.lower() in SECRET_QUERY_KEYS:
                found.append(value)
        return cls(found)

    def __bool__(self) -> bool:
        return bool(self._text)

    def text(self, value: str) -> str:
        """`value` with every secret masked."""
        for secret, masked in self._text:
            if secret in value:
                value = value.replace(secret, masked)
        return value

    def data(self, value: bytes) -> bytes:
        """`value` with every secret masked."""
        for secret, masked in self._bytes:
            if secret in value:
                value = value.replace(secret, masked)
        return value
