"""gai.fork: a new run from any step of a stored run, and the family it makes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

import gai
from gai.cli import main
from gai.errors import RunNotFoundError, UserError
from gai.models import FunctionModel
from gai.store import SQLiteStore
from gai.types import Message, ToolCall, ToolDefinition


def agent(seen: list[list[str]]) -> FunctionModel:
    """Charges a card once per step for five steps, then answers with the last result."""

    def answer(
        messages: Sequence[Message], tools: Sequence[ToolDefinition]
    ) -> gai.ModelResponse | str:
        results = [r.content for m in messages for r in m.tool_results]
        seen.append(results)
        if len(results) < 5:
            n = len(results) + 1
            return gai.ModelResponse(
                text=f"step {n}",
                tool_calls=(ToolCall(call_id=f"charge-{n}", name="charge", arguments={"n": n}),),
            )
        return f"done after {results[-1]}"

    return FunctionModel(answer, name="agent")


async def test_fork_from_step_3_with_a_changed_result_reuses_the_parent_steps(tmp_path: Path):
    store = SQLiteStore(tmp_path / "runs.db")
    charged: list[int] = []

    @gai.tool  # not idempotent: a repeat would charge twice
    def charge(n: int) -> str:
        """Charge the card."""
        charged.append(n)
        return f"charged #{n}"

    parent = await gai.generate_text(
        agent([]), prompt="pay", tools=[charge], stop_when=gai.NoMoreTools(), run_store=store
    )
    assert len(parent.steps) == 6
    assert charged == [1, 2, 3, 4, 5]

    seen: list[list[str]] = []
    child = await gai.fork(
        parent.run_id, at_step=3, store=store, model=agent(seen), tools=[charge],
        stop_when=gai.NoMoreTools(), tool_results={"charge-3": "card declined"},
    )  # fmt: skip
    assert child.run_id != parent.run_id
    # Steps 1-3 are the parent's (step 3 with the new result); nothing of them ran again.
    for mine, theirs in zip(child.steps[:3], parent.steps[:3], strict=True):
        assert (mine.text, mine.tool_calls) == (theirs.text, theirs.tool_calls)
    assert child.steps[2].tool_results[0].content == "card declined"
    assert charged == [1, 2, 3, 4, 5, 4, 5]  # only the fork's own steps 4 and 5 charged
    assert seen[0] == ["charged #1", "charged #2", "card declined"]  # the model's first view
    assert child.text == "done after charged #5"
    assert len(child.steps) == 6

    record = await store.load_run(child.run_id)
    assert record.snapshot.parent_run_id == parent.run_id
    assert record.snapshot.forked_at == 3
    parent_record = await store.load_run(parent.run_id)
    assert parent_record.steps == list(parent.steps)  # the parent is unchanged
    await store.aclose()


async def test_fork_with_a_prompt_and_another_model_from_step_0_and_the_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "runs.db"
    store = SQLiteStore(path)
    parent = await gai.generate_text(
        gai.ScriptedModel(["first answer"]), prompt="hello", run_store=store
    )
    cheaper = gai.ScriptedModel(["second answer"], name="cheaper")
    child = await gai.fork(parent.run_id, at_step=1, store=store, model=cheaper, prompt="and now?")
    assert child.text == "second answer"
    assert [m.text for m in cheaper.requests[0].messages] == ["hello", "first answer", "and now?"]
    again = await gai.fork(
        parent.run_id, at_step=0, store=store, model=gai.ScriptedModel(["third"])
    )
    assert again.text == "third"
    assert len(again.steps) == 1
    grandchild = await gai.fork(child.run_id, at_step=2, store=store, model=gai.ScriptedModel([]))
    assert grandchild.text == "second answer"  # its last step already ended the run
    await store.aclose()

    assert main(["runs", "tree", grandchild.run_id, "--store", str(path)]) == 0
    tree = capsys.readouterr().out.splitlines()
    # Each run under its parent, in the order they were made; the one asked for starred.
    assert [line.split()[0] for line in tree] == [
        parent.run_id,
        child.run_id,
        grandchild.run_id,
        again.run_id,
    ]
    assert [len(line) - len(line.lstrip()) for line in tree] == [0, 2, 4, 2]
    assert tree[2].endswith("forked after step 2 *")
    assert main(["runs", "show", child.run_id, "--store", str(path)]) == 0
    assert f"forked from {parent.run_id} after step 1" in capsys.readouterr().out


async def test_fork_errors(tmp_path: Path):
    store = SQLiteStore(tmp_path / "runs.db")
    parent = await gai.generate_text(gai.ScriptedModel(["hi"]), prompt="hello", run_store=store)
    with pytest.raises(UserError, match="at_step must be a step number from 0 to 1"):
        await gai.fork(parent.run_id, at_step=4, store=store)
    with pytest.raises(UserError, match="tool_results names call"):
        await gai.fork(parent.run_id, at_step=1, store=store, tool_results={"nope": 1})
    with pytest.raises(RunNotFoundError):
        await gai.fork("missing", at_step=0, store=store)
    with pytest.raises(UserError, match="store must be the run store"):
        await gai.fork(parent.run_id, at_step=0, store="runs.db")  # type: ignore[arg-type]
    await store.aclose()
