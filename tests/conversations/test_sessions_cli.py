"""`gai sessions list|show|export|delete` on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gai
from gai.cli import main
from gai.store import SQLiteStore
from tests.conversations.chat import chat_model, lookup


async def test_sessions_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "chat.db"
    store = SQLiteStore(path)
    session = gai.Session("support-42", store=store)
    for number in (1, 2, 3):
        await gai.generate_text(
            chat_model(), prompt=f"turn {number}: <b>hi</b>", tools=[lookup], session=session,
            stop_when=gai.NoMoreTools(),
        )  # fmt: skip
    await store.aclose()
    db = str(path)

    assert main(["sessions", "list", "--store", db]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["SESSION", "TURNS", "ITEMS", "UPDATED"]
    assert out[1].split()[:3] == ["support-42", "3", "8"]

    assert main(["sessions", "show", "support-42", "--store", db]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == "user: turn 1: <b>hi</b>"
    assert shown[5].startswith('assistant: -> lookup({"q": "t3"}) [call-3]')
    assert shown[6].startswith("tool: <- lookup [call-3]: facts about t3")
    assert shown[-1] == "assistant: answer 3"

    assert main(["sessions", "show", "support-42", "--store", db, "--json"]) == 0
    assert [m["role"] for m in json.loads(capsys.readouterr().out)][:2] == ["user", "assistant"]

    out_file = tmp_path / "export" / "s.json"
    assert main(["sessions", "export", "support-42", "--store", db, "-o", str(out_file)]) == 0
    assert "8 items, 3 turns" in capsys.readouterr().out
    exported = json.loads(out_file.read_text())
    assert exported["items"][0]["data"]["parts"][0]["text"] == "turn 1: <b>hi</b>"
    assert [i["turn"] for i in exported["items"]] == [1, 1, 2, 2, 3, 3, 3, 3]

    assert main(["sessions", "delete", "support-42", "--store", db]) == 0
    capsys.readouterr()
    assert main(["sessions", "list", "--store", db]) == 0
    assert capsys.readouterr().out.strip() == "no sessions"
    assert main(["sessions", "show", "support-42", "--store", db]) == 0
    assert "is empty" in capsys.readouterr().out
    # A store that does not exist is an error, not a new empty one.
    assert main(["sessions", "list", "--store", str(tmp_path / "nope.db")]) == 1
    assert "No store at" in capsys.readouterr().err
