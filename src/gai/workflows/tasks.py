"""Hierarchical task decomposition: a task tree and the tools a model manages it with.

The tree rejects what would corrupt it (an unknown parent, a dependency cycle, completing
a task whose dependencies are open) with a `TaskTreeError`; as a tool, that error is what
the model reads, so it can correct itself.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

from gai.errors import TaskTreeError
from gai.tools import Tool

__all__ = ["Task", "TaskStatus", "TaskTree"]

TaskStatus = Literal["open", "done", "escalated"]


@dataclass
class Task:
    """One task of the tree."""

    id: str
    title: str
    parent: str | None
    level: int
    """0 for a root task, parent's level + 1 below it."""
    status: TaskStatus = "open"
    resources: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    escalation: str | None = None
    """Why the task was escalated."""


class TaskTree:
    """Tasks with parents, dependencies, resources and status."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self._ids = itertools.count(1)

    def _get(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            known = ", ".join(self.tasks) or "none yet"
            raise TaskTreeError(f"No task {task_id!r} (known tasks: {known}).")
        return task

    def create(self, title: str, parent: str | None = None) -> Task:
        """Add a task, under `parent` when given; returns it (its id is `T<n>`).

        Raises:
            TaskTreeError: `parent` is not a task of the tree.
        """
        level = self._get(parent).level + 1 if parent is not None else 0
        task = Task(id=f"T{next(self._ids)}", title=title, parent=parent, level=level)
        self.tasks[task.id] = task
        return task

    def assign(self, task_id: str, resources: list[str]) -> Task:
        """Add resources (people, tools, budget lines) to a task."""
        task = self._get(task_id)
        task.resources.extend(r for r in resources if r not in task.resources)
        return task

    def add_dependency(self, task_id: str, depends_on: str) -> Task:
        """Make `task_id` wait for `depends_on`.

        Raises:
            TaskTreeError: Either task is unknown, or the dependency closes a cycle.
        """
        task, other = self._get(task_id), self._get(depends_on)
        path = self._path(other.id, task.id)
        if path is not None:
            cycle = " -> ".join([task.id, *path])
            raise TaskTreeError(
                f"{task.id} cannot depend on {other.id}: that is a cycle ({cycle})."
            )
        if other.id not in task.depends_on:
            task.depends_on.append(other.id)
        return task

    def _path(self, start: str, goal: str) -> list[str] | None:
        """Dependency path start -> ... -> goal, if one exists."""
        if start == goal:
            return [start]
        for dep in self.tasks[start].depends_on:
            rest = self._path(dep, goal)
            if rest is not None:
                return [start, *rest]
        return None

    def complete(self, task_id: str) -> Task:
        """Mark a task done.

        Raises:
            TaskTreeError: A task it depends on, or one of its subtasks, is not done.
        """
        task = self._get(task_id)
        waiting = [d for d in task.depends_on if self.tasks[d].status != "done"]
        waiting += [t.id for t in self.children(task.id) if t.status != "done"]
        if waiting:
            raise TaskTreeError(f"{task.id} waits for {', '.join(waiting)}; complete those first.")
        task.status = "done"
        return task

    def escalate(self, task_id: str, reason: str) -> Task:
        """Flag a task for a human or a higher-level agent."""
        task = self._get(task_id)
        task.status = "escalated"
        task.escalation = reason
        return task

    def children(self, task_id: str) -> list[Task]:
        """Direct subtasks of a task."""
        return [t for t in self.tasks.values() if t.parent == task_id]

    def hierarchy(self) -> list[Task]:
        """Every task depth-first (each parent before its subtasks), with levels and status."""
        ordered: list[Task] = []

        def walk(parent: str | None) -> None:
            for task in self.tasks.values():
                if task.parent == parent:
                    ordered.append(task)
                    walk(task.id)

        walk(None)
        return ordered

    def render(self) -> str:
        """The hierarchy as an indented outline."""
        lines = []
        for t in self.hierarchy():
            extra = f" [{', '.join(t.resources)}]" if t.resources else ""
            after = f" (after {', '.join(t.depends_on)})" if t.depends_on else ""
            lines.append(f"{'  ' * t.level}- {t.id} {t.title}: {t.status}{extra}{after}")
        return "\n".join(lines)

    @property
    def progress(self) -> float:
        """Share of tasks done (0.0 with no tasks)."""
        if not self.tasks:
            return 0.0
        return sum(t.status == "done" for t in self.tasks.values()) / len(self.tasks)

    def tools(self) -> list[Tool]:
        """The task-manager toolset over this tree."""

        def create_subtask(title: str, parent: str | None = None) -> str:
            """Create a task, under `parent` (a task id) when given; returns its id."""
            task = self.create(title, parent)
            return f"created {task.id} (level {task.level})"

        def assign_resources(task_id: str, resources: list[str]) -> str:
            """Assign resources to a task."""
            return f"{task_id} resources: {', '.join(self.assign(task_id, resources).resources)}"

        def set_dependencies(task_id: str, depends_on: list[str]) -> str:
            """Make a task wait for other tasks."""
            for other in depends_on:
                self.add_dependency(task_id, other)
            return f"{task_id} depends on {', '.join(self.tasks[task_id].depends_on)}"

        def mark_complete(task_id: str) -> str:
            """Mark a task done (its dependencies and subtasks must be done)."""
            self.complete(task_id)
            return f"{task_id} done; progress {self.progress:.0%}"

        def escalate(task_id: str, reason: str) -> str:
            """Escalate a task that cannot be done as planned."""
            self.escalate(task_id, reason)
            return f"{task_id} escalated: {reason}"

        def get_hierarchy() -> str:
            """The task tree as an outline with levels and status."""
            return self.render() or "(no tasks)"

        return [
            Tool(name=fn.__name__, fn=fn)
            for fn in (
                create_subtask,
                assign_resources,
                set_dependencies,
                mark_complete,
                escalate,
                get_hierarchy,
            )
        ]
