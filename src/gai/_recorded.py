"""Model answers as stores record them, and back (used by resume and replay)."""

from __future__ import annotations

from gai.providers.base import ModelRequest, ModelResponse
from gai.store.records import RecordedResponse

__all__ = ["recorded_response", "response_from_record"]


def recorded_response(
    response: ModelResponse, request: ModelRequest, model_duration: float
) -> RecordedResponse:
    """A model answer plus a fingerprint of the request, ready to store."""
    last = request.messages[-1] if request.messages else None
    sent_results = (
        [(p.call_id, p.content) for p in last.tool_results]
        if last is not None and last.role == "tool"
        else []
    )
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
        request_tool_results=sent_results,
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
