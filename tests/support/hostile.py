"""A loopback server that misbehaves on purpose: it echoes credentials, never ends its
streams, sends huge or malformed events, and error messages of any size.

Each behaviour has its own URL prefix, so one server serves every test:
`OpenAI("m", base_url=server.base("echo_json"))` posts to `/echo_json/v1/chat/completions`.
A behaviour may take one argument, the next path segment: `server.base("big_event", 5)`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]

MiB = 1024 * 1024


def _completion(text: str = "", tool_calls: list[dict[str, Any]] | None = None) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return json.dumps(
        {
            "id": "chatcmpl-hostile",
            "object": "chat.completion",
            "model": "hostile",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }
    ).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "model": "hostile",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class HostileServer:
    """The server; `requests` counts the requests it received, per behaviour."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self._server: TestServer | None = None

    async def __aenter__(self) -> HostileServer:
        app = web.Application()
        app.router.add_route("*", "/{mode}/{tail:.*}", self._handle)
        self._server = TestServer(app)
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()

    def base(self, mode: str, arg: object = "-") -> str:
        """The base URL (ending in /v1) of one behaviour."""
        assert self._server is not None
        return str(self._server.make_url(f"/{mode}/{arg}/v1"))

    def host(self, mode: str, arg: object = "-") -> str:
        """The base URL of one behaviour for servers without /v1 (Ollama)."""
        assert self._server is not None
        return str(self._server.make_url(f"/{mode}/{arg}"))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        mode = request.match_info["mode"]
        arg = request.match_info["tail"].split("/", 1)[0]
        await request.read()
        self.requests[mode] = self.requests.get(mode, 0) + 1
        handler: Handler = getattr(self, f"_{mode}")
        return await handler(request, arg)

    # -- credentials echoed back -------------------------------------------------

    @staticmethod
    def _credential(request: web.Request) -> str:
        names = ("Authorization", "x-api-key", "x-goog-api-key", "x-org")
        return " ".join(request.headers[n] for n in names if n in request.headers)

    async def _echo_json(self, request: web.Request, arg: str) -> web.StreamResponse:
        auth = self._credential(request)
        body = {"error": {"message": f"Incorrect API key provided: {auth}", "code": None}}
        return web.json_response(body, status=int(arg) if arg.isdigit() else 401)

    async def _echo_text(self, request: web.Request, arg: str) -> web.StreamResponse:
        return web.Response(status=500, text=f"upstream rejected {self._credential(request)}")

    async def _echo_html(self, request: web.Request, arg: str) -> web.StreamResponse:
        page = f"<html><body><h1>502 Bad Gateway</h1><pre>{self._credential(request)}</pre>"
        return web.Response(status=502, text=page + "</body></html>", content_type="text/html")

    async def _echo_stream(self, request: web.Request, arg: str) -> web.StreamResponse:
        response = await self._sse(request)
        await response.write(_chunk({"role": "assistant", "content": "Hel"}))
        error = {"error": {"message": f"key {self._credential(request)} expired", "code": 500}}
        await response.write(b"data: " + json.dumps(error).encode() + b"\n\n")
        await response.write_eof()
        return response

    async def _echo_ok(self, request: web.Request, arg: str) -> web.StreamResponse:
        text = f"Your header was {self._credential(request)}."
        if (await request.json()).get("stream"):
            response = await self._sse(request)
            await response.write(_chunk({"role": "assistant", "content": text[:20]}))
            await response.write(_chunk({"content": text[20:]}, "stop"))
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
            return response
        return web.Response(body=_completion(text), content_type="application/json")

    async def _error_with_usage(self, request: web.Request, arg: str) -> web.StreamResponse:
        """OpenRouter's mid-stream error: an error chunk that also says what was used."""
        response = await self._sse(request)
        await response.write(_chunk({"role": "assistant", "content": "Partial"}))
        error = {
            "id": "gen-1",
            "object": "chat.completion.chunk",
            "error": {"code": 502, "message": "Provider disconnected"},
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
        }
        await response.write(b"data: " + json.dumps(error).encode() + b"\n\n")
        await response.write_eof()
        return response

    async def _tool_use_failed(self, request: web.Request, arg: str) -> web.StreamResponse:
        """Groq's answer to a malformed tool call, streamed or not."""
        failed = '{"name": "add", "arguments": {"a": "one"}}'
        body = {"error": {"code": "tool_use_failed", "message": "bad", "failed_generation": failed}}
        return web.json_response(body, status=400)

    # -- streams that never end ----------------------------------------------------

    @staticmethod
    async def _sse(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        return response

    async def _keepalive(self, request: web.Request, arg: str) -> web.StreamResponse:
        response = await self._sse(request)
        await response.write(_chunk({"role": "assistant", "content": "thinking"}))
        while True:
            await response.write(b": keep-alive\n\n")
            await asyncio.sleep(0.05)

    async def _trickle(self, request: web.Request, arg: str) -> web.StreamResponse:
        response = await self._sse(request)
        while True:
            await response.write(_chunk({"content": "."}))
            await asyncio.sleep(float(arg) if arg != "-" else 0.2)

    async def _endless_line(self, request: web.Request, arg: str) -> web.StreamResponse:
        response = await self._sse(request)
        await response.write(b'data: {"choices": [{"delta": {"content": "')
        piece = b"x" * 65536
        while True:
            await response.write(piece)

    async def _endless_ndjson(self, request: web.Request, arg: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
        await response.prepare(request)
        await response.write(b'{"message": {"role": "assistant", "content": "')
        piece = b"x" * 65536
        while True:
            await response.write(piece)

    async def _endless_body(self, request: web.Request, arg: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"choices": [{"message": {"content": "')
        piece = b"x" * 65536
        while True:
            await response.write(piece)

    # -- huge or malformed payloads ------------------------------------------------

    async def _big_event(self, request: web.Request, arg: str) -> web.StreamResponse:
        size = int(arg) * MiB
        response = await self._sse(request)
        body = _chunk({"role": "assistant", "content": "x" * size}, "stop")
        for start in range(0, len(body), 65536):
            await response.write(body[start : start + 65536])
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _big_error(self, request: web.Request, arg: str) -> web.StreamResponse:
        message = "overloaded " + "y" * (int(arg) * MiB)
        return web.json_response({"error": {"message": message}}, status=500)

    async def _bad_delta(self, request: web.Request, arg: str) -> web.StreamResponse:
        """A streamed tool-call delta with one field of the wrong type (`arg` names it)."""
        call: dict[str, Any] = {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "add", "arguments": '{"a": 1}'},
        }
        bad: dict[str, Any] = {"index_null": None, "index_list": [1], "id_int": 123}
        if arg in bad:
            call[arg.split("_")[0]] = bad[arg]
        elif arg == "name_int":
            call["function"]["name"] = 7
        elif arg == "arguments_int":
            call["function"]["arguments"] = 5
        response = await self._sse(request)
        await response.write(_chunk({"role": "assistant", "tool_calls": [call]}))
        await response.write(_chunk({}, "tool_calls"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
