"""`CompositeWorkflow`: templates wired by dependencies, independent ones run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gai.errors import DependencyCycleError, GaiError, WorkflowError
from gai.providers.base import Model
from gai.store.base import StateStorage
from gai.store.records import WorkflowState
from gai.tools import ToolRegistry
from gai.workflows.template import TemplateResult, WorkflowTemplate

__all__ = ["CompositeResult", "CompositeWorkflow", "WorkflowNode"]


@dataclass(frozen=True, slots=True)
class WorkflowNode:
    """A template in a composition, with the workflows it waits for."""

    template: WorkflowTemplate
    depends_on: Sequence[str] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The template's name."""
        return self.template.name


@dataclass
class CompositeResult:
    """Each workflow's result, and which ones failed or were skipped."""

    results: dict[str, TemplateResult]
    failed: dict[str, str]
    """Workflow name -> error, for workflows that failed."""
    skipped: list[str]
    """Workflows not run because something they depend on failed."""
    reused: list[str]
    """Workflows not run again because the state store had their result."""

    @property
    def ok(self) -> bool:
        """Whether every workflow completed."""
        return not self.failed and not self.skipped


class CompositeWorkflow:
    """Templates plus dependencies, run as a graph.

    A workflow starts once everything it depends on has finished, and receives each
    dependency's final answer as the variable `<dependency>_result`. Independent
    workflows run concurrently (at most `max_concurrency` at once). With
    `failure="fail_fast"` the first failure cancels the rest and is raised; with
    `"continue"` the independent branches finish and the result reports what failed and
    what was skipped. With a `state` store, completed workflows are saved under
    `<name>/<workflow>` and a re-run reuses them instead of running them again.

    Args:
        name: Name of the composition (the state-store key prefix).
        nodes: The workflows.
        max_concurrency: Workflows running at once at most.
        failure: "fail_fast" or "continue".
        state: Where completed workflows are remembered between runs.

    Raises:
        DependencyCycleError: The dependencies form a cycle (named in the message).
        WorkflowError: A dependency names no workflow of the composition.
    """

    def __init__(
        self,
        name: str,
        nodes: Sequence[WorkflowNode],
        *,
        max_concurrency: int = 4,
        failure: Literal["fail_fast", "continue"] = "fail_fast",
        state: StateStorage | None = None,
    ) -> None:
        self.name = name
        self.nodes = {n.name: n for n in nodes}
        if len(self.nodes) != len(nodes):
            raise WorkflowError(f"Composite {name!r} has two workflows with the same name.")
        for node in nodes:
            unknown = [d for d in node.depends_on if d not in self.nodes]
            if unknown:
                raise WorkflowError(
                    f"Workflow {node.name!r} depends on unknown workflows: {', '.join(unknown)}."
                )
        self.order = self._topological_order()
        self.max_concurrency = max_concurrency
        self.failure = failure
        self.state = state

    def _topological_order(self) -> list[str]:
        order: list[str] = []
        marks: dict[str, str] = {}
        path: list[str] = []

        def visit(name: str) -> None:
            if marks.get(name) == "done":
                return
            if marks.get(name) == "active":
                start = path.index(name)
                raise DependencyCycleError([*path[start:], name])
            marks[name] = "active"
            path.append(name)
            for dep in self.nodes[name].depends_on:
                visit(dep)
            path.pop()
            marks[name] = "done"
            order.append(name)

        for name in self.nodes:
            visit(name)
        return order

    async def run(
        self,
        model: Model | str,
        variables: Mapping[str, Any] | None = None,
        *,
        registry: ToolRegistry | None = None,
        **options: Any,
    ) -> CompositeResult:
        """Run the graph.

        Raises:
            GaiError: With failure="fail_fast", the first workflow's error. Workflows
                completed before it are in the state store, when there is one.
        """
        results: dict[str, TemplateResult] = {}
        failed: dict[str, str] = {}
        skipped: list[str] = []
        reused: list[str] = []
        finished: dict[str, asyncio.Event] = {name: asyncio.Event() for name in self.nodes}
        slots = asyncio.Semaphore(self.max_concurrency)

        async def one(name: str) -> None:
            node = self.nodes[name]
            try:
                for dep in node.depends_on:
                    await finished[dep].wait()
                if any(dep in failed or dep in skipped for dep in node.depends_on):
                    skipped.append(name)
                    return
                stored = await self._stored(name)
                if stored is not None:
                    results[name] = stored
                    reused.append(name)
                    return
                inputs = {
                    **(variables or {}),
                    **node.variables,
                    **{f"{dep}_result": results[dep].text for dep in node.depends_on},
                }
                async with slots:
                    try:
                        result = await node.template.run(
                            model, inputs, registry=registry, **options
                        )
                    except GaiError as exc:
                        failed[name] = f"{type(exc).__name__}: {exc}"
                        if self.failure == "fail_fast":
                            raise
                        return
                results[name] = result
                await self._remember(name, result)
            finally:
                finished[name].set()

        try:
            async with asyncio.TaskGroup() as group:
                for name in self.order:
                    group.create_task(one(name))
        except BaseExceptionGroup as errors:
            # The first failure cancels the rest; it, not the group, is what callers catch.
            raise errors.exceptions[0] from None
        ordered = {n: results[n] for n in self.order if n in results}
        return CompositeResult(ordered, failed, skipped, reused)

    async def _stored(self, name: str) -> TemplateResult | None:
        if self.state is None:
            return None
        saved = await self.state.load(f"{self.name}/{name}")
        if saved is None or saved.phase != "completed":
            return None
        return TemplateResult.model_validate(saved.data["result"])

    async def _remember(self, name: str, result: TemplateResult) -> None:
        if self.state is None:
            return
        state = WorkflowState(
            phase="completed", progress=1.0, data={"result": result.model_dump(mode="json")}
        )
        await self.state.save(f"{self.name}/{name}", state)
