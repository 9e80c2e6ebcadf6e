"""A scripted chat partner for conversation tests: answers each user turn, sometimes via a tool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gai
from gai.models import FunctionModel
from gai.types import ToolCall, ToolDefinition


def turn_number(messages: Sequence[gai.Message]) -> int:
    """The number in the last user message ("turn 12: ..." -> 12)."""
    for message in reversed(messages):
        if message.role == "user" and message.text.startswith("turn "):
            return int(message.text.split()[1].rstrip(":"))
    raise AssertionError("no user turn in the request")


def chat_model(tool_every: int = 3) -> FunctionModel:
    """Answers "turn N: ..." with "answer N"; every `tool_every`-th turn looks something up
    first (one tool call, then the answer once the result is back)."""

    def answer(messages: Sequence[gai.Message], tools: Sequence[ToolDefinition]) -> Any:
        number = turn_number(messages)
        last = messages[-1]
        if tools and number % tool_every == 0 and last.role == "user":
            return gai.ModelResponse(
                tool_calls=(
                    ToolCall(
                        call_id=f"call-{number}", name="lookup", arguments={"q": f"t{number}"}
                    ),
                )
            )
        return f"answer {number}"

    return FunctionModel(answer, name="chat")


def lookup(q: str) -> str:
    """Look something up."""
    # Results of uneven length, so a policy's cuts land all over the conversation.
    return f"facts about {q}: " + "lorem ipsum " * (5 + int(q[1:]) * 7 % 60)
