"""Anthropic's Messages API (tool_use / tool_result blocks, SSE streaming)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from gai.providers._anthropic_server import (
    ServerBlocks,
    citations,
    is_server_block,
    server_tools,
)
from gai.providers._base_http import BaseHTTPModel
from gai.providers._common import (
    REASONING_BUDGETS,
    api_key_from_env,
    as_file,
    cannot_take,
    finish_reason,
    passthrough,
    reasoning_effort,
    response_shape,
    split_system,
    stop_list,
    usage_from,
)
from gai.providers._http import error_for_status, loads
from gai.providers.base import ModelRequest, ModelResponse
from gai.providers.hosted import hosted_tools
from gai.providers.limits import HTTPLimits
from gai.providers.wire import encoded_turns
from gai.types import (
    CachePoint,
    Citation,
    File,
    FinishReason,
    HostedTool,
    HostedToolChunk,
    ImageURL,
    Message,
    ModelChunk,
    Reasoning,
    ReasoningChunk,
    StreamEnd,
    Text,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    ToolCallPart,
    ToolResultPart,
    Usage,
)

__all__ = ["Anthropic"]

_NAME = "anthropic"
"""The provider named in the reasoning this protocol makes, and sent back only to it."""

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
}

# Stream `error` events carry a type instead of an HTTP status.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def _usage(data: Any) -> Usage:
    usage = usage_from(
        data,
        {
            "input_tokens": lambda u: u["input_tokens"],
            "output_tokens": lambda u: u["output_tokens"],
            "cache_read_tokens": lambda u: u["cache_read_input_tokens"],
            "cache_write_tokens": lambda u: u["cache_creation_input_tokens"],
        },
    )
    # Anthropic counts cached input apart from input_tokens; gai's input includes it.
    total_input = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return usage.model_copy(
        update={"input_tokens": total_input, "total_tokens": total_input + usage.output_tokens}
    )


class Anthropic(BaseHTTPModel):
    """A Claude model through Anthropic's Messages API.

    Args:
        model: Model name, e.g. "claude-sonnet-4-5".
        api_key: Key; defaults to `ANTHROPIC_API_KEY`.
        base_url: API root; defaults to `ANTHROPIC_BASE_URL` or https://api.anthropic.com.
        max_tokens: Output limit sent when the request's settings name none (the API
            requires one).
        timeout: Seconds a whole non-streamed request may take.
        max_connections: Open connections kept at most.
        limits: Stream deadlines, connect timeout and size caps (`HTTPLimits`).
        secrets: More values to mask in everything the server sends back (the key
            and credential headers are always masked).
        headers: Extra headers (e.g. `anthropic-beta`).

    Raises:
        MissingAPIKeyError: No key is given or set.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        timeout: float = 600.0,
        max_connections: int = 100,
        limits: HTTPLimits | None = None,
        secrets: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        key = api_key_from_env("anthropic", api_key, "ANTHROPIC_API_KEY")
        self.max_tokens = max_tokens
        super().__init__(
            _NAME,
            model,
            base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com",
            {"x-api-key": key, "anthropic-version": API_VERSION, **(headers or {})},
            timeout=timeout,
            max_connections=max_connections,
            limits=limits,
            secrets=secrets,
        )

    def native_output(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Settings asking for JSON matching `schema` (`output_format`, a beta feature)."""
        return {"output_format": {"type": "json_schema", "schema": _closed(schema)}}

    def payload(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body for a request, for `orjson.dumps` (`messages` is pre-encoded)."""
        system, messages = split_system(request.messages)
        settings = request.settings
        cache = bool(settings.get("prompt_cache"))
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": settings.get("max_tokens", self.max_tokens),
            "messages": encoded_turns(
                request, _turn, messages, "content", last=_cached_turn if cache else None
            ),
        }
        if system:
            # Cached, the system prompt is a block that carries the breakpoint.
            body["system"] = (
                [{"type": "text", "text": system, "cache_control": _EPHEMERAL}] if cache else system
            )
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
        tools.extend(server_tools(hosted_tools(_NAME, settings)))
        if tools:
            if cache:
                tools[-1] = {**tools[-1], "cache_control": _EPHEMERAL}
            body["tools"] = tools
            body["tool_choice"] = _tool_choice(request.tool_choice)
        for key in ("temperature", "top_p"):
            if key in settings:
                body[key] = settings[key]
        if (stop := stop_list(settings)) is not None:
            body["stop_sequences"] = stop
        # Anthropic has no seed parameter; a seed setting is not sent.
        effort = reasoning_effort(_NAME, settings)
        if effort is not None and "thinking" not in settings:
            budget = REASONING_BUDGETS[effort]
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}
            if "max_tokens" not in settings and body["max_tokens"] <= budget:
                body["max_tokens"] = budget + self.max_tokens  # room to answer after thinking
        body.update(passthrough(settings))
        if stream:
            body["stream"] = True
        return body

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one Messages call."""
        data = await self._http.post_json(
            "/v1/messages",
            self.payload(request, stream=False),
            headers=_beta(request, self._http.headers),
        )
        return self.parse_response(data)

    async def count_tokens(self, request: ModelRequest) -> int:
        """The input tokens `request` would take, by Anthropic's own count.

        One call to `/v1/messages/count_tokens` (free, rate-limited separately); context
        policies use it near their budget, where the local estimate is not enough.
        """
        body = self.payload(request, stream=False)
        for key in _NOT_COUNTED:
            body.pop(key, None)
        data = await self._http.post_json(
            "/v1/messages/count_tokens", body, headers=_beta(request, self._http.headers)
        )
        with response_shape("anthropic", "token count"):
            return int(data["input_tokens"])

    def parse_response(self, data: Any) -> ModelResponse:
        """Turn a `message` body into a `ModelResponse`."""
        with response_shape("anthropic", "message"):
            text: list[str] = []
            calls: list[ToolCall] = []
            reasoning: list[Reasoning] = []
            server = ServerBlocks()
            cited: list[Citation] = []
            for block in data["content"]:
                kind = block["type"]
                if kind == "text":
                    text.append(block["text"])
                    cited.extend(citations(block))
                elif is_server_block(block):
                    server.add(block)
                elif kind == "tool_use":
                    calls.append(
                        ToolCall(call_id=block["id"], name=block["name"], arguments=block["input"])
                    )
                elif kind == "thinking":
                    reasoning.append(
                        Reasoning(
                            text=block["thinking"], signature=block.get("signature"), provider=_NAME
                        )
                    )
                elif kind == "redacted_thinking":
                    reasoning.append(Reasoning(redacted=block["data"], provider=_NAME))
            finish = finish_reason(data.get("stop_reason"), _FINISH)
            return ModelResponse(
                text="".join(text),
                tool_calls=tuple(calls),
                reasoning=tuple(reasoning),
                hosted_tools=tuple(server.done),
                citations=tuple(cited),
                usage=_usage(data.get("usage")),
                finish_reason=finish or ("tool_calls" if calls else "stop"),
                # Claude's refusals come as a stop reason, with whatever it said first.
                refusal="".join(text) if finish == "refusal" else None,
                model_name=data.get("model"),
                raw=data,
            )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream one Messages call as chunks."""
        start_usage: dict[str, Any] = {}
        output_tokens = 0
        finish: FinishReason | None = None
        model_name: str | None = None
        server = ServerBlocks()
        cited: list[Citation] = []
        payload = self.payload(request, stream=True)
        beta = _beta(request, self._http.headers)
        async with self._http.stream("/v1/messages", payload, headers=beta) as resp:
            async for event in self._http.sse(resp):
                data = loads(event.data, "anthropic")
                with response_shape("anthropic", "stream event"):
                    kind = data.get("type")
                    if kind == "content_block_delta":
                        delta = data["delta"]
                        if delta["type"] == "citations_delta":
                            cited.extend(citations({"citations": [delta["citation"]]}))
                        elif delta["type"] != "input_json_delta" or not server.input_delta(
                            data["index"], delta["partial_json"]
                        ):
                            chunk = _delta(data["index"], delta)
                            if chunk is not None:
                                yield chunk
                    elif kind == "content_block_start":
                        block = data["content_block"]
                        if is_server_block(block):
                            tool = server.start(data["index"], block)
                            if tool is not None:
                                yield HostedToolChunk(tool)
                            continue
                        chunk = _block_start(data["index"], block)
                        if chunk is not None:
                            yield chunk
                    elif kind == "content_block_stop":
                        server.stop(data["index"])
                    elif kind == "message_start":
                        message = data["message"]
                        model_name = message.get("model")
                        start_usage = message.get("usage") or {}
                        output_tokens = start_usage.get("output_tokens", 0)
                    elif kind == "message_delta":
                        finish = finish_reason(data["delta"].get("stop_reason"), _FINISH) or finish
                        output_tokens = (data.get("usage") or {}).get(
                            "output_tokens", output_tokens
                        )
                    elif kind == "message_stop":
                        yield StreamEnd(
                            finish_reason=finish,
                            usage=_usage({**start_usage, "output_tokens": output_tokens}),
                            model_name=model_name,
                            citations=tuple(cited),
                        )
                        return
                    elif kind == "error":
                        error = data.get("error") or {}
                        status = _ERROR_STATUS.get(error.get("type", ""), 500)
                        raise error_for_status("anthropic", status, {}, orjson.dumps(data))


STRUCTURED_OUTPUTS_BETA = "structured-outputs-2025-11-13"


_NOT_COUNTED = ("max_tokens", "temperature", "top_p", "stop_sequences", "stream")
"""Settings of a request that the token-count endpoint does not take."""


def _beta(request: ModelRequest, headers: dict[str, str]) -> dict[str, str] | None:
    """The beta header a request's settings need (structured output), if any.

    Betas the model was made with (`headers=`) are kept: one header lists them all.
    """
    if "output_format" not in request.settings:
        return None
    given = headers.get("anthropic-beta")
    return {
        "anthropic-beta": f"{given},{STRUCTURED_OUTPUTS_BETA}" if given else STRUCTURED_OUTPUTS_BETA
    }


def _closed(schema: Any) -> Any:
    """`schema` with every object closed to extra properties, as output_format requires."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items()}
    if out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def _delta(index: int, delta: Any) -> ModelChunk | None:
    """The chunk a `content_block_delta` event carries, if any."""
    kind = delta["type"]
    if kind == "text_delta":
        return TextChunk(delta["text"])
    if kind == "input_json_delta":
        return ToolCallChunk(index=index, arguments=delta["partial_json"])
    if kind == "thinking_delta":
        return ReasoningChunk(index, delta["thinking"], _NAME)
    if kind == "signature_delta":
        return ReasoningChunk(index, provider=_NAME, signature=delta["signature"])
    return None


def _block_start(index: int, block: Any) -> ModelChunk | None:
    """The chunk a `content_block_start` event carries, if any."""
    kind = block["type"]
    if kind == "tool_use":
        return ToolCallChunk(index=index, call_id=block["id"], name=block["name"])
    if kind == "text" and block.get("text"):
        return TextChunk(block["text"])
    if kind == "thinking":
        signature = block.get("signature") or None
        return ReasoningChunk(index, block.get("thinking", ""), _NAME, signature=signature)
    if kind == "redacted_thinking":
        return ReasoningChunk(index, provider=_NAME, redacted=block["data"])
    return None


def _tool_choice(choice: str) -> dict[str, Any]:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    return {"type": "tool", "name": choice}


def _file(file: File) -> dict[str, Any]:
    """An `image` or `document` block; Anthropic takes images, PDFs and plain text."""
    kind = file.file_kind
    if kind == "image":
        block = "image"
    elif file.media_type == "application/pdf":
        block = "document"
    elif file.media_type == "text/plain" and file.data is not None:
        text = base64.b64decode(file.data).decode()
        source = {"type": "text", "media_type": "text/plain", "data": text}
        return {"type": "document", "source": source}
    else:
        raise cannot_take("anthropic", file, "It takes images, PDFs and plain text.")
    if file.data is None:
        return {"type": block, "source": {"type": "url", "url": file.url}}
    source = {"type": "base64", "media_type": file.media_type, "data": file.data}
    return {"type": block, "source": source}


def _thinking(part: Reasoning) -> dict[str, Any] | None:
    """The block that gives Anthropic its reasoning back, or None to send none.

    Only Anthropic's own, signed reasoning goes back: another provider's reasoning (a
    fallback hop) or thinking without its signature would be rejected.
    """
    if part.provider != _NAME:
        return None
    if part.redacted is not None:
        return {"type": "redacted_thinking", "data": part.redacted}
    if part.signature is None:
        return None
    return {"type": "thinking", "thinking": part.text, "signature": part.signature}


def _result_content(part: ToolResultPart) -> Any:
    """A tool result's content: its text, or its text and files as blocks."""
    if not part.files:
        return part.content
    text = [{"type": "text", "text": part.content}] if part.content else []
    return text + [_file(f) for f in part.files]


def _blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Text):
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, Reasoning):
            block = _thinking(part)
            if block is not None:
                blocks.append(block)
        elif isinstance(part, HostedTool):
            if part.provider == _NAME:  # another provider's tools mean nothing here
                blocks.extend(part.items)
        elif isinstance(part, CachePoint):
            if blocks and blocks[-1]["type"] not in _UNCACHED:
                blocks[-1] = {**blocks[-1], "cache_control": _EPHEMERAL}
        elif isinstance(part, ImageURL | File):
            blocks.append(_file(as_file(part)))
        elif isinstance(part, ToolCallPart):
            blocks.append(
                {"type": "tool_use", "id": part.call_id, "name": part.name, "input": part.arguments}
            )
        elif isinstance(part, ToolResultPart):
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": part.call_id,
                    "content": _result_content(part),
                    "is_error": part.is_error,
                }
            )
    return blocks


_EPHEMERAL = {"type": "ephemeral"}


def _cached_turn(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """The last message's turn with a cache breakpoint on its last block."""
    role, blocks = _turn(message)
    if blocks and "cache_control" not in blocks[-1] and blocks[-1]["type"] not in _UNCACHED:
        blocks[-1] = {**blocks[-1], "cache_control": _EPHEMERAL}
    return role, blocks


_UNCACHED = frozenset({"thinking", "redacted_thinking"})
"""Blocks that cannot carry a cache breakpoint."""


def _turn(message: Message) -> tuple[str, list[dict[str, Any]]]:
    # Tool results travel in a user turn; the wire history merges consecutive
    # same-role turns, which Anthropic requires.
    return ("assistant" if message.role == "assistant" else "user"), _blocks(message)
