"""The model phase of a step: build the request, call the model (streaming or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gai._lazy import lazy_module
from gai.engine._run import Run
from gai.providers.base import ModelRequest, ModelResponse
from gai.providers.streaming import StreamAssembler
from gai.providers.wire import attach_history
from gai.types import ReasoningChunk, StreamRestart, TextChunk, ToolCallChunk

if TYPE_CHECKING:
    from gai.types import events
else:
    # The event classes load when a run first emits one (someone listens).
    events = lazy_module("gai.types.events")

__all__ = ["build_request", "call_model"]


def build_request(run: Run) -> ModelRequest:
    """The model request for the run's next step: its transcript, tools and settings."""
    request = ModelRequest(
        messages=tuple(run.transcript()),
        tools=tuple(t.definition for t in run.tools),
        tool_choice=run.tool_choice,
        settings=dict(run.request.settings),
    )
    return attach_history(request, run.history)


async def call_model(run: Run, request: ModelRequest, step_number: int) -> ModelResponse:
    """The model's answer to `request`, its text and tool calls emitted as they arrive."""
    # The previous answer's payload is only for the result; a run waiting on the model
    # should not hold it.
    run.raw = None
    emit = run.emit
    # getattr, not isinstance(StreamingModel): runtime Protocol checks are slow per step.
    open_stream = getattr(run.model, "stream", None) if emit is not None and run.stream else None
    if open_stream is None:
        response = await run.model.generate(request)
        if emit is not None and run.stream:
            for reasoning in response.reasoning:
                if reasoning.text:
                    emit(events.ReasoningDelta(run.run_id, step_number, reasoning.text))
            if response.text:
                emit(events.TextDelta(run.run_id, step_number, response.text))
        return response
    assert emit is not None
    assembler = StreamAssembler(run.model.name)
    stream = open_stream(request)
    try:
        async for chunk in stream:
            started = assembler.add(chunk)
            if isinstance(chunk, TextChunk):
                if chunk.text:
                    emit(events.TextDelta(run.run_id, step_number, chunk.text))
            elif isinstance(chunk, ReasoningChunk):
                if chunk.text:
                    emit(events.ReasoningDelta(run.run_id, step_number, chunk.text))
            elif isinstance(chunk, StreamRestart):
                emit(events.ModelCallRetried(run.run_id, step_number, chunk.attempt, chunk.reason))
            elif isinstance(chunk, ToolCallChunk):
                pending = assembler.calls[chunk.index]
                if started and pending.name:
                    emit(
                        events.ToolCallStarted(
                            run.run_id, step_number, chunk.index, pending.call_id, pending.name
                        )
                    )
                if chunk.arguments:
                    emit(
                        events.ToolCallDelta(run.run_id, step_number, chunk.index, chunk.arguments)
                    )
    finally:
        # Closing the generator closes the provider's HTTP stream when we stop early.
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    response = assembler.response()
    for index, call in enumerate(response.tool_calls):
        emit(events.ToolCallFinished(run.run_id, step_number, index, call))
    return response
