"""Tools from Model Context Protocol servers (`pip install "gai[mcp]"`).

`MCPServer.stdio([...])` spawns a server process and talks over its stdin/stdout;
`MCPServer.http(url)` connects over streamable HTTP. Inside `async with`, `server.tools`
are ordinary `gai.Tool`s: they run in parallel with local tools, under the same
timeouts, events and tracing, and a server-side error becomes a tool error the model
reads. A dropped connection is reopened on the next call; the call that saw the drop is
repeated only when the server marks the tool idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from gai.errors import MCPError, MissingExtraError
from gai.tools.core import Tool

__all__ = ["MCPServer"]


def _sdk() -> Any:
    try:
        import mcp
    except ImportError as exc:
        raise MissingExtraError("mcp", "mcp") from exc
    return mcp


class MCPServer:
    """A connection to one MCP server, and its tools as gai tools.

    Build one with `MCPServer.stdio(...)` or `MCPServer.http(...)` and use it as
    `async with server: ... server.tools ...`.

    Args:
        target: What the SDK's `mcp.Client` connects to (a URL or stdio parameters).
        prefix: Put before every tool name (e.g. "fs_"), to keep names unique.
        timeout: Seconds one call may take (the gai tool timeout).
        name: How errors and logs name this server.
    """

    def __init__(
        self, target: Any, *, prefix: str = "", timeout: float | None = None, name: str
    ) -> None:
        self._target = target
        self.prefix = prefix
        self.timeout = timeout
        self.name = name
        self.tools: list[Tool] = []
        self._client: Any = None
        self._holder: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self.reconnects = 0
        """How many times the connection was reopened after a drop."""

    @classmethod
    def stdio(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        prefix: str = "",
        timeout: float | None = None,
    ) -> MCPServer:
        """A server started as a subprocess (`command[0]` with `command[1:]` as arguments).

        Raises:
            MissingExtraError: The `mcp` SDK is not installed.
        """
        if not command:
            raise MCPError("MCPServer.stdio needs a command, e.g. ['python', 'server.py'].")
        params = _sdk().StdioServerParameters(
            command=command[0], args=list(command[1:]), env=dict(env) if env else None, cwd=cwd
        )
        return cls(params, prefix=prefix, timeout=timeout, name=" ".join(command))

    @classmethod
    def http(cls, url: str, *, prefix: str = "", timeout: float | None = None) -> MCPServer:
        """A server reached over streamable HTTP at `url` (e.g. "http://host:8000/mcp")."""
        _sdk()
        return cls(url, prefix=prefix, timeout=timeout, name=url)

    async def __aenter__(self) -> MCPServer:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Open the session and list the server's tools.

        Raises:
            MCPError: The server cannot be started or reached.
        """
        await self._open()
        listed = await self._client.list_tools()
        self.tools = [self._tool(t) for t in listed.tools]

    async def aclose(self) -> None:
        """Close the session (and stop the server process of a stdio server)."""
        holder, stop = self._holder, self._stop
        self._holder = self._stop = self._client = None
        if holder is not None and stop is not None:
            stop.set()
            with contextlib.suppress(Exception):
                await holder

    async def _open(self) -> None:
        # The SDK's client must be entered and exited by the same task, so one task
        # holds each connection open until told to stop.
        connected: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()

        async def hold() -> None:
            try:
                async with _sdk().Client(self._target) as client:
                    connected.set_result(client)
                    await stop.wait()
            except BaseException as exc:
                if not connected.done():
                    connected.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

        holder = asyncio.create_task(hold())
        try:
            client = await connected
        except Exception as exc:
            raise MCPError(
                f"Cannot connect to MCP server {self.name!r}: {_root_causes(exc)}"
            ) from exc
        self._client, self._holder, self._stop = client, holder, stop
        self._generation += 1

    async def _reconnect(self, seen_generation: int) -> None:
        async with self._lock:
            if self._generation != seen_generation and self._client is not None:
                return  # another call already reopened it
            await self.aclose()
            await self._open()
            self.reconnects += 1

    def _tool(self, spec: Any) -> Tool:
        remote = spec.name
        annotations = spec.annotations
        idempotent = bool(
            annotations is not None and (annotations.idempotent_hint or annotations.read_only_hint)
        )
        schema = dict(spec.input_schema or {})
        schema.setdefault("type", "object")

        async def call(**arguments: Any) -> Any:
            return await self.call(remote, arguments, retry_on_drop=idempotent)

        return Tool(
            name=f"{self.prefix}{remote}",
            description=spec.description or f"{remote} (MCP server {self.name})",
            fn=call,
            parameters=schema,
            timeout=self.timeout,
            idempotent=idempotent,
        )

    async def call(
        self, tool: str, arguments: Mapping[str, Any], *, retry_on_drop: bool = False
    ) -> Any:
        """Call a tool of the server by its own name.

        Returns:
            The structured result when the server gives one, else its text content.

        Raises:
            MCPError: The server reported an error, or the connection failed.
        """
        if self._client is None:
            if self._generation == 0:
                raise MCPError(
                    f"MCP server {self.name} is not connected; use `async with server:`."
                )
            await self._reconnect(self._generation)  # an earlier reconnect failed
        for attempt in (1, 2):
            generation = self._generation
            try:
                result = await self._client.call_tool(tool, dict(arguments))
                break
            except Exception as exc:
                if _is_tool_error(exc):
                    raise MCPError(f"{tool}: {exc}") from exc
                await self._reconnect(generation)
                if attempt == 2 or not retry_on_drop:
                    raise MCPError(
                        f"Connection to MCP server {self.name} dropped during {tool!r} "
                        f"({type(exc).__name__}: {exc}); reconnected for the next call."
                    ) from exc
        if result.is_error:
            raise MCPError(f"{tool}: {_text(result.content) or 'the server reported an error'}")
        if result.structured_content is not None:
            return result.structured_content
        return _text(result.content)


_CONNECTION_CLOSED = -32000  # JSON-RPC error code the SDK uses for a lost connection


def _is_tool_error(exc: Exception) -> bool:
    # Protocol-level refusals (unknown tool, bad arguments) come back as the SDK's
    # MCPError with a JSON-RPC code; the connection is fine, nothing to reconnect.
    sdk_error = getattr(_sdk(), "MCPError", None)
    if sdk_error is None or not isinstance(exc, sdk_error):
        return False
    return getattr(exc, "code", None) != _CONNECTION_CLOSED


def _text(content: Sequence[Any]) -> str:
    parts: list[str] = []
    for block in content:
        text = getattr(block, "text", None)
        if text is not None:
            parts.append(text)
        else:
            parts.append(orjson.dumps(block.model_dump(mode="json", exclude_none=True)).decode())
    return "\n".join(parts)


def _root_causes(exc: BaseException) -> str:
    """What actually failed, from inside the SDK's task groups.

    Their own message ("unhandled errors in a TaskGroup") names no cause.
    """
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(dict.fromkeys(_root_causes(e) for e in exc.exceptions))
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
