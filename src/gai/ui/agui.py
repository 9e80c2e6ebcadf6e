"""AG-UI (CopilotKit and other front-ends): a gai run as AG-UI events (extra: ui).

`agui_stream(events, input)` turns the events of `stream_text` into AG-UI's
server-sent events, built with the `ag-ui-protocol` package's own types and encoder;
`agui_messages(input)` turns a posted `RunAgentInput`'s messages into gai messages.
Each step's reasoning, text and tool calls share one assistant message id, so a
client shows a step as one message with its tool calls.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

from gai.errors import MissingExtraError, UserError
from gai.types import (
    Message,
    Part,
    RunEvent,
    Text,
    ToolCallPart,
    ToolResultPart,
)
from gai.types.events import (
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

try:
    from ag_ui.core import (
        AssistantMessage,
        BaseEvent,
        DeveloperMessage,
        ReasoningEndEvent,
        ReasoningMessageContentEvent,
        ReasoningMessageEndEvent,
        ReasoningMessageStartEvent,
        ReasoningStartEvent,
        RunAgentInput,
        RunErrorEvent,
        RunFinishedEvent,
        RunStartedEvent,
        StateSnapshotEvent,
        StepFinishedEvent,
        StepStartedEvent,
        SystemMessage,
        TextMessageContentEvent,
        TextMessageEndEvent,
        TextMessageStartEvent,
        ToolCallArgsEvent,
        ToolCallEndEvent,
        ToolCallResultEvent,
        ToolCallStartEvent,
        ToolMessage,
        UserMessage,
    )
    from ag_ui.encoder import EventEncoder
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("ag-ui-protocol", "ui") from exc

__all__ = ["AGUIRequestError", "agui_events", "agui_messages", "agui_stream"]


class AGUIRequestError(UserError):
    """A posted `RunAgentInput` holds messages gai cannot read."""


class _Open:
    """The message ids of the step in progress, and which of its parts are open."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.step = 0
        self.text = False
        self.reasoning = False
        self.calls: dict[int, str] = {}
        self.results = 0

    @property
    def message_id(self) -> str:
        return f"{self.run_id}-{self.step}"

    def close(self) -> list[BaseEvent]:
        events: list[BaseEvent] = []
        if self.reasoning:
            reasoning_id = self.message_id + "-reasoning"
            events.append(ReasoningMessageEndEvent(message_id=reasoning_id))
            events.append(ReasoningEndEvent(message_id=reasoning_id))
            self.reasoning = False
        if self.text:
            events.append(TextMessageEndEvent(message_id=self.message_id))
            self.text = False
        return events


async def agui_events(
    events: AsyncIterable[RunEvent],
    input: RunAgentInput,
    *,
    state: Any = None,
    on_error: Callable[[str], str] | None = None,
) -> AsyncIterator[BaseEvent]:
    """The AG-UI events of a run started for `input` (its thread and run ids).

    Args:
        events: A `stream_text` stream, or any iterable of its events.
        input: The request the client posted.
        state: Shared state to send as a `STATE_SNAPSHOT` after `RUN_STARTED`.
        on_error: Turns an error's message into what the client is shown.
    """
    shown = on_error or (lambda message: message)
    open_ = _Open(input.run_id)
    failed = False
    try:
        async for event in events:
            if isinstance(event, RunStarted):
                # Message ids from gai's run id: unique across runs of one thread.
                open_.run_id = event.run_id
                yield RunStartedEvent(thread_id=input.thread_id, run_id=input.run_id)
                if state is not None:
                    yield StateSnapshotEvent(snapshot=json_safe(state))
            elif isinstance(event, StepStarted):
                open_.step = event.step_number
                open_.calls = {}
                yield StepStartedEvent(step_name=f"step {event.step_number}")
            elif isinstance(event, ReasoningDelta):
                reasoning_id = open_.message_id + "-reasoning"
                if not open_.reasoning:
                    open_.reasoning = True
                    yield ReasoningStartEvent(message_id=reasoning_id)
                    yield ReasoningMessageStartEvent(message_id=reasoning_id, role="reasoning")
                yield ReasoningMessageContentEvent(message_id=reasoning_id, delta=event.text)
            elif isinstance(event, TextDelta):
                if open_.reasoning or not open_.text:
                    for closing in open_.close():
                        yield closing
                    open_.text = True
                    yield TextMessageStartEvent(message_id=open_.message_id, role="assistant")
                yield TextMessageContentEvent(message_id=open_.message_id, delta=event.text)
            elif isinstance(event, ToolCallStarted):
                for closing in open_.close():
                    yield closing
                call_id = event.call_id or f"{open_.message_id}-call-{event.index}"
                open_.calls[event.index] = call_id
                yield ToolCallStartEvent(
                    tool_call_id=call_id,
                    tool_call_name=event.name,
                    parent_message_id=open_.message_id,
                )
            elif isinstance(event, ToolCallDelta):
                if event.index in open_.calls:
                    yield ToolCallArgsEvent(
                        tool_call_id=open_.calls[event.index], delta=event.arguments
                    )
            elif isinstance(event, ToolCallFinished):
                call = event.call
                streamed = open_.calls.get(event.index)
                if streamed is None:
                    for closing in open_.close():
                        yield closing
                    yield ToolCallStartEvent(
                        tool_call_id=call.call_id,
                        tool_call_name=call.name,
                        parent_message_id=open_.message_id,
                    )
                    yield ToolCallArgsEvent(
                        tool_call_id=call.call_id,
                        delta=call.invalid_arguments or json.dumps(json_safe(call.arguments)),
                    )
                yield ToolCallEndEvent(tool_call_id=streamed or call.call_id)
            elif isinstance(event, ToolFinished):
                outcome = event.result
                open_.results += 1
                yield ToolCallResultEvent(
                    message_id=f"{open_.run_id}-result-{open_.results}",
                    tool_call_id=outcome.call_id,
                    content=shown(outcome.error) if outcome.error else outcome.content,
                    role="tool",
                )
            elif isinstance(event, StepFinished):
                for closing in open_.close():
                    yield closing
                yield StepFinishedEvent(step_name=f"step {event.step_number}")
            elif isinstance(event, RunFinished):
                for closing in open_.close():
                    yield closing
                result = event.result
                yield RunFinishedEvent(
                    thread_id=input.thread_id,
                    run_id=input.run_id,
                    result=json_safe(result.output if result.output is not None else result.text),
                )
            elif isinstance(event, RunFailed):
                failed = True
                for closing in open_.close():
                    yield closing
                yield RunErrorEvent(message=shown(event.error))
    except Exception as exc:
        if not failed:
            for closing in open_.close():
                yield closing
            yield RunErrorEvent(message=shown(str(exc)))


async def agui_stream(
    events: AsyncIterable[RunEvent],
    input: RunAgentInput,
    *,
    state: Any = None,
    on_error: Callable[[str], str] | None = None,
) -> AsyncIterator[str]:
    """The run's AG-UI events as server-sent events (content type `text/event-stream`).

    The arguments are `agui_events`'s.
    """
    encoder = EventEncoder()
    async for event in agui_events(events, input, state=state, on_error=on_error):
        yield encoder.encode(event)


def agui_messages(input: RunAgentInput) -> list[Message]:
    """The gai conversation of a `RunAgentInput`: its messages, tool results merged.

    System and developer messages become system messages; reasoning and activity
    messages are display-only and dropped.

    Raises:
        AGUIRequestError: A tool call's arguments are not JSON, or a tool message
            answers a call no assistant message made.
    """
    out: list[Message] = []
    names: dict[str, str] = {}
    for index, message in enumerate(input.messages):
        if isinstance(message, UserMessage):
            out.append(Message(role="user", parts=_user_parts(message.content, index)))
        elif isinstance(message, SystemMessage | DeveloperMessage):
            out.append(Message(role="system", parts=(Text(text=message.content),)))
        elif isinstance(message, AssistantMessage):
            parts: list[Part] = []
            if message.content:
                parts.append(Text(text=message.content))
            for call in message.tool_calls or ():
                try:
                    arguments = json.loads(call.function.arguments or "{}")
                except json.JSONDecodeError as exc:
                    raise AGUIRequestError(
                        f"messages[{index}]: the arguments of tool call {call.id!r} "
                        f"are not JSON ({exc})."
                    ) from exc
                names[call.id] = call.function.name
                parts.append(
                    ToolCallPart(call_id=call.id, name=call.function.name, arguments=arguments)
                )
            if parts:
                out.append(Message(role="assistant", parts=tuple(parts)))
        elif isinstance(message, ToolMessage):
            name = names.get(message.tool_call_id)
            if name is None:
                raise AGUIRequestError(
                    f"messages[{index}] answers tool call {message.tool_call_id!r}, "
                    "which no earlier assistant message made."
                )
            content = message.content if isinstance(message.content, str) else ""
            result = ToolResultPart(
                call_id=message.tool_call_id,
                name=name,
                content=message.error or content,
                is_error=message.error is not None,
            )
            if out and out[-1].role == "tool":
                out[-1] = Message(role="tool", parts=(*out[-1].parts, result))
            else:
                out.append(Message(role="tool", parts=(result,)))
    return out


def _user_parts(content: Any, index: int) -> tuple[Part, ...]:
    if isinstance(content, str):
        return (Text(text=content),)
    texts = [getattr(part, "text", None) for part in content]
    if not any(isinstance(text, str) for text in texts):
        raise AGUIRequestError(
            f"messages[{index}] has no text part; gai takes text content from AG-UI users."
        )
    return tuple(Text(text=text) for text in texts if isinstance(text, str))
