"""Deterministic token counts for offline models: one token per whitespace-separated word."""

from __future__ import annotations

import json

from gai.providers.base import ModelRequest, ModelResponse
from gai.types import Message, Text, ToolCallPart, ToolResultPart, Usage

__all__ = ["count_usage", "with_usage"]


def _words(text: str) -> int:
    return len(text.split())


def _message_words(message: Message) -> int:
    n = 0
    for part in message.parts:
        if isinstance(part, Text):
            n += _words(part.text)
        elif isinstance(part, ToolResultPart):
            n += _words(part.content)
        elif isinstance(part, ToolCallPart):
            n += 1 + _words(json.dumps(part.arguments))
    return n


def count_usage(request: ModelRequest, response: ModelResponse) -> Usage:
    """Count request and response words as tokens."""
    input_tokens = sum(_message_words(m) for m in request.messages)
    output_tokens = _words(response.text) + sum(
        1 + _words(json.dumps(c.arguments)) for c in response.tool_calls
    )
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def with_usage(request: ModelRequest, response: ModelResponse) -> ModelResponse:
    """Fill in counted usage when the response carries none."""
    if response.usage.total_tokens:
        return response
    return response.model_copy(update={"usage": count_usage(request, response)})
