"""Chat messages and their parts, shared by every provider and the run loop."""

from __future__ import annotations

import base64
from dataclasses import field
from typing import Annotated, Any, Literal

from pydantic import Field, WrapValidator

from gai.types.base import Value, keep_dict, readonly
from gai.types.files import File

__all__ = [
    "CachePoint",
    "Citation",
    "HostedTool",
    "ImageURL",
    "Message",
    "Part",
    "Reasoning",
    "Role",
    "Text",
    "ToolCallPart",
    "ToolResultPart",
    "assistant",
    "system",
    "user",
]

Role = Literal["system", "user", "assistant", "tool"]
"""Who wrote a message."""

# "wrap" rather than "plain": a plain validator also wraps the field's serializer in a
# Python function, called on every dump of every call.
Arguments = Annotated[dict[str, Any], WrapValidator(keep_dict)]
"""Tool-call arguments: a JSON object, validated without being copied."""


@readonly(kw_only=True)
class Text(Value):
    """A piece of text."""

    kind: Literal["text"] = "text"
    text: str
    """The text itself."""


@readonly(kw_only=True)
class ImageURL(Value):
    """An image given by URL (`https://...` or a `data:` URL)."""

    kind: Literal["image_url"] = "image_url"
    url: str
    """Where the image is."""
    media_type: str | None = None
    """MIME type, e.g. "image/png", when known."""

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str) -> ImageURL:
        """An inline image: the bytes travel in the request as a base64 `data:` URL.

        Args:
            data: The image file's bytes.
            media_type: Its MIME type, e.g. "image/png".
        """
        encoded = base64.b64encode(data).decode()
        return cls(url=f"data:{media_type};base64,{encoded}", media_type=media_type)


@readonly(kw_only=True)
class ToolCallPart(Value):
    """A tool call the assistant made, as it appears in the transcript."""

    kind: Literal["tool_call"] = "tool_call"
    call_id: str
    """Identifier pairing the call with its result."""
    name: str
    """Tool name."""
    arguments: Arguments = field(default_factory=dict)
    """Arguments as the model gave them."""
    provider_data: dict[str, Any] | None = None
    """Opaque data the provider needs echoed back with the call."""


@readonly(kw_only=True)
class ToolResultPart(Value):
    """The result of one tool call, sent back to the model."""

    kind: Literal["tool_result"] = "tool_result"
    call_id: str
    """The call this answers."""
    name: str
    """Tool name."""
    content: str
    """What the model reads: the output as text or JSON, or the error message."""
    is_error: bool = False
    """Whether the call failed."""
    files: tuple[File, ...] = ()
    """Files the tool returned, sent to the model with the result."""


@readonly(kw_only=True)
class HostedTool(Value):
    """A tool the provider ran itself (web search, code execution, file search).

    Not one of the run's tools: gai neither runs nor answers it. `items` holds the
    provider's own blocks for the call and its result, verbatim, and goes back to that
    provider in later requests as it requires; other providers are sent nothing.
    """

    kind: Literal["hosted_tool"] = "hosted_tool"
    name: str
    """What ran: "web_search", "code_execution", "file_search", "google_search"..."""
    provider: str
    """Which provider ran it."""
    call_id: str | None = None
    """The provider's id for the call."""
    input: dict[str, Any] | None = None
    """What it was asked (a search query, the code)."""
    output: Any = None
    """What it found or printed, in short (the pages' URLs and titles, the output)."""
    items: tuple[dict[str, Any], ...] = ()
    """The provider's blocks for the call and its result, as it sent them."""
    provider_data: dict[str, Any] | None = None
    """Anything else its provider needs back, as that provider's code keeps it."""


@readonly(kw_only=True)
class Citation(Value):
    """A source the answer cites (web search results, grounding)."""

    url: str
    title: str | None = None
    cited_text: str | None = None
    """The passage cited, when the provider gives it."""


@readonly(kw_only=True)
class CachePoint(Value):
    """A prompt-cache breakpoint: the provider may cache the conversation up to here.

    Anthropic caches only at breakpoints (at most four per request, counting those the
    `prompt_cache` setting places); other providers cache prefixes on their own and
    ignore it.
    """

    kind: Literal["cache_point"] = "cache_point"


@readonly(kw_only=True)
class Reasoning(Value):
    """The model's reasoning before its answer, and what its provider needs to see it again.

    Reasoning models think before they answer; with tools, several providers must be
    sent that thinking back on the next step, exactly as they gave it: Anthropic's
    signed `thinking` and `redacted_thinking` blocks, OpenAI Responses' encrypted
    reasoning items, Gemini's thought signatures, DeepSeek's `reasoning_content`.
    gai keeps it in the assistant message (before the text and tool calls) and sends
    it back to the provider that made it; a different provider (a fallback hop) is
    sent no reasoning, since it could not verify it.
    """

    kind: Literal["reasoning"] = "reasoning"
    text: str = ""
    """The reasoning as readable text, or its summary; empty when the provider hid it."""
    provider: str | None = None
    """Which provider made it (the model name's prefix, e.g. "anthropic")."""
    signature: str | None = None
    """The provider's signature over the text (Anthropic, Gemini)."""
    redacted: str | None = None
    """Reasoning the provider encrypted instead of showing (Anthropic `redacted_thinking`)."""
    encrypted: str | None = None
    """The reasoning in encrypted form, to send back (OpenAI Responses)."""
    id: str | None = None
    """The provider's id for the reasoning item (OpenAI Responses)."""
    provider_data: dict[str, Any] | None = None
    """Anything else its provider needs back, as that provider's code keeps it."""


Part = Annotated[
    Text | ImageURL | File | ToolCallPart | ToolResultPart | Reasoning | HostedTool | CachePoint,
    Field(discriminator="kind"),
]
"""Any message part; the `kind` field tells which."""


@readonly(kw_only=True)
class Message(Value):
    """One message of a conversation."""

    role: Role
    """Who wrote it."""
    parts: tuple[Part, ...] = ()
    """Its content, in order."""
    name: str | None = None
    """Optional author name (e.g. an agent's name)."""

    @property
    def text(self) -> str:
        """The message's text parts joined together."""
        return "".join(p.text for p in self.parts if isinstance(p, Text))

    @property
    def reasoning(self) -> list[Reasoning]:
        """The reasoning parts of the message."""
        return [p for p in self.parts if isinstance(p, Reasoning)]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """The tool-call parts of the message."""
        return [p for p in self.parts if isinstance(p, ToolCallPart)]

    @property
    def tool_results(self) -> list[ToolResultPart]:
        """The tool-result parts of the message."""
        return [p for p in self.parts if isinstance(p, ToolResultPart)]


def system(text: str) -> Message:
    """Build a system message.

    Args:
        text: The instructions.
    """
    return Message(role="system", parts=(Text(text=text),))


def user(text: str, *attachments: str | File) -> Message:
    """Build a user message.

    Args:
        text: What the user says.
        *attachments: Files to attach after the text (`File.from_path("report.pdf")`),
            or image URLs.
    """
    parts: list[Part] = [Text(text=text)]
    parts.extend(a if isinstance(a, File) else ImageURL(url=a) for a in attachments)
    return Message(role="user", parts=tuple(parts))


def assistant(text: str) -> Message:
    """Build an assistant message (e.g. for few-shot examples).

    Args:
        text: What the assistant said.
    """
    return Message(role="assistant", parts=(Text(text=text),))
