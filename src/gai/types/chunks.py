"""What a streaming model yields: text and tool-call chunks, then one `StreamEnd`."""

from __future__ import annotations

from dataclasses import field
from typing import Any, TypeAlias

from gai.types.base import readonly
from gai.types.messages import Citation, HostedTool
from gai.types.results import FinishReason
from gai.types.usage import Usage

__all__ = [
    "HostedToolChunk",
    "ModelChunk",
    "ReasoningChunk",
    "StreamEnd",
    "StreamRestart",
    "TextChunk",
    "ToolCallChunk",
]


@readonly()
class TextChunk:
    """A piece of the model's text."""

    text: str


@readonly()
class ReasoningChunk:
    """A piece of the model's reasoning; chunks with the same `index` make one `Reasoning`.

    Text fragments are joined in order; the opaque fields (signature, redacted or
    encrypted data, id) usually arrive once, at the start or the end of the block.
    """

    index: int = 0
    text: str = ""
    provider: str | None = None
    """Which provider made it (see `Reasoning.provider`)."""
    signature: str | None = None
    redacted: str | None = None
    encrypted: str | None = None
    id: str | None = None
    provider_data: dict[str, Any] | None = None


@readonly()
class HostedToolChunk:
    """A tool the provider ran itself, complete (its call and its result)."""

    tool: HostedTool


@readonly()
class ToolCallChunk:
    """A piece of one tool call; chunks with the same `index` belong to the same call.

    The first chunk of a call usually carries `call_id` and `name`; later ones carry
    argument fragments, which are concatenated in order.
    """

    index: int
    call_id: str | None = None
    name: str | None = None
    arguments: str = ""
    provider_data: dict[str, Any] | None = None


@readonly()
class StreamEnd:
    """The end of the stream: why it ended and what it cost."""

    finish_reason: FinishReason | None = None
    usage: Usage = field(default_factory=Usage)
    model_name: str | None = None
    refusal: str | None = None
    citations: tuple[Citation, ...] = ()
    raw: Any = None
    answered_by: str | None = None
    attempts: int = 1


@readonly()
class StreamRestart:
    """The stream failed part-way and starts over: drop what this call streamed so far.

    Sent by a retrying wrapper before the chunks of the next attempt.
    """

    attempt: int
    reason: str


ModelChunk: TypeAlias = (
    TextChunk | ReasoningChunk | HostedToolChunk | ToolCallChunk | StreamEnd | StreamRestart
)
"""Anything a streaming model yields."""
