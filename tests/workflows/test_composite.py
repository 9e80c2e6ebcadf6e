"""`CompositeWorkflow`: dependencies, concurrency, failure policies, reuse from a store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from gai.errors import DependencyCycleError, InvalidRequestError, WorkflowError
from gai.models import FunctionModel
from gai.store import MemoryStore, SQLiteStore
from gai.types import Message, ToolDefinition
from gai.workflows import CompositeWorkflow, TemplateStep, WorkflowNode, WorkflowTemplate


def node(name: str, prompt: str, *depends_on: str) -> WorkflowNode:
    template = WorkflowTemplate(name=name, steps=[TemplateStep(name="only", user_prompt=prompt)])
    return WorkflowNode(template, depends_on=depends_on)


class Recorder:
    """A model that answers `done: <prompt>`, after a pause, tracking concurrency."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.prompts: list[str] = []
        self.in_flight = 0
        self.peak = 0
        self.fail_on = fail_on
        self.model = FunctionModel(self.answer)

    async def answer(self, messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> str:
        prompt = messages[-1].text
        self.prompts.append(prompt)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if self.fail_on and self.fail_on in prompt:
            raise InvalidRequestError("boom", provider="fake", status=400)
        return f"done: {prompt}"


def diamond() -> list[WorkflowNode]:
    return [
        node("gather", "gather {{ topic }}"),
        node("left", "left of {{ gather_result }}", "gather"),
        node("right", "right of {{ gather_result }}", "gather"),
        node("merge", "merge {{ left_result }} + {{ right_result }}", "left", "right"),
    ]


async def test_dependencies_feed_results_and_independent_workflows_run_concurrently():
    recorder = Recorder()
    result = await CompositeWorkflow("d", diamond()).run(recorder.model, {"topic": "tea"})
    assert result.ok
    assert list(result.results) == ["gather", "left", "right", "merge"]
    assert recorder.prompts[0] == "gather tea"
    assert set(recorder.prompts[1:3]) == {"left of done: gather tea", "right of done: gather tea"}
    assert recorder.prompts[3].startswith("merge done: left of")
    assert recorder.peak == 2


async def test_concurrency_is_bounded():
    recorder = Recorder()
    nodes = [node(f"w{i}", f"job {i}") for i in range(6)]
    await CompositeWorkflow("b", nodes, max_concurrency=2).run(recorder.model)
    assert len(recorder.prompts) == 6
    assert recorder.peak == 2


def test_a_cycle_is_rejected_naming_it():
    nodes = [node("a", "x", "c"), node("b", "x", "a"), node("c", "x", "b"), node("d", "x")]
    with pytest.raises(DependencyCycleError) as info:
        CompositeWorkflow("c", nodes)
    assert info.value.cycle == ["a", "c", "b", "a"]
    assert "a -> c -> b -> a" in str(info.value)


def test_unknown_dependencies_and_duplicate_names_are_rejected():
    with pytest.raises(WorkflowError, match="'a' depends on unknown workflows: ghost"):
        CompositeWorkflow("u", [node("a", "x", "ghost")])
    with pytest.raises(WorkflowError, match="same name"):
        CompositeWorkflow("u", [node("a", "x"), node("a", "y")])


async def test_fail_fast_raises_the_first_error():
    recorder = Recorder(fail_on="left")
    with pytest.raises(InvalidRequestError):
        await CompositeWorkflow("f", diamond()).run(recorder.model, {"topic": "tea"})
    assert not any(p.startswith("merge") for p in recorder.prompts)


async def test_continue_finishes_independent_branches_and_reports_failures():
    recorder = Recorder(fail_on="left")
    nodes = [*diamond(), node("solo", "solo work")]
    composite = CompositeWorkflow("f", nodes, failure="continue")
    result = await composite.run(recorder.model, {"topic": "tea"})
    assert not result.ok
    assert set(result.results) == {"gather", "right", "solo"}
    assert list(result.failed) == ["left"]
    assert "InvalidRequestError" in result.failed["left"]
    assert result.skipped == ["merge"]


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
async def test_a_rerun_reuses_workflows_already_completed(tmp_path, store_kind):
    store = MemoryStore() if store_kind == "memory" else SQLiteStore(tmp_path / "runs.db")
    first = Recorder(fail_on="merge")
    composite = CompositeWorkflow("r", diamond(), failure="continue", state=store)
    result = await composite.run(first.model, {"topic": "tea"})
    assert result.failed.keys() == {"merge"}

    second = Recorder()
    result = await composite.run(second.model, {"topic": "tea"})
    assert result.ok
    assert sorted(result.reused) == ["gather", "left", "right"]
    assert [p[:5] for p in second.prompts] == ["merge"]
    assert result.results["merge"].text.startswith("done: merge done: left of done: gather tea")
