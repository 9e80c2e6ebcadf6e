"""Model answers as stores record them, and back (used by resume and replay)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from gai.providers.base import ModelRequest, ModelResponse
from gai.store.records import RecordedResponse
from gai.types import FinishReason, ToolCall, Usage

__all__ = ["recorded_json", "recorded_response", "response_from_record"]


class _Recorded(TypedDict):
    """`RecordedResponse`'s fields, to serialise a recorded answer without building one.

    The run loop records every model answer; building the model only to dump it cost
    twice as much as dumping these values directly. Tests hold the two in step. Keys
    whose value is None are left out (every such field of `RecordedResponse` defaults
    to None).
    """

    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    finish_reason: FinishReason
    model_name: str | None
    answered_by: str | None
    attempts: int
    model_duration: float
    request_tools: list[str]
    request_messages: int
    request_tool_results: list[tuple[str, str]]
    tools_started: list[str] | None


@functools.cache
def _adapter() -> TypeAdapter[_Recorded]:
    return TypeAdapter(_Recorded)


def _sent_results(request: ModelRequest) -> list[tuple[str, str]]:
    last = request.messages[-1] if request.messages else None
    if last is None or last.role != "tool":
        return []
    return [(p.call_id, p.content) for p in last.tool_results]


def recorded_json(
    response: ModelResponse,
    request: ModelRequest,
    model_duration: float,
    tools_started: list[str] | None = None,
) -> str:
    """`recorded_response(...)` as the JSON text a store keeps."""
    values: Any = {
        "text": response.text,
        "tool_calls": response.tool_calls,
        "usage": response.usage,
        "finish_reason": response.finish_reason,
        "model_name": response.model_name,
        "answered_by": response.answered_by,
        "attempts": response.attempts,
        "model_duration": model_duration,
        "request_tools": [t.name for t in request.tools],
        "request_messages": len(request.messages),
        "request_tool_results": _sent_results(request),
        "tools_started": tools_started,
    }
    return _adapter().dump_json(values, exclude_none=True).decode()


def recorded_response(
    response: ModelResponse, request: ModelRequest, model_duration: float
) -> RecordedResponse:
    """A model answer plus a fingerprint of the request, ready to store."""
    return RecordedResponse(
        text=response.text,
        tool_calls=list(response.tool_calls),
        usage=response.usage,
        finish_reason=response.finish_reason,
        model_name=response.model_name,
        answered_by=response.answered_by,
        attempts=response.attempts,
        model_duration=model_duration,
        request_tools=[t.name for t in request.tools],
        request_messages=len(request.messages),
        request_tool_results=_sent_results(request),
    )


def response_from_record(recorded: RecordedResponse) -> ModelResponse:
    """The `ModelResponse` a recorded answer stands for."""
    return ModelResponse(
        text=recorded.text,
        tool_calls=tuple(recorded.tool_calls),
        usage=recorded.usage,
        finish_reason=recorded.finish_reason,
        model_name=recorded.model_name,
        answered_by=recorded.answered_by,
        attempts=recorded.attempts,
    )
