"""The one boundary between gai and HTTP: aiohttp sessions, SSE/NDJSON readers, error mapping.

Every provider goes through `HTTPClient`, so aiohttp's exceptions and HTTP statuses
become `gai.errors` in exactly one place.
"""

from __future__ import annotations

import asyncio
import atexit
import email.utils
import re
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from gai.errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderOverloadedError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    ResponseFormatError,
)
from gai.providers._gate import ConnectionGate
from gai.types._readonly import readonly

__all__ = [
    "HTTPClient",
    "SSEDecoder",
    "SSEEvent",
    "SSEStream",
    "error_for_status",
    "iter_ndjson",
    "iter_sse",
    "loads",
]

_BODY_LIMIT = 2000
_MAX_RETRY_AFTER = 3600.0
_CONTEXT_RE = re.compile(
    r"context[_ ]length|context window|maximum context|too many tokens|prompt is too long|"
    r"exceeds the maximum number of tokens|input token count",
    re.I,
)
_TRY_AGAIN_RE = re.compile(r"try again in ([0-9.]+)\s*(ms|s)\b", re.I)
_DURATION_RE = re.compile(r"^([0-9.]+)s$")


def loads(data: bytes | str, provider: str) -> Any:
    """Parse JSON from a provider.

    Raises:
        ResponseFormatError: The bytes are not valid JSON.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        preview = data[:200] if isinstance(data, str) else data[:200].decode("utf-8", "replace")
        raise ResponseFormatError(
            f"the response is not valid JSON ({exc}); it starts with {preview!r}",
            provider=provider,
            retryable=True,
        ) from exc


def _retry_after(headers: Mapping[str, str], body: Any, message: str) -> float | None:
    value: float | None = None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            value = float(ms) / 1000
        except ValueError:
            value = None
    if value is None and (raw := headers.get("retry-after")) is not None:
        try:
            value = float(raw)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw else None
            if parsed is not None:
                value = parsed.timestamp() - time.time()  # noqa: TID251 - an HTTP date is wall-clock
    if value is None and isinstance(body, dict):
        # Gemini puts a RetryInfo detail in the error body: {"retryDelay": "30s"}.
        details = (
            (body.get("error") or {}).get("details")
            if isinstance(body.get("error"), dict)
            else None
        )
        for detail in details or ():
            delay = detail.get("retryDelay") if isinstance(detail, dict) else None
            if isinstance(delay, str) and (m := _DURATION_RE.match(delay)):
                value = float(m.group(1))
    if value is None and (m := _TRY_AGAIN_RE.search(message)):
        value = float(m.group(1)) / (1000 if m.group(2).lower() == "ms" else 1)
    if value is None:
        return None
    return min(max(value, 0.0), _MAX_RETRY_AFTER)


def _error_message(body: Any, text: str) -> str:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("msg")
            if isinstance(msg, str) and msg:
                return msg
        if isinstance(err, str) and err:
            return err
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return text.strip()[:500] or "(empty response body)"


def error_for_status(
    provider: str, status: int, headers: Mapping[str, str], raw: bytes
) -> ProviderError:
    """Build the typed error for a failed HTTP response."""
    text = raw[:_BODY_LIMIT].decode("utf-8", "replace")
    try:
        body: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    message = _error_message(body, text)
    request_id = (
        headers.get("x-request-id") or headers.get("request-id") or headers.get("x-goog-request-id")
    )
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "body": text,
        "request_id": request_id,
        "retry_after": _retry_after(headers, body, message),
    }
    cls: type[ProviderError]
    retryable = False
    if status == 401 or (status == 400 and "API_KEY_INVALID" in text):
        # Gemini reports a bad key as 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
        cls = AuthenticationError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 408:
        cls, retryable = ProviderTimeoutError, True
    elif status == 429:
        cls, retryable = RateLimitError, True
    elif status in (503, 529):
        cls, retryable = ProviderOverloadedError, True
    elif status >= 500:
        cls, retryable = ProviderServerError, True
    elif _CONTEXT_RE.search(message):
        cls = ContextLengthError
    else:
        cls, retryable = InvalidRequestError, status == 409
    if headers.get("x-should-retry") in ("true", "false"):
        retryable = headers["x-should-retry"] == "true"
    return cls(message, retryable=retryable, **kwargs)


@readonly()
class SSEEvent:
    """One server-sent event: its `event:` name (or None) and joined `data:` lines."""

    event: str | None
    data: str


class SSEDecoder:
    """Splits bytes as the network delivers them into server-sent events."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, received: bytes) -> list[SSEEvent]:
        """The events completed by `received`; comment lines (`: ...`) are skipped."""
        # Whatever the network delivered is split here at once: reading line by line
        # through aiohttp costs more than parsing the events themselves.
        pending = self._pending + received
        held = b""
        if b"\r" in pending:
            if pending[-1:] == b"\r":  # its "\n" may be in the next read
                pending, held = pending[:-1], b"\r"
            pending = pending.replace(b"\r\n", b"\n")
        *blocks, pending = pending.split(b"\n\n")
        self._pending = pending + held
        events = []
        for block in blocks:
            event = _sse_event(block)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """The last event, when the stream ended without a blank line after it."""
        pending, self._pending = self._pending, b""
        last = _sse_event(pending.replace(b"\r\n", b"\n"))
        return [] if last is None else [last]


class SSEStream:
    """The server-sent events of a response, as an async iterator.

    A class, not an async generator: a provider stops reading at its end marker, and an
    abandoned generator is finalised by the event loop with a task of its own.
    """

    __slots__ = ("_content", "_decoder", "_ended", "_ready")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._content = response.content
        self._decoder = SSEDecoder()
        self._ready: deque[SSEEvent] = deque()
        self._ended = False

    def __aiter__(self) -> SSEStream:
        return self

    async def __anext__(self) -> SSEEvent:
        ready = self._ready
        while not ready:
            if self._ended:
                raise StopAsyncIteration
            received = await self._content.readany()
            if received:
                ready.extend(self._decoder.feed(received))
            else:
                self._ended = True
                ready.extend(self._decoder.close())
        return ready.popleft()


def iter_sse(response: aiohttp.ClientResponse) -> SSEStream:
    """The server-sent events of `response`; comment lines (`: ...`) are skipped."""
    return SSEStream(response)


def _sse_event(block: bytes) -> SSEEvent | None:
    if block[:6] == b"data: " and b"\n" not in block:
        # Most events are one `data:` line (every OpenAI-style chunk): skip the parsing.
        return SSEEvent(None, block[6:].decode("utf-8"))
    event: str | None = None
    data: list[str] = []
    for line in block.decode("utf-8").split("\n"):
        if not line or line[0] == ":":
            continue
        field, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
    return SSEEvent(event, "\n".join(data)) if data else None


async def iter_ndjson(response: aiohttp.ClientResponse, provider: str) -> AsyncIterator[Any]:
    """Yield one parsed JSON value per non-empty line."""
    async for raw_line in response.content:
        line = raw_line.strip()
        if line:
            yield loads(line, provider)


_CLIENTS: weakref.WeakSet[HTTPClient] = weakref.WeakSet()


def _release(session: aiohttp.ClientSession | None) -> None:
    # Marks a session whose loop is gone (or ending) as closed without awaiting, so
    # aiohttp does not warn about it; its sockets died with the loop.
    if session is not None and not session.closed:
        connector = session.connector
        if connector is not None:
            connector._close()


@atexit.register
def _release_all() -> None:
    # Models named by string live for the whole process and are rarely closed by hand.
    for client in list(_CLIENTS):
        _release(client._session)


def _exact(data: bytes) -> bytes:
    # orjson returns its 4 KiB (or larger) output buffer as the bytes object, whatever
    # the length; a body held while waiting for a connection should take what it needs.
    return memoryview(data).tobytes()


class HTTPClient:
    """A lazily created aiohttp session for one provider object.

    The session is created inside the running event loop on first use, and created
    again if the object is later used from another loop (e.g. a second `asyncio.run`).

    Args:
        provider: Provider name, used in errors.
        base_url: URL prefix of every request.
        headers: Headers sent with every request (auth, versions).
        timeout: Seconds a whole non-streamed request may take, and the longest pause
            between two pieces of a stream.
        connect_timeout: Seconds to establish a connection.
        max_connections: Connections kept open to the provider at most.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float = 600.0,
        connect_timeout: float = 10.0,
        max_connections: int = 100,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = {"content-type": "application/json", **headers}
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate = ConnectionGate(max_connections)
        _CLIENTS.add(self)

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and not session.closed and self._loop is loop:
            return session
        # Requests queued in the gate belong to the old loop too.
        self._gate = ConnectionGate(self.max_connections)
        if session is not None and not session.closed:
            # The session belongs to a loop that has ended (e.g. an earlier asyncio.run);
            # its sockets died with that loop, so release it without awaiting.
            connector = session.connector
            if connector is not None:
                connector._close()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300),
            headers=self.headers,
            json_serialize=lambda obj: orjson.dumps(obj).decode(),
        )
        self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the connections; the client reopens them if used again."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(self, stream: bool) -> aiohttp.ClientTimeout:
        if stream:
            return aiohttp.ClientTimeout(
                total=None, connect=self.connect_timeout, sock_read=self.timeout
            )
        return aiohttp.ClientTimeout(total=self.timeout, connect=self.connect_timeout)

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        raw = await response.read()
        raise error_for_status(self.provider, response.status, response.headers, raw)

    def _transport_error(self, exc: Exception, url: str) -> ProviderError | None:
        """The typed error for a failure of the connection or the body, if it is one."""
        if isinstance(exc, TimeoutError):
            return ProviderTimeoutError(
                f"no response within {self.timeout:g} seconds (timeout)",
                provider=self.provider,
                retryable=True,
            )
        if isinstance(exc, aiohttp.ClientPayloadError):
            return ResponseFormatError(
                f"the response body was cut off: {exc}", provider=self.provider, retryable=True
            )
        if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientResponseError)):
            return ProviderConnectionError(
                f"connection to {url} failed: {exc or type(exc).__name__}",
                provider=self.provider,
                retryable=True,
            )
        return None

    async def post_json(
        self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        """POST JSON and return the parsed JSON answer.

        Raises:
            ProviderError: A typed error for the failure.
        """
        body = _exact(orjson.dumps(payload))
        # Only the bytes are needed from here on; with many runs waiting for a
        # connection, their request dicts would otherwise stay alive meanwhile.
        del payload
        url = self._url(path)
        session = self._get_session()
        try:
            async with (
                self._gate,
                session.post(
                    url, data=body, headers=headers, timeout=self._timeout(False)
                ) as response,
            ):
                raw = await response.read()
        except Exception as exc:
            error = self._transport_error(exc, url)
            if error is None:
                raise
            raise error from exc
        if response.status >= 400:
            raise error_for_status(self.provider, response.status, response.headers, raw)
        return loads(raw, self.provider)

    @asynccontextmanager
    async def stream(
        self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST JSON and yield the streaming response; leaving the block closes it.

        Raises:
            ProviderError: A typed error for the failure, also while reading the stream.
        """
        body = _exact(orjson.dumps(payload))
        del payload
        url = self._url(path)
        session = self._get_session()
        try:
            async with (
                self._gate,
                session.post(
                    url, data=body, headers=headers, timeout=self._timeout(True)
                ) as response,
            ):
                if response.status >= 400:
                    await self._raise_for_status(response)
                yield response
        except Exception as exc:
            error = self._transport_error(exc, url)
            if error is None:
                raise
            raise error from exc
