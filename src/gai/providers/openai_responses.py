"""OpenAI's Responses API (`function_call` / `function_call_output` items, `response.*` events)."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from gai.errors import ResponseFormatError
from gai.providers._base_http import BaseHTTPModel
from gai.providers._common import (
    api_key_from_env,
    as_file,
    cannot_take,
    passthrough,
    reasoning_effort,
    response_shape,
    split_system,
    strict_schema,
    usage_from,
)
from gai.providers._http import error_for_status, loads
from gai.providers.base import ModelRequest, ModelResponse
from gai.providers.hosted import (
    CodeExecution,
    HostedToolSpec,
    WebSearch,
    hosted_tools,
)
from gai.providers.limits import HTTPLimits
from gai.providers.streaming import parse_arguments
from gai.providers.wire import encoded_messages
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
)

__all__ = ["OpenAIResponses"]

_NAME = "openai-responses"
"""The provider named in the reasoning this protocol makes, and sent back only to it."""

_ITEM_ID = "openai_item_id"
"""Key of a tool call's `provider_data` holding its `function_call` item's id: a
reasoning item sent back must be followed by the items it led to, ids and all."""

_USAGE = {
    "input_tokens": lambda u: u["input_tokens"],
    "output_tokens": lambda u: u["output_tokens"],
    "total_tokens": lambda u: u["total_tokens"],
    "cache_read_tokens": lambda u: u["input_tokens_details"]["cached_tokens"],
    "reasoning_tokens": lambda u: u["output_tokens_details"]["reasoning_tokens"],
}


def _finish(response: dict[str, Any], has_calls: bool) -> FinishReason:
    status = response.get("status")
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return "content_filter" if reason == "content_filter" else "length"
    if status not in (None, "completed"):
        return "other"
    return "tool_calls" if has_calls else "stop"


class OpenAIResponses(BaseHTTPModel):
    """An OpenAI model through the Responses API (recommended by OpenAI for new models).

    Args:
        model: Model name, e.g. "gpt-5-mini".
        api_key: Key; defaults to `OPENAI_API_KEY`.
        base_url: API root ending in /v1; defaults to `OPENAI_BASE_URL` or OpenAI's.
        timeout: Seconds a whole non-streamed request may take.
        max_connections: Open connections kept at most.
        limits: Stream deadlines, connect timeout and size caps (`HTTPLimits`).
        secrets: More values to mask in everything the server sends back (the key
            and credential headers are always masked).
        headers: Extra headers.

    Raises:
        MissingAPIKeyError: No key is given or set.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 600.0,
        max_connections: int = 100,
        limits: HTTPLimits | None = None,
        secrets: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        key = api_key_from_env("openai", api_key, "OPENAI_API_KEY")
        super().__init__(
            "openai",
            model,
            base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
            {"authorization": f"Bearer {key}", **(headers or {})},
            timeout=timeout,
            max_connections=max_connections,
            limits=limits,
            secrets=secrets,
        )

    @property
    def name(self) -> str:
        """The model string, e.g. "openai-responses:gpt-5-mini"."""
        return f"openai-responses:{self.model}"

    def native_output(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Settings asking for JSON matching `schema` (`text.format` json_schema)."""
        strict = strict_schema(schema)
        spec = {
            "type": "json_schema",
            "name": name,
            "schema": strict or schema,
            "strict": strict is not None,
        }
        return {"text": {"format": spec}}

    def payload(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body for a request, for `orjson.dumps` (`input` is pre-encoded)."""
        system, messages = split_system(request.messages)
        body: dict[str, Any] = {
            "model": self.model,
            "input": encoded_messages(request, _items, messages),
            "stream": stream,
        }
        if system:
            body["instructions"] = system
        tools: list[dict[str, Any]] = []
        for t in request.tools:
            entry: dict[str, Any] = {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": t.parameters,
            }
            if t.strict is not None:
                entry["strict"] = t.strict
            tools.append(entry)
        tools.extend(hosted_entries(list(hosted_tools(_NAME, request.settings))))
        if tools:
            body["tools"] = tools
            choice = request.tool_choice
            body["tool_choice"] = (
                choice
                if choice in ("auto", "none", "required")
                else {"type": "function", "name": choice}
            )
        settings = request.settings
        for key in ("temperature", "top_p"):
            if key in settings:
                body[key] = settings[key]
        if "max_tokens" in settings:
            body["max_output_tokens"] = settings["max_tokens"]
        # The Responses API has no stop or seed parameters; those settings are not sent.
        body.update(passthrough(settings))
        effort = reasoning_effort(_NAME, settings)
        if effort is not None and "reasoning" not in settings:
            body["reasoning"] = {"effort": effort, "summary": "auto"}
            # Encrypted, the reasoning goes back with the next step however it is stored.
            include = list(settings.get("include", ()))
            if "reasoning.encrypted_content" not in include:
                include.append("reasoning.encrypted_content")
            body["include"] = include
        return body

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one Responses call."""
        data = await self._http.post_json("/responses", self.payload(request, stream=False))
        return self.parse_response(data)

    def parse_response(self, data: Any) -> ModelResponse:
        """Turn a `response` object into a `ModelResponse`."""
        with response_shape("openai", "response"):
            if data.get("status") == "failed" or data.get("error"):
                raise error_for_status(
                    "openai", 500, {}, orjson.dumps({"error": data.get("error")})
                )
            text: list[str] = []
            calls: list[ToolCall] = []
            reasoning: list[Reasoning] = []
            refusal: list[str] = []
            hosted: list[HostedTool] = []
            cited: list[Citation] = []
            for position, item in enumerate(data["output"]):
                if item["type"] == "message":
                    for content in item.get("content") or ():
                        if content["type"] == "output_text":
                            text.append(content["text"])
                            cited.extend(_citations(content))
                        elif content["type"] == "refusal":
                            refusal.append(content["refusal"])
                elif item["type"] == "function_call":
                    arguments, invalid = parse_arguments(item.get("arguments") or "")
                    calls.append(
                        ToolCall(
                            call_id=item["call_id"],
                            name=item["name"],
                            arguments=arguments,
                            invalid_arguments=invalid,
                            provider_data=_item_id(item),
                        )
                    )
                elif item["type"] == "reasoning":
                    reasoning.append(_reasoning(item, position))
                elif item["type"] in _HOSTED:
                    hosted.append(_hosted(item, position))
            return ModelResponse(
                text="".join(text),
                tool_calls=tuple(calls),
                reasoning=tuple(reasoning),
                hosted_tools=tuple(hosted),
                citations=tuple(cited),
                usage=usage_from(data.get("usage"), _USAGE),
                finish_reason="refusal" if refusal else _finish(data, bool(calls)),
                refusal="".join(refusal) or None,
                model_name=data.get("model"),
                raw=data,
            )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream one Responses call as chunks."""
        calls = False
        refusal: list[str] = []
        cited: list[Citation] = []
        async with self._http.stream("/responses", self.payload(request, stream=True)) as resp:
            async for event in self._http.sse(resp):
                data = loads(event.data, "openai")
                with response_shape("openai", "response event"):
                    kind = data.get("type", event.event)
                    if kind == "response.output_text.delta":
                        yield TextChunk(data["delta"])
                    elif kind == "response.refusal.delta":
                        refusal.append(data["delta"])
                    elif kind == "response.function_call_arguments.delta":
                        yield ToolCallChunk(index=data["output_index"], arguments=data["delta"])
                    elif kind == "response.reasoning_summary_text.delta":
                        yield ReasoningChunk(data["output_index"], data["delta"], _NAME)
                    elif kind == "response.reasoning_summary_part.added":
                        if data.get("summary_index", 0) > 0:  # summaries apart, as parsed
                            yield ReasoningChunk(data["output_index"], "\n\n", _NAME)
                    elif kind == "response.output_item.added":
                        item = data["item"]
                        if item["type"] == "function_call":
                            calls = True
                            yield ToolCallChunk(
                                index=data["output_index"],
                                call_id=item["call_id"],
                                name=item["name"],
                                arguments=item.get("arguments") or "",
                                provider_data=_item_id(item),
                            )
                    elif kind == "response.output_item.done":
                        item = data["item"]
                        if item["type"] in _HOSTED:
                            yield HostedToolChunk(_hosted(item, data["output_index"]))
                        elif item["type"] == "message":
                            for content in item.get("content") or ():
                                if content.get("type") == "output_text":
                                    cited.extend(_citations(content))
                        if item["type"] == "reasoning":
                            done = _reasoning(item, data["output_index"])
                            yield ReasoningChunk(
                                data["output_index"],
                                provider=_NAME,
                                encrypted=done.encrypted,
                                id=done.id,
                                provider_data=done.provider_data,
                            )
                    elif kind in ("response.completed", "response.incomplete"):
                        response = data["response"]
                        refused = "".join(refusal) or None
                        yield StreamEnd(
                            finish_reason="refusal" if refused else _finish(response, calls),
                            refusal=refused,
                            citations=tuple(cited),
                            usage=usage_from(response.get("usage"), _USAGE),
                            model_name=response.get("model"),
                        )
                        return
                    elif kind in ("response.failed", "error"):
                        error = (
                            (data.get("response") or {}).get("error") or data.get("error") or data
                        )
                        raise error_for_status("openai", 500, {}, orjson.dumps({"error": error}))
        raise ResponseFormatError(
            "the response stream ended before response.completed (truncated stream)",
            provider="openai",
            retryable=True,
        )


def _item_id(item: dict[str, Any]) -> dict[str, Any] | None:
    return {_ITEM_ID: item["id"]} if item.get("id") else None


def _reasoning(item: dict[str, Any], position: int) -> Reasoning:
    """A `reasoning` output item; its summaries, joined, are the readable text."""
    summaries = [s["text"] for s in item.get("summary") or () if s.get("type") == "summary_text"]
    return Reasoning(
        text="\n\n".join(summaries),
        provider=_NAME,
        encrypted=item.get("encrypted_content"),
        id=item.get("id"),
        provider_data={"summary": summaries, _POSITION: position},
    )


_HOSTED = frozenset({"web_search_call", "file_search_call", "code_interpreter_call"})
"""Output items of tools the Responses API runs itself."""

_POSITION = "position"
"""`provider_data` key: where the item was among the answer's output items. A reasoning
item must be sent back right before the item it led to, so order is kept."""


def _hosted(item: dict[str, Any], position: int) -> HostedTool:
    """A built-in tool's output item (its call and result in one)."""
    kind = item["type"]
    if kind == "web_search_call":
        asked, found = item.get("action"), None
    elif kind == "file_search_call":
        asked, found = {"queries": item.get("queries")}, item.get("results")
    else:
        asked, found = {"code": item.get("code")}, item.get("outputs")
    return HostedTool(
        name=kind.removesuffix("_call"),
        provider=_NAME,
        call_id=item.get("id"),
        input=asked,
        output=found,
        items=(item,),
        provider_data={_POSITION: position},
    )


def _citations(content: dict[str, Any]) -> list[Citation]:
    return [
        Citation(url=a["url"], title=a.get("title"))
        for a in content.get("annotations") or ()
        if a.get("type") == "url_citation" and a.get("url")
    ]


def _position(part: Reasoning | HostedTool) -> int:
    return int((part.provider_data or {}).get(_POSITION, 0))


def hosted_entries(specs: list[HostedToolSpec]) -> list[dict[str, Any]]:
    """The Responses API's built-in tool entries for the hosted tools asked for."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        if isinstance(spec, WebSearch):
            entry: dict[str, Any] = {"type": "web_search"}
            if spec.allowed_domains:
                entry["filters"] = {"allowed_domains": list(spec.allowed_domains)}
            out.append(entry)
        elif isinstance(spec, CodeExecution):
            out.append({"type": "code_interpreter", "container": {"type": "auto"}})
        else:
            out.append({"type": "file_search", "vector_store_ids": list(spec.vector_store_ids)})
    return out


def _reasoning_item(part: Reasoning) -> dict[str, Any] | None:
    """The input item giving the Responses API its reasoning back (None: send none)."""
    if part.provider != _NAME or part.id is None:
        return None
    summaries = (part.provider_data or {}).get("summary", [part.text] if part.text else [])
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": part.id,
        "summary": [{"type": "summary_text", "text": t} for t in summaries],
    }
    if part.encrypted is not None:
        item["encrypted_content"] = part.encrypted
    return item


def _function_call(part: ToolCallPart) -> dict[str, Any]:
    item = {
        "type": "function_call",
        "call_id": part.call_id,
        "name": part.name,
        "arguments": orjson.dumps(part.arguments).decode(),
    }
    item_id = (part.provider_data or {}).get(_ITEM_ID)
    if item_id is not None:
        item["id"] = item_id
    return item


def _input_file(file: File) -> dict[str, Any]:
    """An `input_image` or `input_file` content part (the Responses API takes no audio)."""
    kind = file.file_kind
    if kind == "image":
        return {"type": "input_image", "image_url": file.data_url}
    if kind == "document":
        if file.data is None:
            return {"type": "input_file", "file_url": file.url}
        name = file.filename or "document" + (mimetypes.guess_extension(file.media_type) or "")
        return {"type": "input_file", "file_data": file.data_url, "filename": name}
    raise cannot_take(
        "openai-responses", file, "The Responses API takes images and documents (PDF, text)."
    )


def _output(part: ToolResultPart) -> Any:
    """A tool result's output: its text, or its text and files as content items."""
    if not part.files:
        return part.content
    text = [{"type": "input_text", "text": part.content}] if part.content else []
    return text + [_input_file(f) for f in part.files]


def _items(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {"type": "function_call_output", "call_id": p.call_id, "output": _output(p)}
            for p in message.parts
            if isinstance(p, ToolResultPart)
        ]
    items: list[dict[str, Any]] = []
    if message.role == "assistant":
        # Reasoning and built-in tool items go back in the order they came.
        kept: list[tuple[int, dict[str, Any]]] = []
        for part in message.parts:
            if isinstance(part, Reasoning) and (item := _reasoning_item(part)) is not None:
                kept.append((_position(part), item))
            elif isinstance(part, HostedTool) and part.provider == _NAME:
                kept.extend((_position(part), i) for i in part.items)
        kept.sort(key=lambda pair: pair[0])
        items.extend(item for _, item in kept)
        if message.text:
            items.append({"role": "assistant", "content": message.text})
        items.extend(_function_call(p) for p in message.parts if isinstance(p, ToolCallPart))
        return items
    if all(isinstance(p, Text | CachePoint) for p in message.parts):
        return [{"role": message.role, "content": message.text}]
    content: list[dict[str, Any]] = []
    for p in message.parts:
        if isinstance(p, Text):
            content.append({"type": "input_text", "text": p.text})
        elif isinstance(p, ImageURL | File):
            content.append(_input_file(as_file(p)))
    return [{"role": message.role, "content": content}]
