"""The seed's hierarchical task decomposition, over a task tree that cannot be corrupted.

The model breaks a project into subtasks, assigns resources, sets dependencies and
completes tasks; a mistake (an unknown parent, completing a blocked task) comes back
to it as a tool error instead of crashing the run.
"""

from __future__ import annotations

import asyncio

from _shared import pick_model

import gai
from gai.workflows import TaskTree

PLAN = [
    [("create_subtask", {"title": "Launch website"})],
    [
        ("create_subtask", {"title": "Design", "parent": "T1"}),
        ("create_subtask", {"title": "Build", "parent": "T1"}),
        ("create_subtask", {"title": "Content", "parent": "T9"}),  # a mistake: no T9
    ],
    [
        ("create_subtask", {"title": "Content", "parent": "T1"}),
        ("assign_resources", {"task_id": "T2", "resources": ["designer"]}),
        ("assign_resources", {"task_id": "T3", "resources": ["2 engineers"]}),
        ("set_dependencies", {"task_id": "T3", "depends_on": ["T2"]}),
    ],
    [("mark_complete", {"task_id": "T3"})],  # blocked: Design is not done
    [("mark_complete", {"task_id": "T2"}), ("escalate", {"task_id": "T4", "reason": "no writer"})],
    [("get_hierarchy", {})],
]


def offline(messages, tools) -> gai.ModelResponse | str:
    """Follows the plan above, one batch of calls per step."""
    step = sum(1 for m in messages if m.role == "assistant")
    if step >= len(PLAN):
        return "Plan in place; content is escalated."
    return gai.ModelResponse(
        tool_calls=tuple(gai.ToolCall(name=n, arguments=a) for n, a in PLAN[step])
    )


async def main() -> None:
    tree = TaskTree()
    result = await gai.generate_text(
        pick_model(gai.models.FunctionModel(offline, name="offline:planner")),
        system="Decompose the project into a task tree with the task tools.",
        prompt="Plan the website launch.",
        tools=tree.tools(),
        stop_when=gai.MaxSteps(12),
    )
    for step in result.steps:
        for r in step.tool_results:
            if not r.ok:
                print(f"step {step.step_number}: {r.name} refused: {r.error}")
    print(tree.render())
    print(f"progress: {tree.progress:.0%}; answer: {result.text}")


if __name__ == "__main__":
    asyncio.run(main())
