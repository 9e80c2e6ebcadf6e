"""OpenAI Chat Completions, and every server that speaks it (Groq, Together, vLLM, ...)."""

from __future__ import annotations

import functools
import mimetypes
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from gai.errors import ProviderError, ResponseFormatError, ToolUseFailedError, UserError
from gai.providers._base_http import BaseHTTPModel
from gai.providers._common import (
    api_key_from_env,
    as_file,
    cannot_take,
    finish_reason,
    passthrough,
    reasoning_effort,
    response_shape,
    strict_schema,
    usage_from,
)
from gai.providers._http import error_for_status, loads
from gai.providers.base import ModelRequest, ModelResponse
from gai.providers.hosted import hosted_tools, unsupported
from gai.providers.limits import HTTPLimits
from gai.providers.presets import OPENAI_COMPATIBLE, OpenAICompatiblePreset
from gai.providers.streaming import function_call, parse_arguments
from gai.providers.wire import encoded_messages
from gai.types import (
    CachePoint,
    File,
    FinishReason,
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
    ToolDefinition,
    ToolResultPart,
    Usage,
    new_call_id,
)

__all__ = ["OPENAI_COMPATIBLE", "OpenAI", "OpenAICompatiblePreset"]


_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

_USAGE = {
    "input_tokens": lambda u: u["prompt_tokens"],
    "output_tokens": lambda u: u["completion_tokens"],
    "total_tokens": lambda u: u["total_tokens"],
    # Many compatible servers leave the details out: .get, not a KeyError per response.
    "cache_read_tokens": lambda u: (u.get("prompt_tokens_details") or {}).get("cached_tokens"),
    "reasoning_tokens": lambda u: (u.get("completion_tokens_details") or {}).get(
        "reasoning_tokens"
    ),
}


def _base_url(preset: OpenAICompatiblePreset) -> str:
    override = os.environ.get(preset.base_url_env) if preset.base_url_env else None
    if not override:
        return preset.base_url
    if preset.base_url_env == "OLLAMA_HOST":
        # OLLAMA_HOST names the server (host:port), not the /v1 endpoint.
        host = override if "://" in override else f"http://{override}"
        return f"{host.rstrip('/')}/v1"
    return override


class OpenAI(BaseHTTPModel):
    """A model behind the OpenAI Chat Completions API or a compatible server.

    Args:
        model: Model name, e.g. "gpt-4o-mini".
        api_key: Key; defaults to the preset's environment variable (`OPENAI_API_KEY`).
        base_url: Server URL ending in /v1; defaults to the preset's.
        provider: A preset from `OPENAI_COMPATIBLE` ("openai", "groq", "vllm", ...), or any
            name for a server given by `base_url`.
        timeout: Seconds a whole non-streamed request may take.
        max_connections: Open connections kept at most.
        limits: Stream deadlines, connect timeout and size caps (`HTTPLimits`).
        secrets: More values to mask in everything the server sends back (the key
            and credential headers are always masked).
        headers: Extra headers sent with every request.

    Raises:
        MissingAPIKeyError: The preset's service needs a key and none is set (a server
            given by `base_url` is sent no key when none is set).
        UserError: `provider` is not a preset and no `base_url` is given.
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str = "openai",
        timeout: float = 600.0,
        max_connections: int = 100,
        limits: HTTPLimits | None = None,
        secrets: Iterable[str] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        preset = OPENAI_COMPATIBLE.get(provider)
        if preset is None and base_url is None:
            raise UserError(
                f"Unknown OpenAI-compatible provider {provider!r}: pass base_url=, or use one "
                f"of {', '.join(sorted(OPENAI_COMPATIBLE))}."
            )
        url = base_url or _base_url(preset)  # type: ignore[arg-type]
        key = api_key
        if not key and preset is not None and preset.api_key_env is not None:
            key = os.environ.get(preset.api_key_env)
            # A server given by base_url (vLLM, llama.cpp, a proxy) may need no key.
            if not key and base_url is None:
                key = api_key_from_env(provider, None, preset.api_key_env)
        auth = {"authorization": f"Bearer {key}"} if key else {}
        super().__init__(
            provider,
            model,
            url,
            {**auth, **(headers or {})},
            timeout=timeout,
            max_connections=max_connections,
            limits=limits,
            secrets=secrets,
        )
        # One encoder per model object: what it sends back (reasoning) depends on the
        # provider, and a run's history is kept per encoder.
        self._encode = functools.partial(_messages, provider)
        if not url.rstrip("/").endswith("/v1") and "/v1" not in url:
            self._http.not_found_hint = (
                f"OpenAI-compatible servers usually serve under /v1: is base_url "
                f"{url.rstrip('/')}/v1 meant?"
            )

    def native_output(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Settings asking for JSON matching `schema` (`response_format` json_schema)."""
        strict = strict_schema(schema)
        spec = {"name": name, "schema": strict or schema, "strict": strict is not None}
        return {"response_format": {"type": "json_schema", "json_schema": spec}}

    def payload(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body for a request, for `orjson.dumps`.

        `messages` is already encoded (an `orjson.Fragment`): the engine's runs reuse
        each message's encoding from one step to the next.
        """
        body: dict[str, Any] = {
            "model": self.model,
            "messages": encoded_messages(request, self._encode),
        }
        if request.tools:
            body["tools"] = [_tool(t) for t in request.tools]
            body["tool_choice"] = _tool_choice(request.tool_choice)
        settings = request.settings
        for spec in hosted_tools(self.provider, settings):
            raise unsupported(self.provider, spec)  # Chat Completions runs no tools itself
        for key in ("temperature", "top_p", "stop", "seed"):
            if key in settings:
                body[key] = settings[key]
        if "max_tokens" in settings:
            # OpenAI's reasoning models accept only max_completion_tokens; others accept both.
            name = "max_completion_tokens" if self.provider == "openai" else "max_tokens"
            body[name] = settings["max_tokens"]
        effort = reasoning_effort(self.provider, settings)
        if effort is not None:
            body["reasoning_effort"] = effort
        body.update(passthrough(settings))
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one Chat Completions call."""
        try:
            data = await self._http.post_json(
                "/chat/completions", self.payload(request, stream=False)
            )
        except ToolUseFailedError as exc:
            return _failed_tool_calls(exc)
        return self.parse_response(data)

    def parse_response(self, data: Any) -> ModelResponse:
        """Turn a `chat.completion` body into a `ModelResponse`."""
        with response_shape(self.provider, "chat.completion"):
            if isinstance(data, dict) and "error" in data and not data.get("choices"):
                raise _body_error(self.provider, data)
            choices = data.get("choices")
            if not choices:
                raise ResponseFormatError(
                    "the response has no choices", provider=self.provider, retryable=True
                )
            choice = choices[0]
            message = choice["message"]
            calls = tuple(function_call(tc) for tc in message.get("tool_calls") or ())
            # Fields validated only when present: most answers have neither.
            extra: dict[str, Any] = {}
            if thought := message.get("reasoning_content"):
                extra["reasoning"] = (Reasoning(text=thought, provider=self.provider),)
            refusal = message.get("refusal")
            if refusal:
                extra["refusal"] = refusal
            finish = "refusal" if refusal else finish_reason(choice.get("finish_reason"), _FINISH)
            return ModelResponse(
                text=_content_text(message.get("content")),
                tool_calls=calls,
                usage=usage_from(data.get("usage"), _USAGE),
                finish_reason=finish or ("tool_calls" if calls else "stop"),
                **extra,
                model_name=data.get("model"),
                raw=data,
            )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream one Chat Completions call as chunks."""
        finish: FinishReason | None = None
        usage = Usage()
        model_name: str | None = None
        refusal: list[str] = []
        done = False
        try:
            async with self._http.stream(
                "/chat/completions", self.payload(request, stream=True)
            ) as response:
                async for event in self._http.sse(response):
                    if event.data == "[DONE]":
                        done = True
                        break
                    chunk = loads(event.data, self.provider)
                    with response_shape(self.provider, "chat.completion.chunk"):
                        if "error" in chunk:
                            error = _body_error(self.provider, chunk)
                            if chunk.get("usage"):  # OpenRouter: what the failed call consumed
                                error.usage = usage + usage_from(chunk["usage"], _USAGE)
                            raise error
                        model_name = chunk.get("model") or model_name
                        if chunk.get("usage"):
                            usage = usage_from(chunk["usage"], _USAGE)
                        for choice in chunk.get("choices") or ():
                            delta = choice.get("delta") or {}
                            if refused := delta.get("refusal"):
                                refusal.append(refused)
                            if thought := delta.get("reasoning_content"):
                                yield ReasoningChunk(0, thought, self.provider)
                            if text := _content_text(delta.get("content")):
                                yield TextChunk(text)
                            for position, tc in enumerate(delta.get("tool_calls") or ()):
                                fn = tc.get("function") or {}
                                arguments = fn.get("arguments") or ""
                                if not isinstance(arguments, str):
                                    # An object, or a value the model must correct (as text).
                                    arguments = orjson.dumps(arguments).decode()
                                index = tc.get("index")
                                yield ToolCallChunk(
                                    index=position if index is None else index,
                                    call_id=tc.get("id"),
                                    name=fn.get("name"),
                                    arguments=arguments,
                                )
                            finish = finish_reason(choice.get("finish_reason"), _FINISH) or finish
        except ToolUseFailedError as exc:
            for index, call in enumerate(_failed_tool_calls(exc).tool_calls):
                arguments = call.invalid_arguments or orjson.dumps(call.arguments).decode()
                yield ToolCallChunk(
                    index=index, call_id=call.call_id, name=call.name, arguments=arguments
                )
            yield StreamEnd(finish_reason="tool_calls", usage=usage)
            return
        if done or finish is not None:
            refused = "".join(refusal) or None
            yield StreamEnd(
                finish_reason="refusal" if refused else finish,
                usage=usage,
                model_name=model_name,
                refusal=refused,
            )


def _failed_tool_calls(exc: ToolUseFailedError) -> ModelResponse:
    """The tool calls a provider refused to pass on, so the model can be told what to fix.

    Groq validates the model's tool calls itself and answers 400 `tool_use_failed` with
    the `failed_generation`; sent back as a tool error, the model corrects it.

    Raises:
        ToolUseFailedError: The failed generation names no tool.
    """
    try:
        value = orjson.loads(exc.failed_generation or "")
    except orjson.JSONDecodeError:
        raise exc from None
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise exc
        raw = item.get("arguments", item.get("parameters"))
        if isinstance(raw, dict):
            arguments, invalid = raw, None
        else:
            text = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
            arguments, invalid = parse_arguments(text)
            invalid = invalid if invalid is not None or isinstance(raw, str) else text
        calls.append(
            ToolCall(
                call_id=new_call_id(), name=name, arguments=arguments, invalid_arguments=invalid
            )
        )
    return ModelResponse(tool_calls=tuple(calls), finish_reason="tool_calls", raw=None)


def _body_error(provider: str, body: dict[str, Any]) -> ProviderError:
    err = body.get("error")
    code = err.get("code") if isinstance(err, dict) else None
    status = code if isinstance(code, int) else 500
    return error_for_status(provider, status, {}, orjson.dumps(body))


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    # Some compatible servers return content as a list of typed parts.
    return "".join(
        p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
    )


def _tool(t: ToolDefinition) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": t.name, "description": t.description, "parameters": t.parameters}
    if t.strict is not None:
        fn["strict"] = t.strict
    return {"type": "function", "function": fn}


def _tool_choice(choice: str) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


_AUDIO_FORMATS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav"}


def _content_file(provider: str, file: File) -> dict[str, Any]:
    """A content part for a file: an image, a document (inline) or audio (inline mp3/wav)."""
    kind = file.file_kind
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": file.data_url}}
    if kind == "audio" and file.data is not None and file.media_type in _AUDIO_FORMATS:
        audio = {"data": file.data, "format": _AUDIO_FORMATS[file.media_type]}
        return {"type": "input_audio", "input_audio": audio}
    if kind == "document" and file.data is not None:
        name = file.filename or "document" + (mimetypes.guess_extension(file.media_type) or "")
        return {"type": "file", "file": {"file_data": file.data_url, "filename": name}}
    raise cannot_take(
        provider,
        file,
        "Chat Completions takes images (inline or by URL), documents inline and mp3 or "
        "wav audio inline: read the file with gai.types.File.from_path.",
    )


def _messages(provider: str, message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        results = [p for p in message.parts if isinstance(p, ToolResultPart)]
        entries: list[dict[str, Any]] = [
            {
                "role": "tool",
                "tool_call_id": p.call_id,
                "content": p.content or ("(in the next message)" if p.files else ""),
            }
            for p in results
        ]
        # A tool message holds only text: the files tools returned follow in a user
        # message, after every result of the step (no message may split the results).
        files: list[dict[str, Any]] = []
        for p in results:
            if p.files:
                files.append({"type": "text", "text": f"Returned by {p.name} ({p.call_id}):"})
                files.extend(_content_file(provider, f) for f in p.files)
        if files:
            entries.append({"role": "user", "content": files})
        return entries
    if message.role == "assistant":
        out: dict[str, Any] = {"role": "assistant", "content": message.text or None}
        # Reasoning models served this way (DeepSeek) need their reasoning back on the
        # turns that called tools; other providers are sent none.
        thoughts = [
            p.text for p in message.parts if isinstance(p, Reasoning) and p.provider == provider
        ]
        if thoughts:
            out["reasoning_content"] = "".join(thoughts)
        calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
        if calls:
            out["tool_calls"] = [
                {
                    "id": c.call_id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": orjson.dumps(c.arguments).decode()},
                }
                for c in calls
            ]
        return [out]
    parts = message.parts
    content: Any
    if all(isinstance(p, Text | CachePoint) for p in parts):  # breakpoints: Anthropic's
        content = message.text
    else:
        content = []
        for part in parts:
            if isinstance(part, Text):
                content.append({"type": "text", "text": part.text})
            elif isinstance(part, ImageURL | File):
                content.append(_content_file(provider, as_file(part)))
    entry: dict[str, Any] = {"role": message.role, "content": content}
    if message.name:
        entry["name"] = message.name
    return [entry]
