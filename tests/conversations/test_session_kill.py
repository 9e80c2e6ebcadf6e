"""A chat process killed (SIGKILL) in the middle of turn 57 loses no answered turn."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import gai
from gai.store import SQLiteStore
from tests.conversations.chat import chat_model, lookup

ROOT = Path(__file__).resolve().parents[2]
KILL_TURN = 57


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_during_turn_57_loses_no_answered_turn(tmp_path: Path):
    path = tmp_path / "chat.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.conversations._chat_child", str(path), str(KILL_TURN)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert child.stdout is not None
    done = []
    for line in child.stdout:
        if line.startswith("DONE"):
            done.append(int(line.split()[1]))
        if line.startswith("WAITING"):
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert done == list(range(1, KILL_TURN))
    asyncio.run(_what_survived(path))


async def _what_survived(path: Path) -> None:
    store = SQLiteStore(path)
    session = gai.Session("killed", store=store)
    messages = await session.messages()
    answers = [m.text for m in messages if m.role == "assistant" and m.text]
    assert answers == [f"answer {n}" for n in range(1, KILL_TURN)]
    # Turn 57's completed step is kept too: its question, the call and its result.
    assert [m.role for m in messages[-3:]] == ["user", "assistant", "tool"]
    assert messages[-3].text == f"turn {KILL_TURN}: go on"
    assert messages[-2].tool_calls[0].call_id == messages[-1].tool_results[0].call_id
    # The conversation goes on from there.
    result = await gai.generate_text(
        chat_model(), prompt="turn 58: still there?", tools=[lookup], session=session,
        stop_when=gai.NoMoreTools(),
    )  # fmt: skip
    assert result.text == "answer 58"
    await store.aclose()
