"""OpenTelemetry spans for runs, steps, model calls and tool calls (GenAI conventions).

Only `opentelemetry-api` is needed; spans go wherever the application's tracer
provider sends them. Message and tool content is recorded only with
`capture_content=True`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from gai.types import (
    ModelCallFinished,
    ModelCallStarted,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    ToolFinished,
    ToolStarted,
)

__all__ = ["OpenTelemetryObserver"]


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _provider(model: str) -> str:
    return model.partition(":")[0] if ":" in model else model


def _request_model(model: str) -> str:
    return model.partition(":")[2] or model


class OpenTelemetryObserver:
    """Turns run events into spans: `invoke_agent` > step > `chat` / `execute_tool`.

    Span times are the events' own timestamps. The run span's parent is whatever span
    is current when the run starts, so gai runs nest inside the application's traces.

    Args:
        tracer_provider: Where spans go; defaults to the global provider.
        capture_content: Record prompts, answers, tool arguments and results.
        agent_name: `gen_ai.agent.name` of the run spans.
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        *,
        capture_content: bool = False,
        agent_name: str = "gai",
    ) -> None:
        self._tracer = trace.get_tracer("gai", tracer_provider=tracer_provider)
        self.capture_content = capture_content
        self.agent_name = agent_name
        self._spans: dict[tuple[str, ...], Span] = {}
        self._lock = threading.Lock()

    def _start(
        self,
        key: tuple[str, ...],
        parent: tuple[str, ...] | None,
        name: str,
        time: float,
        kind: SpanKind,
        attributes: dict[str, Any],
    ) -> None:
        with self._lock:
            parent_span = self._spans.get(parent) if parent else None
        context = trace.set_span_in_context(parent_span) if parent_span is not None else None
        span = self._tracer.start_span(
            name, context=context, kind=kind, attributes=attributes, start_time=_ns(time)
        )
        with self._lock:
            self._spans[key] = span

    def _end(
        self,
        key: tuple[str, ...],
        time: float,
        error: str | None = None,
        error_type: str | None = None,
    ) -> Span | None:
        with self._lock:
            span = self._spans.pop(key, None)
        if span is None:
            return None
        if error is not None:
            span.set_attribute("error.type", error_type or "error")
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=_ns(time))
        return span

    def _span(self, key: tuple[str, ...]) -> Span | None:
        with self._lock:
            return self._spans.get(key)

    def __call__(self, event: RunEvent) -> None:
        """Turn one event into span starts and ends."""
        run = event.run_id
        if isinstance(event, RunStarted):
            self._start(
                (run,),
                None,
                f"invoke_agent {self.agent_name}",
                event.time,
                SpanKind.INTERNAL,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": self.agent_name,
                    "gen_ai.conversation.id": run,
                    "gen_ai.provider.name": _provider(event.model),
                    "gen_ai.request.model": _request_model(event.model),
                    **_metadata_attributes(event.metadata),
                },
            )
        elif isinstance(event, StepStarted):
            self._start(
                (run, str(event.step_number)),
                (run,),
                f"step {event.step_number}",
                event.time,
                SpanKind.INTERNAL,
                {
                    "gai.step.number": event.step_number,
                },
            )
        elif isinstance(event, ModelCallStarted):
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": _provider(event.model),
                "gen_ai.request.model": _request_model(event.model),
            }
            if self.capture_content:
                attributes["gen_ai.input.messages"] = json.dumps(
                    [_without_blobs(m.model_dump(mode="json")) for m in event.messages]
                )
            step = (run, str(event.step_number))
            self._start(
                (*step, "model"),
                step,
                f"chat {_request_model(event.model)}",
                event.time,
                SpanKind.CLIENT,
                attributes,
            )
        elif isinstance(event, ModelCallFinished):
            span = self._span((run, str(event.step_number), "model"))
            if span is not None:
                usage = event.usage
                span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
                for name, count in (
                    ("gen_ai.usage.cache_read.input_tokens", usage.cache_read_tokens),
                    ("gen_ai.usage.cache_creation.input_tokens", usage.cache_write_tokens),
                    ("gen_ai.usage.reasoning.output_tokens", usage.reasoning_tokens),
                ):
                    if count:
                        span.set_attribute(name, count)
                span.set_attribute("gen_ai.response.finish_reasons", [event.finish_reason])
                if event.response_model:
                    span.set_attribute("gen_ai.response.model", event.response_model)
                if event.attempts > 1:
                    span.set_attribute("gai.attempts", event.attempts)
                if self.capture_content:
                    span.set_attribute(
                        "gen_ai.output.messages",
                        json.dumps(
                            {
                                "text": event.text,
                                "tool_calls": [c.model_dump(mode="json") for c in event.calls],
                            }
                        ),
                    )
            self._end((run, str(event.step_number), "model"), event.time)
        elif isinstance(event, ToolStarted):
            step = (run, str(event.step_number))
            attributes = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": event.call.name,
                "gen_ai.tool.call.id": event.call.call_id,
                "gen_ai.tool.type": "function",
            }
            if self.capture_content:
                attributes["gen_ai.tool.call.arguments"] = json.dumps(event.call.arguments)
            self._start(
                (*step, event.call.call_id),
                step,
                f"execute_tool {event.call.name}",
                event.time,
                SpanKind.INTERNAL,
                attributes,
            )
        elif isinstance(event, ToolFinished):
            key = (run, str(event.step_number), event.result.call_id)
            span = self._span(key)
            if span is not None and self.capture_content:
                span.set_attribute("gen_ai.tool.call.result", event.result.content)
            self._end(key, event.time, event.result.error, "tool_error")
        elif isinstance(event, StepFinished):
            span = self._span((run, str(event.step_number)))
            if span is not None:
                span.set_attribute("gen_ai.usage.input_tokens", event.step.usage.input_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", event.step.usage.output_tokens)
                edit = event.step.context
                if edit is not None:
                    # What the context policy did before the step's model call.
                    span.set_attribute("gai.context.policy", edit.policy)
                    span.set_attribute("gai.context.dropped", edit.dropped)
                    span.set_attribute("gai.context.summarized", edit.summarized)
                    span.set_attribute("gai.context.shortened", edit.shortened)
                    span.set_attribute("gai.context.tokens_before", edit.tokens_before)
                    span.set_attribute("gai.context.tokens_after", edit.tokens_after)
            self._end((run, str(event.step_number)), event.time)
        elif isinstance(event, RunFinished):
            span = self._span((run,))
            if span is not None:
                usage = event.result.usage
                span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
                span.set_attribute("gai.stop_reason", event.result.stop_reason.kind)
            self._end_run(run, event.time)
        elif isinstance(event, RunFailed):
            self._end_run(run, event.time, event.error, event.partial_result.stop_reason.kind)

    def _end_run(
        self, run: str, time: float, error: str | None = None, error_type: str | None = None
    ) -> None:
        # Close anything the run left open (a cancelled step, an interrupted tool).
        with self._lock:
            open_keys = sorted(
                (k for k in self._spans if k[0] == run and len(k) > 1), key=len, reverse=True
            )
        for key in open_keys:
            self._end(key, time, error or "run ended", error_type or "cancelled")
        self._end((run,), time, error, error_type)


def _metadata_attributes(metadata: dict[str, Any] | None) -> dict[str, Any]:
    # Span attributes hold scalars: other values go as their JSON text.
    out: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        scalar = isinstance(value, str | bool | int | float)
        out[f"gai.metadata.{key}"] = value if scalar else json.dumps(value)
    return out


_BLOBS = ("data", "encrypted", "redacted", "signature")
"""Fields of message parts that hold bytes or opaque provider data, not words."""


def _without_blobs(value: Any) -> Any:
    """A dumped message with file bytes and opaque reasoning data replaced by their sizes.

    Spans keep what a person reads (text, tool calls, file types and names); an image
    or a PDF, base64-encoded, would be most of a span's size and none of its use.
    """
    if isinstance(value, list):
        return [_without_blobs(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in _BLOBS and isinstance(item, str):
            out[f"{key}_size"] = len(item)
        else:
            out[key] = _without_blobs(item)
    return out
