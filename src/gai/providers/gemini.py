"""Google Gemini: generateContent / streamGenerateContent (functionCall / functionResponse)."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from gai.providers._base_http import BaseHTTPModel
from gai.providers._common import (
    REASONING_BUDGETS,
    api_key_from_env,
    as_file,
    finish_reason,
    nested_settings,
    reasoning_effort,
    response_shape,
    split_system,
    usage_from,
)
from gai.providers._gemini_hosted import CodeParts, grounding, hosted_entries, is_code_part
from gai.providers._http import error_for_status, loads
from gai.providers.base import ModelRequest, ModelResponse
from gai.providers.hosted import hosted_tools
from gai.providers.limits import HTTPLimits
from gai.providers.wire import encoded_turns
from gai.types import (
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
    new_call_id,
)

__all__ = ["Gemini"]

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}

_USAGE = {
    "input_tokens": lambda u: u["promptTokenCount"],
    "output_tokens": lambda u: u.get("candidatesTokenCount", 0) + u.get("thoughtsTokenCount", 0),
    "total_tokens": lambda u: u["totalTokenCount"],
    "cache_read_tokens": lambda u: u["cachedContentTokenCount"],
    "reasoning_tokens": lambda u: u["thoughtsTokenCount"],
}

_PATH_RE = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


class Gemini(BaseHTTPModel):
    """A Gemini model through the Gemini API (generativelanguage.googleapis.com).

    Args:
        model: Model name, e.g. "gemini-2.5-flash".
        api_key: Key; defaults to `GEMINI_API_KEY` or `GOOGLE_API_KEY`.
        base_url: API root; defaults to `GEMINI_BASE_URL` or the public endpoint.
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
        key = api_key_from_env("gemini", api_key, "GEMINI_API_KEY", "GOOGLE_API_KEY")
        super().__init__(
            "gemini",
            model.removeprefix("models/"),
            base_url
            or os.environ.get("GEMINI_BASE_URL")
            or "https://generativelanguage.googleapis.com",
            {"x-goog-api-key": key, **(headers or {})},
            timeout=timeout,
            max_connections=max_connections,
            limits=limits,
            secrets=secrets,
        )

    def native_output(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Settings asking for JSON matching `schema` (JSON mime type and schema)."""
        config = {"responseMimeType": "application/json", "responseJsonSchema": schema}
        return {"generationConfig": config}

    def payload(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body for a request (the same for streamed and plain calls).

        For `orjson.dumps`: `contents` is pre-encoded.
        """
        system, messages = split_system(request.messages)
        body: dict[str, Any] = {"contents": encoded_turns(request, _turn, messages, "parts")}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        tools = hosted_entries(hosted_tools(_NAME, request.settings))
        if request.tools:
            declarations = [
                {"name": t.name, "description": t.description, "parametersJsonSchema": t.parameters}
                for t in request.tools
            ]
            tools.insert(0, {"functionDeclarations": declarations})
            body["toolConfig"] = {"functionCallingConfig": _tool_choice(request.tool_choice)}
        if tools:
            body["tools"] = tools
        names = {"temperature": "temperature", "top_p": "topP", "max_tokens": "maxOutputTokens"}
        config, extra = nested_settings(
            request.settings, {**names, "seed": "seed"}, "stopSequences", "generationConfig"
        )
        effort = reasoning_effort(_NAME, request.settings)
        if effort is not None and "thinkingConfig" not in config:
            budget = REASONING_BUDGETS[effort]
            config = {
                **config,
                "thinkingConfig": {"thinkingBudget": budget, "includeThoughts": True},
            }
        if config:
            body["generationConfig"] = config
        body.update(extra)
        return body

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Make one generateContent call."""
        data = await self._http.post_json(
            f"/v1beta/models/{self.model}:generateContent", self.payload(request)
        )
        return self.parse_response(data)

    async def count_tokens(self, request: ModelRequest) -> int:
        """The input tokens `request` would take, by Gemini's own count (`countTokens`).

        The whole request is counted (system instruction and function declarations
        too), as context policies need near their budget.
        """
        body = {
            "generateContentRequest": {"model": f"models/{self.model}", **self.payload(request)}
        }
        data = await self._http.post_json(f"/v1beta/models/{self.model}:countTokens", body)
        with response_shape("gemini", "CountTokensResponse"):
            return int(data["totalTokens"])

    def parse_response(self, data: Any) -> ModelResponse:
        """Turn a `GenerateContentResponse` into a `ModelResponse`."""
        with response_shape("gemini", "GenerateContentResponse"):
            candidates = data.get("candidates") or []
            if not candidates:
                blocked = (data.get("promptFeedback") or {}).get("blockReason")
                return ModelResponse(
                    finish_reason="content_filter" if blocked else "other",
                    usage=usage_from(data.get("usageMetadata"), _USAGE),
                    model_name=data.get("modelVersion"),
                    raw=data,
                )
            candidate = candidates[0]
            text: list[str] = []
            calls: list[ToolCall] = []
            reasoning: list[Reasoning] = []
            code = CodeParts()
            for part in (candidate.get("content") or {}).get("parts") or ():
                if "functionCall" in part:
                    calls.append(_call(part, part["functionCall"]))
                elif is_code_part(part):
                    code.add(part)
                elif part.get("thought"):
                    reasoning.append(
                        Reasoning(
                            text=part.get("text", ""),
                            signature=part.get("thoughtSignature"),
                            provider=_NAME,
                        )
                    )
                elif "text" in part:
                    # The answer's text carries at most one signature (in a stream, it
                    # may come on an empty last part): it goes back on the text.
                    if "thoughtSignature" in part and not any(_on_text(r) for r in reasoning):
                        reasoning.append(_text_signature(part["thoughtSignature"]))
                    text.append(part["text"])
            finish = finish_reason(candidate.get("finishReason"), _FINISH)
            if calls and finish == "stop":
                finish = "tool_calls"
            search, cited = grounding(candidate)
            hosted = [*code.done, *([search] if search is not None else [])]
            return ModelResponse(
                text="".join(text),
                tool_calls=tuple(calls),
                reasoning=tuple(reasoning),
                hosted_tools=tuple(hosted),
                citations=tuple(cited),
                usage=usage_from(data.get("usageMetadata"), _USAGE),
                finish_reason=finish or ("tool_calls" if calls else "stop"),
                model_name=data.get("modelVersion"),
                raw=data,
            )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelChunk]:
        """Stream one streamGenerateContent call as chunks."""
        state = _StreamState()
        async with self._http.stream(
            f"/v1beta/models/{self.model}:streamGenerateContent?alt=sse", self.payload(request)
        ) as response:
            async for event in self._http.sse(response):
                data = loads(event.data, "gemini")
                with response_shape("gemini", "stream chunk"):
                    if "error" in data:
                        error = data["error"]
                        status = error.get("code") if isinstance(error, dict) else None
                        raise error_for_status(
                            "gemini",
                            status if isinstance(status, int) else 500,
                            {},
                            event.data.encode(),
                        )
                    for chunk in state.feed(data):
                        yield chunk
        if state.finish is not None:
            yield StreamEnd(
                finish_reason="tool_calls"
                if state.calls and state.finish == "stop"
                else state.finish,
                usage=state.usage,
                model_name=state.model_name,
                citations=tuple(state.citations),
            )


@dataclass(slots=True)
class _PartialCall:
    """A function call whose arguments Vertex streams piece by piece (`partialArgs`)."""

    index: int
    call_id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    provider_data: dict[str, Any] | None = None


@dataclass(slots=True)
class _StreamState:
    calls: int = 0
    finish: FinishReason | None = None
    usage: Usage = field(default_factory=Usage)
    model_name: str | None = None
    partial: _PartialCall | None = None
    text_signed: bool = False
    code: CodeParts = field(default_factory=CodeParts)
    citations: list[Citation] = field(default_factory=list)

    def feed(self, data: dict[str, Any]) -> list[ModelChunk]:
        out: list[ModelChunk] = []
        if data.get("usageMetadata"):
            usage = usage_from(data["usageMetadata"], _USAGE)
            if usage.total_tokens:
                self.usage = usage
        self.model_name = data.get("modelVersion") or self.model_name
        for candidate in data.get("candidates") or ():
            for part in (candidate.get("content") or {}).get("parts") or ():
                if "functionCall" in part:
                    out.extend(self._function_call(part))
                elif is_code_part(part):
                    tool = self.code.add(part)
                    if tool is not None:
                        out.append(HostedToolChunk(tool))
                elif part.get("thought"):
                    # Thoughts are one reasoning part; a signature on the text, another.
                    signature = part.get("thoughtSignature")
                    out.append(ReasoningChunk(0, part.get("text", ""), _NAME, signature=signature))
                elif "text" in part:
                    if "thoughtSignature" in part and not self.text_signed:
                        self.text_signed = True
                        signed = _text_signature(part["thoughtSignature"])
                        out.append(
                            ReasoningChunk(
                                1,
                                provider=_NAME,
                                signature=signed.signature,
                                provider_data=signed.provider_data,
                            )
                        )
                    if part["text"]:
                        out.append(TextChunk(part["text"]))
            self.finish = finish_reason(candidate.get("finishReason"), _FINISH) or self.finish
            search, cited = grounding(candidate)
            if search is not None:
                out.append(HostedToolChunk(search))
                self.citations.extend(cited)
        return out

    def _function_call(self, part: dict[str, Any]) -> list[ModelChunk]:
        fc = part["functionCall"]
        partial = self.partial
        if partial is not None:
            for piece in fc.get("partialArgs") or ():
                _set_path(partial.args, piece)
            if fc.get("willContinue") or fc.get("partialArgs"):
                return []
            # An empty functionCall closes the streamed call.
            self.partial = None
            return [
                _chunk(
                    partial.index,
                    partial.call_id,
                    partial.name,
                    partial.args,
                    partial.provider_data,
                )
            ]
        if not fc.get("name"):
            return []
        index, self.calls = self.calls, self.calls + 1
        call = _call(part, fc)
        if fc.get("willContinue"):
            self.partial = _PartialCall(
                index, call.call_id, call.name, dict(call.arguments), call.provider_data
            )
            return []
        return [_chunk(index, call.call_id, call.name, call.arguments, call.provider_data)]


def _chunk(
    index: int, call_id: str, name: str, args: dict[str, Any], provider_data: dict[str, Any] | None
) -> ToolCallChunk:
    return ToolCallChunk(
        index=index,
        call_id=call_id,
        name=name,
        arguments=orjson.dumps(args).decode(),
        provider_data=provider_data,
    )


def _set_path(target: dict[str, Any], piece: dict[str, Any]) -> None:
    """Apply one `partialArgs` entry (`jsonPath` like "$.a.b[0]") to the arguments."""
    steps: list[str | int] = [
        m.group(1) if m.group(1) is not None else int(m.group(2))
        for m in _PATH_RE.finditer(piece.get("jsonPath", "").removeprefix("$"))
    ]
    if not steps:
        return
    node: Any = target
    for step, nxt in itertools.pairwise(steps):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(node, list) and isinstance(step, int):
            while len(node) <= step:
                node.append(None)
            if node[step] is None:
                node[step] = empty
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    last = steps[-1]
    if "stringValue" in piece:
        value: Any = piece["stringValue"]
        current = node[last] if isinstance(node, dict) and last in node else None
        if isinstance(current, str):
            value = current + value
    elif "numberValue" in piece:
        value = piece["numberValue"]
    elif "boolValue" in piece:
        value = piece["boolValue"]
    else:
        value = None
    if isinstance(node, list) and isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


_NAME = "gemini"
"""The provider named in the reasoning this protocol makes, and sent back only to it."""

_ON_TEXT = "on_text"
"""`provider_data` key of a thought signature Gemini put on the answer's text part."""


def _text_signature(signature: str) -> Reasoning:
    """A thought signature that came on the answer's first text part, and goes back there."""
    return Reasoning(signature=signature, provider=_NAME, provider_data={_ON_TEXT: True})


def _on_text(part: Reasoning) -> bool:
    return bool((part.provider_data or {}).get(_ON_TEXT))


def _call(part: dict[str, Any], fc: dict[str, Any]) -> ToolCall:
    signature = part.get("thoughtSignature")
    return ToolCall(
        call_id=fc.get("id") or new_call_id(),
        name=fc["name"],
        arguments=fc.get("args") or {},
        provider_data={"thought_signature": signature} if signature else None,
    )


def _tool_choice(choice: str) -> dict[str, Any]:
    if choice == "auto":
        return {"mode": "AUTO"}
    if choice == "required":
        return {"mode": "ANY"}
    if choice == "none":
        return {"mode": "NONE"}
    return {"mode": "ANY", "allowedFunctionNames": [choice]}


def _response_value(content: str, is_error: bool) -> dict[str, Any]:
    # functionResponse.response must be a JSON object.
    if is_error:
        return {"error": content}
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return {"result": content}
    return value if isinstance(value, dict) else {"result": value}


def _file_part(file: File) -> dict[str, Any]:
    if file.data is not None:
        return {"inlineData": {"mimeType": file.media_type, "data": file.data}}
    media_type = "image/jpeg" if file.media_type == "image/*" else file.media_type
    return {"fileData": {"fileUri": file.url, "mimeType": media_type}}


def _part(part: Any) -> dict[str, Any] | None:
    if isinstance(part, Text):
        return {"text": part.text}
    if isinstance(part, ImageURL | File):
        return _file_part(as_file(part))
    if isinstance(part, ToolCallPart):
        out: dict[str, Any] = {
            "functionCall": {"name": part.name, "args": part.arguments, "id": part.call_id}
        }
        signature = (part.provider_data or {}).get("thought_signature")
        if signature:
            out["thoughtSignature"] = signature
        return out
    if isinstance(part, ToolResultPart):
        return {
            "functionResponse": {
                "name": part.name,
                "id": part.call_id,
                "response": _response_value(part.content, part.is_error),
            }
        }
    return None


def _model_parts(message: Message) -> list[dict[str, Any]]:
    """An answer's parts, with Gemini's own thoughts and thought signatures where they were."""
    out: list[dict[str, Any]] = []
    text_signature: str | None = None
    for part in message.parts:
        if isinstance(part, Reasoning):
            if part.provider != _NAME:
                continue  # another provider's reasoning means nothing to Gemini
            if _on_text(part):
                text_signature = part.signature
                continue
            if part.text or part.signature:
                thought: dict[str, Any] = {"text": part.text, "thought": True}
                if part.signature:
                    thought["thoughtSignature"] = part.signature
                out.append(thought)
            continue
        if isinstance(part, HostedTool):
            if part.provider == _NAME:  # its code and results, as they came
                out.extend(part.items)
            continue
        encoded = _part(part)
        if encoded is None:
            continue
        if text_signature is not None and isinstance(part, Text):
            encoded["thoughtSignature"] = text_signature
            text_signature = None
        out.append(encoded)
    return out


def _turn(message: Message) -> tuple[str, list[dict[str, Any]]]:
    # The wire history merges consecutive same-role turns into one content.
    if message.role == "assistant":
        return "model", _model_parts(message)
    out: list[dict[str, Any]] = []
    for part in message.parts:
        encoded = _part(part)
        if encoded is not None:
            out.append(encoded)
        if isinstance(part, ToolResultPart):
            # Files a tool returned follow its response, in the same turn.
            out.extend(_file_part(f) for f in part.files)
    return "user", out
