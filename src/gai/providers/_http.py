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
from collections.abc import AsyncIterator, Iterable, Mapping
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
    ToolUseFailedError,
)
from gai.providers._redact import Redactor
from gai.providers.gate import ConnectionGate
from gai.providers.limits import HTTPLimits
from gai.types.base import readonly

__all__ = [
    "HTTPClient",
    "NDJSONStream",
    "SSEDecoder",
    "SSEEvent",
    "SSEStream",
    "cap",
    "error_for_status",
    "iter_sse",
    "loads",
]

_DEFAULT_LIMITS = HTTPLimits()
_BODY_LIMIT = 2000
_MESSAGE_LIMIT = 2000
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


def cap(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters cut)"


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
    message = cap(_error_message(body, text))
    request_id = (
        headers.get("x-request-id") or headers.get("request-id") or headers.get("x-goog-request-id")
    )
    if len(raw) > _BODY_LIMIT:
        text += f"... ({len(raw) - _BODY_LIMIT} more bytes cut)"
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "body": text,
        "request_id": cap(request_id, 200) if request_id else None,
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
    failed = _failed_generation(body) if cls is InvalidRequestError else None
    if failed is not None:
        cls = ToolUseFailedError
    if headers.get("x-should-retry") in ("true", "false"):
        retryable = headers["x-should-retry"] == "true"
    error = cls(message, retryable=retryable, **kwargs)
    if isinstance(error, ToolUseFailedError):
        error.failed_generation = failed
    return error


def _failed_generation(body: Any) -> str | None:
    # Groq: {"error": {"code": "tool_use_failed", "failed_generation": "..."}}
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("code") == "tool_use_failed":
        failed = err.get("failed_generation")
        return failed if isinstance(failed, str) else ""
    return None


@readonly()
class SSEEvent:
    """One server-sent event: its `event:` name (or None) and joined `data:` lines."""

    event: str | None
    data: str


class _Frames:
    """Cuts a byte stream into frames at `separator`, in time linear in the bytes.

    Only the bytes received since the last look are searched for the separator, so an
    event that arrives in many reads is not searched again from its start each time.
    """

    __slots__ = ("_limit", "_pending", "_provider", "_scanned", "_separator")

    def __init__(self, separator: bytes, limit: int, provider: str) -> None:
        self._separator = separator
        self._limit = limit
        self._provider = provider
        self._pending = bytearray()
        self._scanned = 0

    def feed(self, received: bytes, redactor: Redactor | None) -> list[bytes]:
        """The frames completed by `received` (the last, unfinished one is held)."""
        pending = self._pending
        if pending:
            pending += received
            if pending.find(self._separator, self._scanned) < 0:
                self._scanned = max(len(pending) - len(self._separator) + 1, 0)
                self._check(len(pending))
                return []
            data = bytes(pending)
            pending.clear()
        else:
            data = received
        if redactor:
            # A secret never spans a separator, so the frames completed here hold whole
            # secrets; one in the unfinished rest is masked once that frame completes.
            data = redactor.data(data)
        *frames, rest = data.split(self._separator)
        if rest:
            self._check(len(rest))
            pending += rest
            self._scanned = max(len(rest) - len(self._separator) + 1, 0)
        for frame in frames:
            self._check(len(frame))
        return frames

    def close(self, redactor: Redactor | None) -> bytes:
        """What was held when the stream ended without a separator after it."""
        rest = bytes(self._pending)
        self._pending.clear()
        return redactor.data(rest) if redactor else rest

    def _check(self, size: int) -> None:
        if size > self._limit:
            raise ResponseFormatError(
                f"one event of the stream is larger than {self._limit} bytes "
                f"(HTTPLimits.max_event_bytes); it was not read further",
                provider=self._provider,
            )


class SSEDecoder:
    """Splits bytes as the network delivers them into server-sent events.

    Args:
        provider: Provider name, for errors.
        max_event_bytes: Largest event accepted; a larger one is a `ResponseFormatError`.
        redactor: Masks credentials in the events' bytes.
    """

    __slots__ = ("_cr", "_frames", "_redactor")

    def __init__(
        self,
        provider: str = "unknown",
        max_event_bytes: int = _DEFAULT_LIMITS.max_event_bytes,
        redactor: Redactor | None = None,
    ) -> None:
        self._frames = _Frames(b"\n\n", max_event_bytes, provider)
        self._redactor = redactor
        self._cr = False

    def feed(self, received: bytes) -> list[SSEEvent]:
        """The events completed by `received`; comment lines (`: ...`) are skipped.

        Raises:
            ResponseFormatError: One event is larger than `max_event_bytes`.
        """
        # Whatever the network delivered is split here at once: reading line by line
        # through aiohttp costs more than parsing the events themselves.
        if self._cr:
            received = b"\r" + received
            self._cr = False
        if b"\r" in received:
            if received[-1:] == b"\r":  # its "\n" may be in the next read
                received, self._cr = received[:-1], True
            received = received.replace(b"\r\n", b"\n")
        events = []
        for block in self._frames.feed(received, self._redactor):
            event = _sse_event(block)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """The last event, when the stream ended without a blank line after it."""
        last = _sse_event(self._frames.close(self._redactor))
        return [] if last is None else [last]


class _StreamReader:
    """Reads a response's body with an idle limit that keep-alive bytes do not reset.

    aiohttp's own read timeout restarts with every byte, so a server sending comments
    (or blank lines) forever would never time out without this.
    """

    __slots__ = ("_content", "_ended", "_idle", "_last", "_loop", "_provider")

    def __init__(self, response: aiohttp.ClientResponse, provider: str, idle: float) -> None:
        self._content = response.content
        self._provider = provider
        self._idle = idle
        self._ended = False
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()

    async def _read(self) -> bytes:
        received = await self._content.readany()
        if not received:
            self._ended = True
        return received

    def _progressed(self, made: bool) -> None:
        now = self._loop.time()
        if made:
            self._last = now
        elif now - self._last > self._idle:
            raise ProviderTimeoutError(
                f"the stream sent no event for {self._idle:g} seconds, only keep-alive "
                f"bytes (HTTPLimits.idle_timeout)",
                provider=self._provider,
                retryable=True,
            )


class SSEStream(_StreamReader):
    """The server-sent events of a response, as an async iterator.

    A class, not an async generator: a provider stops reading at its end marker, and an
    abandoned generator is finalised by the event loop with a task of its own.
    """

    __slots__ = ("_decoder", "_ready")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        provider: str = "unknown",
        limits: HTTPLimits = _DEFAULT_LIMITS,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(response, provider, limits.idle_timeout)
        self._decoder = SSEDecoder(provider, limits.max_event_bytes, redactor)
        self._ready: deque[SSEEvent] = deque()

    def __aiter__(self) -> SSEStream:
        return self

    async def __anext__(self) -> SSEEvent:
        ready = self._ready
        while not ready:
            if self._ended:
                raise StopAsyncIteration
            received = await self._read()
            if received:
                ready.extend(self._decoder.feed(received))
                self._progressed(bool(ready))
            else:
                ready.extend(self._decoder.close())
        return ready.popleft()


def iter_sse(
    response: aiohttp.ClientResponse,
    provider: str = "unknown",
    limits: HTTPLimits = _DEFAULT_LIMITS,
    redactor: Redactor | None = None,
) -> SSEStream:
    """The server-sent events of `response`; comment lines (`: ...`) are skipped."""
    return SSEStream(response, provider, limits, redactor)


def _sse_event(block: bytes) -> SSEEvent | None:
    if block[:6] == b"data: " and b"\n" not in block:
        # Most events are one `data:` line (every OpenAI-style chunk): skip the parsing.
        return SSEEvent(None, block[6:].decode("utf-8", "replace"))
    event: str | None = None
    data: list[str] = []
    for line in block.decode("utf-8", "replace").split("\n"):
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


class NDJSONStream(_StreamReader):
    """One parsed JSON value per non-empty line of a response, as an async iterator."""

    __slots__ = ("_frames", "_ready", "_redactor")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        provider: str = "unknown",
        limits: HTTPLimits = _DEFAULT_LIMITS,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(response, provider, limits.idle_timeout)
        self._frames = _Frames(b"\n", limits.max_event_bytes, provider)
        self._redactor = redactor
        self._ready: deque[bytes] = deque()

    def __aiter__(self) -> NDJSONStream:
        return self

    async def __anext__(self) -> Any:
        ready = self._ready
        while True:
            while ready:
                line = ready.popleft().strip()
                if line:
                    return loads(line, self._provider)
            if self._ended:
                raise StopAsyncIteration
            received = await self._read()
            if received:
                ready.extend(self._frames.feed(received, self._redactor))
                self._progressed(any(line.strip() for line in ready))
            else:
                ready.append(self._frames.close(self._redactor))


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
    Every byte kept from a response passes through the client's `Redactor`, so the
    credentials it sends never come back into gai, even from a server that echoes them.

    Args:
        provider: Provider name, used in errors.
        base_url: URL prefix of every request.
        headers: Headers sent with every request (auth, versions).
        timeout: Seconds a whole non-streamed request may take.
        max_connections: Connections kept open to the provider at most.
        limits: Stream deadlines, the connect timeout and size caps.
        secrets: More values to mask wherever they come back, besides the credentials
            found in `headers` and in `base_url`'s query.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: float = 600.0,
        max_connections: int = 100,
        limits: HTTPLimits | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = {"content-type": "application/json", **headers}
        self.timeout = timeout
        self.limits = limits or _DEFAULT_LIMITS
        self.max_connections = max_connections
        self.redactor = Redactor.for_request(self.headers, base_url, secrets)
        self.not_found_hint: str | None = None
        """Added to a 404's message: what the user may have got wrong in the URL."""
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate = ConnectionGate(max_connections)
        self._plain_timeout = aiohttp.ClientTimeout(
            total=timeout, connect=self.limits.connect_timeout
        )
        self._stream_timeout = aiohttp.ClientTimeout(
            total=self.limits.stream_timeout,
            connect=self.limits.connect_timeout,
            sock_read=self.limits.idle_timeout,
        )
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

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    async def _raise_for_status(self, response: aiohttp.ClientResponse) -> None:
        raw = self.redactor.data(await self._read_body(response))
        raise self._status_error(response, raw)

    def _status_error(self, response: aiohttp.ClientResponse, raw: bytes) -> ProviderError:
        error = error_for_status(self.provider, response.status, response.headers, raw)
        if self.not_found_hint and isinstance(error, NotFoundError):
            error.message = f"{error.message} ({self.not_found_hint})"
            error.args = (error.message,)
        return error

    def _transport_error(self, exc: Exception, url: str, stream: bool) -> ProviderError | None:
        """The typed error for a failure of the connection or the body, if it is one."""
        limits = self.limits
        message: str | None = None
        error: type[ProviderError] = ProviderConnectionError
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            message = f"could not connect to {url} within {limits.connect_timeout:g} seconds"
            error = ProviderTimeoutError
        elif isinstance(exc, aiohttp.ServerTimeoutError) and stream:
            message = (
                f"the stream paused for more than {limits.idle_timeout:g} seconds "
                f"(HTTPLimits.idle_timeout)"
            )
            error = ProviderTimeoutError
        elif isinstance(exc, TimeoutError):
            message = (
                f"the stream did not finish within {limits.stream_timeout:g} seconds "
                f"(HTTPLimits.stream_timeout)"
                if stream
                else f"no response within {self.timeout:g} seconds (timeout)"
            )
            error = ProviderTimeoutError
        elif isinstance(exc, aiohttp.ClientPayloadError):
            message = f"the response body was cut off: {exc}"
            error = ResponseFormatError
        elif isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientResponseError)):
            message = f"connection to {url} failed: {exc or type(exc).__name__}"
        if message is None:
            return None
        return error(cap(self.redactor.text(message)), provider=self.provider, retryable=True)

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self.limits.max_response_bytes
        length = response.content_length
        if length is not None and "content-encoding" not in response.headers:
            if length > limit:
                raise self._too_large(limit)
            return await response.read()
        # Unknown or compressed length: read in pieces, so an endless body stops at the cap.
        pieces: list[bytes] = []
        size = 0
        while piece := await response.content.readany():
            size += len(piece)
            if size > limit:
                raise self._too_large(limit)
            pieces.append(piece)
        return b"".join(pieces)

    def _too_large(self, limit: int) -> ResponseFormatError:
        return ResponseFormatError(
            f"the response body is larger than {limit} bytes (HTTPLimits.max_response_bytes); "
            f"it was not read further",
            provider=self.provider,
        )

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
                    url, data=body, headers=headers, timeout=self._plain_timeout
                ) as response,
            ):
                raw = await self._read_body(response)
        except Exception as exc:
            error = self._transport_error(exc, url, stream=False)
            if error is None:
                raise
            raise error from exc
        if self.redactor:
            raw = self.redactor.data(raw)
        if response.status >= 400:
            raise self._status_error(response, raw)
        return loads(raw, self.provider)

    @asynccontextmanager
    async def stream(
        self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST JSON and yield the streaming response; leaving the block closes it.

        Read it with `sse(response)` or `ndjson(response)`, which apply the client's
        limits and mask its credentials.

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
                    url, data=body, headers=headers, timeout=self._stream_timeout
                ) as response,
            ):
                if response.status >= 400:
                    await self._raise_for_status(response)
                yield response
        except Exception as exc:
            error = self._transport_error(exc, url, stream=True)
            if error is None:
                raise
            raise error from exc

    def sse(self, response: aiohttp.ClientResponse) -> SSEStream:
        """The server-sent events of a response from `stream`."""
        return SSEStream(response, self.provider, self.limits, self.redactor or None)

    def ndjson(self, response: aiohttp.ClientResponse) -> NDJSONStream:
        """The JSON lines of a response from `stream`."""
        return NDJSONStream(response, self.provider, self.limits, self.redactor or None)
