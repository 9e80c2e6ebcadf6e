"""The Vercel AI SDK UI message stream: what `useChat` reads, from a gai run's events.

`vercel_stream(events)` turns the events of `stream_text` into the protocol's
server-sent events (`data: {...}` lines, then `data: [DONE]`); answer with
`VERCEL_STREAM_HEADERS`. `vercel_messages(body)` turns the `messages` a `useChat`
client posts into gai messages. Each step of the run is one `start-step`/`finish-step`
pair in one assistant message: reasoning, text, and each tool call with its input
(streamed when the provider streams it) and its output or error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any

from gai.errors import UserError
from gai.types import (
    File,
    ImageURL,
    Message,
    Part,
    RunEvent,
    Text,
    ToolCallPart,
    ToolResultPart,
)
from gai.types.events import (
    ModelCallRetried,
    ReasoningDelta,
    RunFailed,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    TextDelta,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolFinished,
)
from gai.ui._json import json_safe

__all__ = [
    "VERCEL_STREAM_HEADERS",
    "VercelRequestError",
    "vercel_chunks",
    "vercel_messages",
    "vercel_stream",
]

VERCEL_STREAM_HEADERS: Mapping[str, str] = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "connection": "keep-alive",
    "x-vercel-ai-ui-message-stream": "v1",
    "x-accel-buffering": "no",
}
"""The HTTP headers of a UI message stream response."""

_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "content_filter": "content-filter",
    "refusal": "content-filter",
    "error": "error",
}


class VercelRequestError(UserError):
    """A posted chat request is not what a `useChat` client sends."""


class _Parts:
    """Which text and reasoning parts are open, and the stream's ids for tool calls."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.reasoning: str | None = None
        self.count = 0
        self.ids: dict[tuple[int, int], str] = {}
        # Provider call id -> the id the stream used before the provider gave one.
        self.renamed: dict[str, str] = {}

    def new_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def close(self) -> list[dict[str, Any]]:
        chunks = []
        if self.reasoning is not None:
            chunks.append({"type": "reasoning-end", "id": self.reasoning})
            self.reasoning = None
        if self.text is not None:
            chunks.append({"type": "text-end", "id": self.text})
            self.text = None
        return chunks


async def vercel_chunks(
    events: AsyncIterable[RunEvent],
    *,
    metadata: Mapping[str, Any] | None = None,
    on_error: Callable[[str], str] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """The UI message chunks of a run, as dicts (`vercel_stream` writes them as SSE).

    Args:
        events: A `stream_text` stream, or any iterable of its events.
        metadata: Message metadata sent with `start` (`usage` and `run_id` are added
            at `finish`).
        on_error: Turns an error's message into what the client is shown (by default
            the message itself); use it to hide details from end users.
    """
    parts = _Parts()
    shown = on_error or (lambda message: message)
    step_open = False
    failed = False
    try:
        async for event in events:
            if isinstance(event, RunStarted):
                start: dict[str, Any] = {"type": "start", "messageId": event.run_id}
                if metadata is not None:
                    start["messageMetadata"] = dict(metadata)
                yield start
            elif isinstance(event, StepStarted):
                if step_open:
                    for chunk in parts.close():
                        yield chunk
                    yield {"type": "finish-step"}
                step_open = True
                yield {"type": "start-step"}
            elif isinstance(event, ReasoningDelta):
                if parts.reasoning is None:
                    parts.reasoning = parts.new_id("reasoning-")
                    yield {"type": "reasoning-start", "id": parts.reasoning}
                yield {"type": "reasoning-delta", "id": parts.reasoning, "delta": event.text}
            elif isinstance(event, TextDelta):
                if parts.reasoning is not None:
                    yield {"type": "reasoning-end", "id": parts.reasoning}
                    parts.reasoning = None
                if parts.text is None:
                    parts.text = parts.new_id("text-")
                    yield {"type": "text-start", "id": parts.text}
                yield {"type": "text-delta", "id": parts.text, "delta": event.text}
            elif isinstance(event, ModelCallRetried):
                # The protocol cannot take back what was sent: the retry's parts are new
                # parts, after those of the failed attempt.
                for chunk in parts.close():
                    yield chunk
                parts.ids = {}
            elif isinstance(event, ToolCallStarted):
                call_id = event.call_id or parts.new_id("call-")
                parts.ids[(event.step_number, event.index)] = call_id
                yield {"type": "tool-input-start", "toolCallId": call_id, "toolName": event.name}
            elif isinstance(event, ToolCallDelta):
                call_id = parts.ids.get((event.step_number, event.index), "")
                if call_id:
                    yield {
                        "type": "tool-input-delta",
                        "toolCallId": call_id,
                        "inputTextDelta": event.arguments,
                    }
            elif isinstance(event, ToolCallFinished):
                call = event.call
                streamed = parts.ids.pop((event.step_number, event.index), None)
                if streamed is not None and streamed != call.call_id:
                    # The stream named the call before the provider gave its id.
                    parts.renamed[call.call_id] = streamed
                call_id = streamed or call.call_id
                if call.invalid_arguments is not None:
                    yield {
                        "type": "tool-input-error",
                        "toolCallId": call_id,
                        "toolName": call.name,
                        "input": call.invalid_arguments,
                        "errorText": "The model's arguments are not valid JSON.",
                    }
                else:
                    yield {
                        "type": "tool-input-available",
                        "toolCallId": call_id,
                        "toolName": call.name,
                        "input": json_safe(dict(call.arguments)),
                    }
            elif isinstance(event, ToolFinished):
                outcome = event.result
                call_id = parts.renamed.get(outcome.call_id, outcome.call_id)
                if outcome.error is not None:
                    yield {
                        "type": "tool-output-error",
                        "toolCallId": call_id,
                        "errorText": shown(outcome.error),
                    }
                else:
                    yield {
                        "type": "tool-output-available",
                        "toolCallId": call_id,
                        "output": json_safe(outcome.output),
                    }
            elif isinstance(event, StepFinished):
                for chunk in parts.close():
                    yield chunk
                if step_open:
                    yield {"type": "finish-step"}
                    step_open = False
            elif isinstance(event, RunFinished):
                for chunk in parts.close():
                    yield chunk
                if step_open:
                    yield {"type": "finish-step"}
                    step_open = False
                result = event.result
                last = result.steps[-1].finish_reason if result.steps else "stop"
                yield {
                    "type": "finish",
                    "finishReason": _FINISH.get(last, "other"),
                    "messageMetadata": {
                        **(dict(metadata) if metadata else {}),
                        "runId": result.run_id,
                        "usage": {
                            "inputTokens": result.usage.input_tokens,
                            "outputTokens": result.usage.output_tokens,
                            "totalTokens": result.usage.total_tokens,
                        },
                        "stopReason": result.stop_reason.kind,
                    },
                }
            elif isinstance(event, RunFailed):
                failed = True
                for chunk in parts.close():
                    yield chunk
                yield {"type": "error", "errorText": shown(event.error)}
    except Exception as exc:
        # The run's failure was already told by its `run_failed` event.
        if not failed:
            for chunk in parts.close():
                yield chunk
            yield {"type": "error", "errorText": shown(str(exc))}


async def vercel_stream(
    events: AsyncIterable[RunEvent],
    *,
    metadata: Mapping[str, Any] | None = None,
    on_error: Callable[[str], str] | None = None,
) -> AsyncIterator[str]:
    """The run as the UI message stream's server-sent events, ending with `[DONE]`.

    Write each string to the response as it comes, with `VERCEL_STREAM_HEADERS`.
    The arguments are `vercel_chunks`'s.
    """
    async for chunk in vercel_chunks(events, metadata=metadata, on_error=on_error):
        yield f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n"
    yield "data: [DONE]\n\n"


def vercel_messages(body: Mapping[str, Any] | list[Any]) -> list[Message]:
    """The gai conversation of a `useChat` request's `messages` (or the whole body).

    User messages keep their text and files (`data:` URLs inline, others by URL);
    assistant messages their text and, step by step, their tool calls with the results
    the client holds. Reasoning, sources and data parts are display-only and dropped.

    Raises:
        VercelRequestError: The body has no `messages` list, or a message is malformed.
    """
    messages = body.get("messages") if isinstance(body, Mapping) else body
    if not isinstance(messages, list):
        raise VercelRequestError(
            "The chat request has no `messages` list: post what useChat sends "
            '({"messages": [{"role": "user", "parts": [...]}, ...]}).'
        )
    out: list[Message] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("parts"), list):
            raise VercelRequestError(
                f"messages[{index}] is not a UI message: it needs a role and a parts list."
            )
        role = message.get("role")
        if role in ("user", "system"):
            out.append(_plain(role, message["parts"], index))
        elif role == "assistant":
            out.extend(_assistant(message["parts"], index))
        else:
            raise VercelRequestError(
                f"messages[{index}] has role {role!r}; a UI message's role is "
                "'user', 'assistant' or 'system'."
            )
    return out


def _plain(role: str, parts: list[Any], index: int) -> Message:
    found: list[Part] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            found.append(Text(text=str(part.get("text", ""))))
        elif kind == "file":
            found.append(_file(part, index))
    if not found:
        raise VercelRequestError(f"messages[{index}] has no text or file part.")
    return Message(role=role, parts=tuple(found))  # type: ignore[arg-type]


def _file(part: Mapping[str, Any], index: int) -> Part:
    url, media_type = part.get("url"), part.get("mediaType")
    if not isinstance(url, str) or not isinstance(media_type, str):
        raise VercelRequestError(f"A file part of messages[{index}] needs url and mediaType.")
    name = part.get("filename") if isinstance(part.get("filename"), str) else None
    if url.startswith("data:"):
        head, _, data = url.partition(",")
        if not head.endswith(";base64"):
            raise VercelRequestError(
                f"A file part of messages[{index}] is a data: URL that is not base64."
            )
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VercelRequestError(
                f"A file part of messages[{index}] is not valid base64 ({exc})."
            ) from exc
        return File(media_type=media_type, data=data, filename=name)
    if media_type.startswith("image/"):
        return ImageURL(url=url)
    return File(media_type=media_type, url=url, filename=name)


def _assistant(parts: list[Any], index: int) -> list[Message]:
    """An assistant UI message: one assistant message per step, then its tool results."""
    out: list[Message] = []
    said: list[Part] = []
    results: list[Part] = []

    def flush() -> None:
        if said:
            out.append(Message(role="assistant", parts=tuple(said)))
        if results:
            out.append(Message(role="tool", parts=tuple(results)))
        said.clear()
        results.clear()

    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(kind, str):
            raise VercelRequestError(f"A part of messages[{index}] has no type.")
        if kind == "step-start":
            flush()
        elif kind == "text":
            said.append(Text(text=str(part.get("text", ""))))
        elif kind == "dynamic-tool" or kind.startswith("tool-"):
            name = part.get("toolName") if kind == "dynamic-tool" else kind[5:]
            call_id = part.get("toolCallId")
            if not isinstance(name, str) or not isinstance(call_id, str):
                raise VercelRequestError(
                    f"A tool part of messages[{index}] needs a tool name and a toolCallId."
                )
            state = part.get("state")
            arguments = part.get("input") if isinstance(part.get("input"), dict) else {}
            said.append(ToolCallPart(call_id=call_id, name=name, arguments=arguments))
            if state == "output-available":
                output = part.get("output")
                content = output if isinstance(output, str) else json.dumps(output)
                results.append(ToolResultPart(call_id=call_id, name=name, content=content))
            elif state == "output-error":
                results.append(
                    ToolResultPart(
                        call_id=call_id,
                        name=name,
                        content=str(part.get("errorText", "error")),
                        is_error=True,
                    )
                )
            else:
                raise VercelRequestError(
                    f"The tool call {call_id!r} of messages[{index}] has no result "
                    f"(state {state!r}): send the conversation once its tools have run."
                )
    flush()
    return out
