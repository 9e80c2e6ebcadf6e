"""Model answers as stores record them, and back (used by resume and replay)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from gai._fast_json import call_list, json_or_none, usage_dict
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
    sent = _sent_results(request)
    names = [t.name for t in request.tools]
    calls = call_list(response.tool_calls)
    usage = usage_dict(response.usage)
    if calls is not None and usage is not None:
        # The same keys in the same order as `_Recorded`, None values left out.
        values: dict[str, Any] = {
            "text": response.text,
            "tool_calls": calls,
            "usage": usage,
            "finish_reason": response.finish_reason,
        }
        if response.model_name is not None:
            values["model_name"] = response.model_name
        if response.answered_by is not None:
            values["answered_by"] = response.answered_by
        values["attempts"] = response.attempts
        values["model_duration"] = model_duration
        values["request_tools"] = names
        values["request_messages"] = len(request.messages)
        values["request_tool_results"] = sent
        if tools_started is not None:
            values["tools_started"] = tools_started
        text = json_or_none(values)
        if text is not None:
            return text
    return _pydantic_json(response, request, model_duration, tools_started, names, sent)


def _pydantic_json(
    response: ModelResponse,
    request: ModelRequest,
    model_duration: float,
    tools_started: list[str] | None,
    names: list[str],
    sent: list[tuple[str, str]],
) -> str:
    # What orjson cannot write as pydantic would (see gai._fast_json).
    recorded: Any = {
        "text": response.text,
        "tool_calls": response.tool_calls,
        "usage": response.usage,
        "finish_reason": response.finish_reason,
        "model_name": response.model_name,
        "answered_by": response.answered_by,
        "attempts": response.attempts,
        "model_duration": model_duration,
        "request_tools": names,
        "request_messages": len(request.messages),
        "request_tool_results": sent,
        "tools_started": tools_started,
    }
    return _adapter().dump_json(recorded, exclude_none=True).decode()


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
