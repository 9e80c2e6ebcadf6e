"""Ollama's native chat API (`/api/chat`, NDJSON streaming, tool calls)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from gai.providers._base_http import BaseHTTPModel
from gai.providers._common import (
    as_file,
    cannot_take,
    finish_reason,
    nested_settings,
    reasoning_effort,
    response_shape,
    usage_from,
)
from gai.providers._http import error_for_status
from gai.providers.base import ModelRequest, ModelResponse
from gai.providers.hosted import hosted_tools, unsupported
from gai.providers.limits import HTTPLimits
from gai.providers.streaming import function_call
from gai.providers.wire import encoded_messages
from gai.types import (
    File,
    FinishReason,
    ImageURL,
    Message,
    ModelChunk,
    Reasoning,
    ReasoningChunk,
    StreamEnd,
    TextChunk,
    ToolCallChunk,
    ToolCallPart,
    ToolResultPart,
)

__all__ = ["Ollama"]

_FINISH: dict[str, FinishReason] = {"stop": "stop", "length": "length", "load": "other"}
_USAGE = {
    "input_tokens": lambda u: u["prompt_eval_count"],
    "output_tokens": lambda u: u["eval_count"],
}
_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "max_tokens": "num_predict",
}


def _host() -> str:
    host = os.environ.get("OLLAMA_HOST") or "http://localhost:11434"
    return host if "://" in host else f"http://{host}"


class Ollama(BaseHTTPModel):
    """A model served by Ollama, through its native `/api/chat` endpoint.

    Args:
        model: Model name, e.g. "llama3.2".
        base_url: Server URL; defaults to `OLLAMA_HOST` or http://localhost:11434.
        api_key: Key for ollama.com; defaults to `OLLAMA_API_KEY` (local servers need none).
        timeout: Seconds a whole non-streamed request may take.
        max_connections: Open connections kept at most.
        limits: Stream deadlines, connect timeout and size caps (`HTTPLimits`).
        secrets: More values to mask in everything the server sends back (the key
            and credential headers are always masked).
        headers: Extra headers.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 600.0,
        max_connections: int = 100,
        limits: HTTPLimits | None = None,
        secrets: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        key = api_key or os.environ.get("OLLAMA_API_KEY")
        auth = {"authorization": f"Bearer {key}"} if key else {}
        super().__init__(
            "ollama",
            model,
            base_url or _host(),
            {**auth, **(headers or {})},
            timeout=timeout,
            max_connections=max_connections,
            limits=limits,
            secrets=secrets,
        )

    def native_output(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Settings asking for JSON matching `schema` (`format`)."""
        return {"format": schema}

    def payload(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body for a request, for `orjson.dumps` (`messages` is pre-encoded).

        Ollama has no tool-choice parameter: "none" leaves the tools out, and any other
        choice offers them all.
        """
        body: dict[str, Any] = {
            "model": self.model,
            "messages": encoded_messages(request, _messages),
            "stream": stream,
        }
        if request.tools and request.tool_choice != "none":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        for spec in hosted_tools(_NAME, request.settings):
            raise unsupported(_NAME, spec)  # Ollama runs no tools itself
        options, extra = nested_settings(request.settings, _OPTIONS, "stop", "options")
        if reasoning_effort(_NAME, request.settings) is not None and "think" not in extra:
            extra["think"] = True
        if options:
            body["options"] = options
        body.update(extra)
        return body

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one non-streamed chat call."""
        data = await self._http.post_json("/api/chat", self.payload(request, stream=False))
        with response_shape("ollama", "chat response"):
            if "error" in data:
                raise error_for_status("ollama", 500, {}, orjson.dumps(data))
            message = data["message"]
            calls = tuple(function_call(tc) for tc in message.get("tool_calls") or ())
            thought = message.get("thinking")
            return ModelResponse(
                text=message.get("content") or "",
                tool_calls=calls,
                reasoning=(Reasoning(text=thought, provider=_NAME),) if thought else (),
                usage=usage_from(data, _USAGE),
                finish_reason=_finish(data.get("done_reason"), bool(calls)),
                model_name=data.get("model"),
                raw=data,
            )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream one chat call (NDJSON) as chunks."""
        calls = 0
        async with self._http.stream("/api/chat", self.payload(request, stream=True)) as response:
            async for data in self._http.ndjson(response):
                with response_shape("ollama", "stream line"):
                    if "error" in data:
                        raise error_for_status("ollama", 500, {}, orjson.dumps(data))
                    message = data.get("message") or {}
                    if message.get("thinking"):
                        yield ReasoningChunk(0, message["thinking"], _NAME)
                    if message.get("content"):
                        yield TextChunk(message["content"])
                    for tc in message.get("tool_calls") or ():
                        call = function_call(tc)
                        yield ToolCallChunk(
                            index=calls,
                            call_id=call.call_id,
                            name=call.name,
                            arguments=orjson.dumps(call.arguments).decode(),
                        )
                        calls += 1
                    if data.get("done"):
                        yield StreamEnd(
                            finish_reason=_finish(data.get("done_reason"), bool(calls)),
                            usage=usage_from(data, _USAGE),
                            model_name=data.get("model"),
                        )
                        return


_NAME = "ollama"
"""The provider named in the reasoning this protocol makes, and sent back only to it."""


def _finish(done_reason: Any, has_calls: bool) -> FinishReason:
    # Ollama says "stop" when the model called tools; streamed or not, gai says so.
    finish = finish_reason(done_reason, _FINISH)
    if has_calls and finish in (None, "stop"):
        return "tool_calls"
    return finish or "stop"


def _images(parts: Iterable[Any]) -> list[str]:
    images = []
    for part in parts:
        if isinstance(part, ImageURL | File):
            file = as_file(part)
            if file.file_kind != "image" or file.data is None:
                raise cannot_take(
                    "ollama",
                    file,
                    "Ollama takes images only, inline: read them with "
                    "gai.types.File.from_path (or .from_bytes).",
                )
            images.append(file.data)
    return images


def _tool_entry(part: ToolResultPart) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": "tool", "content": part.content, "tool_name": part.name}
    if part.files:
        entry["images"] = _images(part.files)
    return entry


def _messages(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [_tool_entry(p) for p in message.parts if isinstance(p, ToolResultPart)]
    entry: dict[str, Any] = {"role": message.role, "content": message.text}
    thoughts = [p.text for p in message.parts if isinstance(p, Reasoning) and p.provider == _NAME]
    if thoughts:
        entry["thinking"] = "".join(thoughts)
    calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
    if calls:
        entry["tool_calls"] = [
            {"function": {"name": c.name, "arguments": c.arguments}} for c in calls
        ]
    if images := _images(message.parts):
        entry["images"] = images
    return [entry]
