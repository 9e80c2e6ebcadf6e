"""Child process for the session kill test: chats turn after turn on a SQLite session.

    python -m tests.conversations._chat_child DB_PATH KILL_TURN

Prints `DONE n` after each turn. In turn KILL_TURN, once its tool step is complete and
the model is asked for the answer, it prints `WAITING n` and waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from typing import Any

import gai
from gai.store import SQLiteStore
from gai.types import ToolDefinition
from tests.conversations.chat import chat_model, lookup, turn_number


def main(path: str, kill_turn: int) -> None:
    inner = chat_model(tool_every=3)  # turn 57 is one of the tool turns

    def answer(messages: Sequence[gai.Message], tools: Sequence[ToolDefinition]) -> Any:
        if turn_number(messages) == kill_turn and messages[-1].role == "tool":
            print(f"WAITING {kill_turn}", flush=True)
            time.sleep(60)  # the parent kills us here
        return inner.fn(messages, tools)

    async def chat() -> None:
        session = gai.Session("killed", store=SQLiteStore(path))
        model = gai.models.FunctionModel(answer, name="chat")
        for number in range(1, kill_turn + 1):
            await gai.generate_text(
                model, prompt=f"turn {number}: go on", tools=[lookup], session=session,
                stop_when=gai.NoMoreTools(),
            )  # fmt: skip
            print(f"DONE {number}", flush=True)

    asyncio.run(chat())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
