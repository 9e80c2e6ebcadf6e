"""The messages a step adds to a run's conversation, shared by the run loop and stores."""

from __future__ import annotations

from collections.abc import Sequence

from gai.types.messages import (
    HostedTool,
    Message,
    Part,
    Reasoning,
    Text,
    ToolCallPart,
    ToolResultPart,
    system,
)
from gai.types.results import Step, ToolCall, ToolResult

__all__ = ["assistant_message", "step_messages", "tool_message", "transcript"]


def assistant_message(
    text: str,
    tool_calls: Sequence[ToolCall],
    reasoning: Sequence[Reasoning] = (),
    hosted_tools: Sequence[HostedTool] = (),
) -> Message:
    """The assistant's turn: reasoning, the provider's own tools, text, tool calls."""
    parts: list[Part] = [*reasoning, *hosted_tools]
    if text:
        parts.append(Text(text=text))
    parts.extend(
        ToolCallPart(
            call_id=c.call_id, name=c.name, arguments=c.arguments, provider_data=c.provider_data
        )
        for c in tool_calls
    )
    return Message(role="assistant", parts=tuple(parts))


def tool_message(results: Sequence[ToolResult]) -> Message:
    """The tool results sent back to the model, in call order."""
    return Message(
        role="tool",
        parts=tuple(
            ToolResultPart(
                call_id=r.call_id,
                name=r.name,
                content=r.content,
                is_error=r.error is not None,
                files=r.files,
            )
            for r in results
        ),
    )


def step_messages(step: Step) -> list[Message]:
    """What a completed step appended to the conversation."""
    messages = [assistant_message(step.text, step.tool_calls, step.reasoning, step.hosted_tools)]
    if step.tool_results:
        messages.append(tool_message(step.tool_results))
    return messages


def transcript(
    instructions: str | None, messages: Sequence[Message], steps: Sequence[Step]
) -> tuple[Message, ...]:
    """A run's whole conversation, when nothing but its steps added to its input."""
    out = [system(instructions)] if instructions is not None else []
    out.extend(messages)
    for step in steps:
        out.extend(step_messages(step))
    return tuple(out)
