"""Approvals beyond yes and no: edit a call's arguments, or answer in the tool's place."""

from __future__ import annotations

from pathlib import Path

import pytest

import gai
from gai.control import answer
from gai.errors import UserError
from gai.store import SQLiteStore
from gai.types import ToolCall


def transfer_model() -> gai.ScriptedModel:
    return gai.ScriptedModel(
        [
            gai.ModelResponse(
                tool_calls=(
                    ToolCall(call_id="t1", name="transfer", arguments={"amount": 5000}),
                    ToolCall(call_id="t2", name="transfer", arguments={"amount": 20}),
                )
            ),
            "Done.",
        ]
    )


async def test_edited_arguments_run_and_answers_replace_the_tool_across_a_restart(tmp_path: Path):
    path = tmp_path / "runs.db"
    sent: list[int] = []

    @gai.tool(needs_approval=True)
    def transfer(amount: int) -> str:
        """Send money."""
        sent.append(amount)
        return f"sent {amount}"

    store = SQLiteStore(path)
    model = transfer_model()
    paused = await gai.generate_text(
        model, prompt="pay", tools=[transfer], stop_when=gai.NoMoreTools(), run_store=store
    )
    assert paused.stop_reason.kind == "approval_pending"
    await store.aclose()

    store = SQLiteStore(path)  # a restart: a new process opens the store
    result = await gai.resume(
        paused.run_id, store=store, model=model, tools=[transfer], stop_when=gai.NoMoreTools(),
        approvals={"t1": gai.approve(arguments={"amount": 500}), "t2": answer("already paid")},
    )  # fmt: skip
    assert result.text == "Done."
    assert sent == [500]  # t1 ran with the edited amount; t2 did not run
    step = result.steps[0]
    assert [c.arguments for c in step.tool_calls] == [{"amount": 500}, {"amount": 20}]
    assert [r.content for r in step.tool_results] == ["sent 500", "already paid"]
    # The model saw the call as it ran, and the person's answer as its result.
    followup = model.requests[1].messages
    assert followup[-2].tool_calls[0].arguments == {"amount": 500}
    assert [r.content for r in followup[-1].tool_results] == ["sent 500", "already paid"]
    # The stored run agrees after another restart.
    await store.aclose()
    store = SQLiteStore(path)
    record = await store.load_run(paused.run_id)
    assert record.steps[0].tool_calls == step.tool_calls
    assert record.steps[0].tool_results == step.tool_results
    await store.aclose()


def test_decision_checks():
    with pytest.raises(UserError, match=r"approve\(arguments=\.\.\.\) takes the call's arguments"):
        gai.approve(arguments=["amount", 1])  # type: ignore[arg-type]
    assert answer({"ok": True}).output == {"ok": True}
