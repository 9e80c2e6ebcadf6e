"""Model answers as stores record them, and back (used by resume and replay)."""

from __future__ import annotations

from gai.providers.base import ModelRequest, ModelResponse
from gai.store.records import RecordedResponse
from gai.types import ContextEdit

__all__ = ["recorded_response", "response_from_record"]


def _sent_results(request: ModelRequest) -> list[tuple[str, str]]:
    last = request.messages[-1] if request.messages else None
    if last is None or last.role != "tool":
        return []
    return [(p.call_id, p.content) for p in last.tool_results]


def recorded_response(
    response: ModelResponse,
    request: ModelRequest,
    model_duration: float,
    context: ContextEdit | None = None,
) -> RecordedResponse:
    """A model answer plus a fingerprint of the request, ready to store.

    `context`: how the run's context policy rewrote the conversation before the call.
    """
    return RecordedResponse(
        text=response.text,
        tool_calls=list(response.tool_calls),
        reasoning=list(response.reasoning) or None,
        hosted_tools=list(response.hosted_tools) or None,
        citations=list(response.citations) or None,
        usage=response.usage,
        finish_reason=response.finish_reason,
        refusal=response.refusal,
        model_name=response.model_name,
        answered_by=response.answered_by,
        attempts=response.attempts,
        model_duration=model_duration,
        request_tools=[t.name for t in request.tools],
        request_messages=len(request.messages),
        request_tool_results=_sent_results(request),
        context=context,
    )


def response_from_record(recorded: RecordedResponse) -> ModelResponse:
    """The `ModelResponse` a recorded answer stands for."""
    return ModelResponse(
        text=recorded.text,
        tool_calls=tuple(recorded.tool_calls),
        reasoning=tuple(recorded.reasoning or ()),
        hosted_tools=tuple(recorded.hosted_tools or ()),
        citations=tuple(recorded.citations or ()),
        usage=recorded.usage,
        finish_reason=recorded.finish_reason,
        refusal=recorded.refusal,
        model_name=recorded.model_name,
        answered_by=recorded.answered_by,
        attempts=recorded.attempts,
    )
