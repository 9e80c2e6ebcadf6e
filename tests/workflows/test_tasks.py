"""The task tree and its toolset: hierarchy, dependencies, completion, escalation."""

from __future__ import annotations

import pytest

import gai
from gai import ModelResponse, ScriptedModel, ToolCall
from gai.errors import TaskTreeError
from gai.workflows import TaskTree


def test_tasks_nest_with_levels_and_an_unknown_parent_is_an_error():
    tree = TaskTree()
    root = tree.create("Launch product")
    design = tree.create("Design", parent=root.id)
    mock = tree.create("Mock-ups", parent=design.id)
    tree.create("Marketing", parent=root.id)
    assert [(t.id, t.level) for t in tree.hierarchy()] == [
        ("T1", 0),
        ("T2", 1),
        ("T3", 2),
        ("T4", 1),
    ]
    assert mock.level == 2
    with pytest.raises(TaskTreeError, match="No task 'T9'"):
        tree.create("orphan", parent="T9")
    assert len(tree.tasks) == 4


def test_dependency_cycles_are_rejected():
    tree = TaskTree()
    a, b, c = (tree.create(n) for n in "abc")
    tree.add_dependency(b.id, a.id)
    tree.add_dependency(c.id, b.id)
    with pytest.raises(TaskTreeError, match="cycle"):
        tree.add_dependency(a.id, c.id)
    with pytest.raises(TaskTreeError, match="cycle"):
        tree.add_dependency(a.id, a.id)
    assert a.depends_on == []


def test_completion_waits_for_dependencies_and_subtasks():
    tree = TaskTree()
    parent = tree.create("parent")
    child = tree.create("child", parent=parent.id)
    other = tree.create("other")
    tree.add_dependency(other.id, child.id)
    with pytest.raises(TaskTreeError, match="waits for T2"):
        tree.complete(other.id)
    with pytest.raises(TaskTreeError, match="waits for T2"):
        tree.complete(parent.id)
    tree.complete(child.id)
    tree.complete(parent.id)
    assert tree.progress == pytest.approx(2 / 3)
    tree.escalate(other.id, "no budget")
    assert other.status == "escalated"
    assert other.escalation == "no budget"


async def test_a_model_manages_the_tree_through_the_toolset():
    tree = TaskTree()

    def call(name, **arguments):
        return ToolCall(name=name, arguments=arguments)

    model = ScriptedModel(
        [
            ModelResponse(tool_calls=(call("create_subtask", title="Plan trip"),)),
            ModelResponse(
                tool_calls=(
                    call("create_subtask", title="Book flights", parent="T1"),
                    call("create_subtask", title="Ghost", parent="T7"),
                )
            ),
            ModelResponse(
                tool_calls=(
                    call("create_subtask", title="Book hotel", parent="T1"),
                    call("assign_resources", task_id="T2", resources=["travel desk"]),
                )
            ),
            ModelResponse(tool_calls=(call("set_dependencies", task_id="T3", depends_on=["T2"]),)),
            ModelResponse(tool_calls=(call("mark_complete", task_id="T3"),)),
            ModelResponse(tool_calls=(call("mark_complete", task_id="T2"), call("get_hierarchy"))),
            "planned",
        ]
    )
    result = await gai.generate_text(
        model, prompt="plan", tools=tree.tools(), stop_when=gai.MaxSteps(10)
    )
    outputs = [r.content for s in result.steps for r in s.tool_results if r.ok]
    errors = [r.error for s in result.steps for r in s.tool_results if r.error]
    assert len(errors) == 2
    assert "No task 'T7'" in errors[0]
    assert "T3 waits for T2" in errors[1]
    assert tree.render() == (
        "- T1 Plan trip: open\n"
        "  - T2 Book flights: done [travel desk]\n"
        "  - T3 Book hotel: open (after T2)"
    )
    assert outputs[0] == "created T1 (level 0)"
    assert outputs[-1] == tree.render()
    assert result.text == "planned"
