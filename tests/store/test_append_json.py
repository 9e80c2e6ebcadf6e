"""The run loop hands stores JSON text only where that cannot bypass an `append` override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gai
from gai.engine._checkpoint import _json_appender
from gai.models import ScriptedModel
from gai.providers.base import ModelResponse
from gai.store import MemoryStore, SQLiteStore


class CountingSQLite(SQLiteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.seen: list[str] = []

    async def append(
        self, run_id: str, kind: Any, step_number: int, payload: dict[str, Any]
    ) -> None:
        self.seen.append(kind)
        await super().append(run_id, kind, step_number, payload)


class Delegating:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(
        self, run_id: str, kind: Any, step_number: int, payload: dict[str, Any]
    ) -> None:
        self.seen.append(kind)
        await self.inner.append(run_id, kind, step_number, payload)


def test_which_stores_get_json(tmp_path: Path) -> None:
    plain = SQLiteStore(tmp_path / "a.db")
    assert _json_appender(plain) is not None
    assert _json_appender(MemoryStore()) is None  # stores dicts: nothing to gain
    assert _json_appender(CountingSQLite(tmp_path / "b.db")) is None
    assert _json_appender(Delegating(plain)) is None


@gai.tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


async def test_overrides_of_append_see_every_checkpoint(tmp_path: Path) -> None:
    for store in (CountingSQLite(tmp_path / "c.db"), Delegating(SQLiteStore(tmp_path / "d.db"))):
        model = ScriptedModel(
            [
                ModelResponse(
                    tool_calls=(gai.ToolCall(call_id="c1", name="lookup", arguments={"key": "x"}),)
                ),
                "done",
            ]
        )
        result = await gai.generate_text(
            model, prompt="go", tools=[lookup], stop_when=gai.NoMoreTools(), run_store=store,
            run_id="r1",
        )  # fmt: skip
        assert result.text == "done"
        assert store.seen.count("tool_result") == 1
        assert store.seen.count("model_response") == 2
        record = await store.load_run("r1")
        assert record.steps[0].tool_results[0].output == "X"
        await store.aclose()
