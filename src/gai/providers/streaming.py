"""`StreamAssembler`: rebuilds a complete `ModelResponse` from a model's stream of chunks.

Argument fragments are joined per tool-call index, so several tool calls interleaved
in one stream stay separate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from gai.errors import ResponseFormatError
from gai.providers.base import ModelResponse
from gai.types import (
    HostedTool,
    HostedToolChunk,
    ModelChunk,
    Reasoning,
    ReasoningChunk,
    StreamEnd,
    StreamRestart,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    new_call_id,
)

__all__ = ["StreamAssembler", "function_call", "parse_arguments", "tool_arguments"]


@dataclass(slots=True)
class _PendingCall:
    call_id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)
    provider_data: dict[str, Any] | None = None


@dataclass(slots=True)
class _PendingReasoning:
    text: list[str] = field(default_factory=list)
    signature: str | None = None
    redacted: str | None = None
    encrypted: str | None = None
    id: str | None = None
    provider: str | None = None
    provider_data: dict[str, Any] | None = None

    def add(self, chunk: ReasoningChunk) -> None:
        if chunk.text:
            self.text.append(chunk.text)
        # Opaque fields arrive once each; a later value replaces an earlier one.
        self.signature = chunk.signature or self.signature
        self.redacted = chunk.redacted or self.redacted
        self.encrypted = chunk.encrypted or self.encrypted
        self.id = chunk.id or self.id
        self.provider = chunk.provider or self.provider
        self.provider_data = chunk.provider_data or self.provider_data

    def part(self) -> Reasoning:
        return Reasoning(
            text="".join(self.text),
            provider=self.provider,
            signature=self.signature,
            redacted=self.redacted,
            encrypted=self.encrypted,
            id=self.id,
            provider_data=self.provider_data,
        )


def tool_arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    """Arguments as a provider sent them: an object, JSON text, or anything else.

    Returns (arguments, the raw text when they are not a JSON object): a number or a
    list goes back to the model as a tool error to correct, like invalid JSON.
    """
    if isinstance(raw, dict):
        return raw, None
    if isinstance(raw, str) or raw is None:
        return parse_arguments(raw or "")
    return {}, orjson.dumps(raw).decode()


def function_call(tc: dict[str, Any]) -> ToolCall:
    """A tool call in the OpenAI wire shape: `{"id", "function": {"name", "arguments"}}`.

    Ollama's native API shares it.
    """
    fn = tc["function"]
    arguments, invalid = tool_arguments(fn.get("arguments"))
    return ToolCall(
        call_id=tc.get("id") or new_call_id(),
        name=fn["name"],
        arguments=arguments,
        invalid_arguments=invalid,
    )


def parse_arguments(text: str) -> tuple[dict[str, Any], str | None]:
    """Decode tool-call arguments; returns (arguments, raw text if it was not an object)."""
    if not text.strip():
        return {}, None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}, text
    if not isinstance(value, dict):
        return {}, text
    return value, None


class StreamAssembler:
    """Collects chunks and builds the final `ModelResponse`.

    Args:
        provider: Provider name used in errors.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.text: list[str] = []
        self.calls: dict[int, _PendingCall] = {}
        self.reasoning: dict[int, _PendingReasoning] = {}
        self.hosted: list[HostedTool] = []
        self.end: StreamEnd | None = None

    def add(self, chunk: ModelChunk) -> bool:
        """Record a chunk; returns True when it starts a new tool call."""
        if isinstance(chunk, StreamRestart):
            self.text.clear()
            self.calls.clear()
            self.reasoning.clear()
            self.hosted.clear()
            self.end = None
            return False
        if isinstance(chunk, HostedToolChunk):
            self.hosted.append(chunk.tool)
            return False
        if isinstance(chunk, TextChunk):
            self.text.append(chunk.text)
            return False
        if isinstance(chunk, ReasoningChunk):
            pending_reasoning = self.reasoning.get(chunk.index)
            if pending_reasoning is None:
                pending_reasoning = self.reasoning[chunk.index] = _PendingReasoning()
            pending_reasoning.add(chunk)
            return False
        if isinstance(chunk, ToolCallChunk):
            if (
                type(chunk.index) is not int
                or not isinstance(chunk.call_id or "", str)
                or not isinstance(chunk.name or "", str)
                or not isinstance(chunk.arguments, str)
            ):
                raise ResponseFormatError(
                    f"a streamed tool call has a field of the wrong type (index "
                    f"{chunk.index!r}, id {chunk.call_id!r}, name {chunk.name!r})"[:500],
                    provider=self.provider,
                    retryable=True,
                )
            pending = self.calls.get(chunk.index)
            new = pending is None
            if pending is None:
                pending = self.calls[chunk.index] = _PendingCall()
            if chunk.call_id:
                pending.call_id = chunk.call_id
            if chunk.name and not pending.name:
                pending.name = chunk.name
            if chunk.arguments:
                pending.arguments.append(chunk.arguments)
            if chunk.provider_data:
                pending.provider_data = {**(pending.provider_data or {}), **chunk.provider_data}
            return new
        self.end = chunk
        return False

    def tool_call(self, index: int) -> ToolCall:
        """The complete tool call at `index`.

        Raises:
            ResponseFormatError: The stream never said which tool to call.
        """
        pending = self.calls[index]
        if not pending.name:
            raise ResponseFormatError(
                f"streamed tool call #{index} has no tool name", provider=self.provider
            )
        arguments, invalid = parse_arguments("".join(pending.arguments))
        return ToolCall(
            call_id=pending.call_id or new_call_id(),
            name=pending.name,
            arguments=arguments,
            invalid_arguments=invalid,
            provider_data=pending.provider_data,
        )

    def response(self) -> ModelResponse:
        """The whole response.

        Raises:
            ResponseFormatError: The stream ended without its final event (truncated).
        """
        if self.end is None:
            raise ResponseFormatError(
                "the response stream ended before the model finished (truncated stream)",
                provider=self.provider,
                retryable=True,
            )
        end = self.end
        calls = tuple(self.tool_call(i) for i in sorted(self.calls))
        finish = end.finish_reason or ("tool_calls" if calls else "stop")
        # The rarer fields go in only when present: each given field is validated.
        extra: dict[str, Any] = {}
        if self.reasoning:
            extra["reasoning"] = tuple(self.reasoning[i].part() for i in sorted(self.reasoning))
        if self.hosted:
            extra["hosted_tools"] = tuple(self.hosted)
        if end.citations:
            extra["citations"] = end.citations
        if end.refusal is not None:
            extra["refusal"] = end.refusal
        elif finish == "refusal":
            extra["refusal"] = "".join(self.text)  # a stop reason alone (Claude): its words
        return ModelResponse(
            text="".join(self.text),
            tool_calls=calls,
            usage=end.usage,
            finish_reason=finish,
            model_name=end.model_name,
            raw=end.raw,
            answered_by=end.answered_by,
            attempts=end.attempts,
            **extra,
        )
