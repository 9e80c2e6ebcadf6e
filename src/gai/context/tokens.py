"""Token counts for context policies: a local estimate, corrected by what the provider reported."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from gai.types import File, Message, Reasoning, Text, ToolCallPart, ToolDefinition, ToolResultPart

__all__ = ["TokenCounter", "estimate_tokens"]

_PER_MESSAGE = 4
"""Role and separators: what chat formats add around each message."""
_PER_FILE = 1000
"""A typical image or short document; providers count them in their own ways."""
_CHARS_PER_TOKEN = 4
"""English text and JSON average close to four characters a token across tokenizers."""


def estimate_tokens(messages: Sequence[Message], tools: Sequence[ToolDefinition] = ()) -> int:
    """A local estimate of the input tokens `messages` and `tools` make.

    About four characters a token, plus a few per message and a flat amount per file.
    `TokenCounter` corrects it with the token counts providers report.
    """
    chars = 0
    tokens = 0
    for message in messages:
        tokens += _PER_MESSAGE
        for part in message.parts:
            if isinstance(part, Text):
                chars += len(part.text)
            elif isinstance(part, ToolResultPart):
                chars += len(part.content) + len(part.name)
                tokens += _PER_FILE * len(part.files)
            elif isinstance(part, ToolCallPart):
                chars += len(part.name) + len(orjson.dumps(part.arguments))
            elif isinstance(part, Reasoning):
                chars += len(part.text or "")
            elif isinstance(part, File):
                tokens += _PER_FILE
    for tool in tools:
        chars += len(tool.name) + len(tool.description or "") + len(orjson.dumps(tool.parameters))
    return tokens + chars // _CHARS_PER_TOKEN


class TokenCounter:
    """Counts a conversation's tokens with the local estimate, scaled to the provider's count.

    After each model call the run tells the counter what it estimated for the request
    and what the provider billed (`calibrate`); later counts are scaled by that ratio,
    so a tokenizer that counts more (or fewer) than four characters a token is soon
    followed.
    """

    __slots__ = ("ratio",)

    def __init__(self) -> None:
        self.ratio = 1.0

    def count(self, messages: Sequence[Message], tools: Sequence[ToolDefinition] = ()) -> int:
        """Estimated input tokens of `messages` and `tools`."""
        return round(estimate_tokens(messages, tools) * self.ratio)

    def calibrate(self, estimated: int, reported: int) -> None:
        """Follow the provider's count of a request's tokens.

        `estimated` is the unscaled estimate of the request and `reported` what the
        provider billed for it; either being 0 (a provider without usage) is ignored.
        """
        if estimated > 0 and reported > 0:
            # Bounded: one odd report (a cached prefix billed differently) must not
            # make the next count absurd.
            self.ratio = min(4.0, max(0.25, reported / estimated))
