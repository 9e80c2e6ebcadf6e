"""The DBOS workflows a worker runs: a `generate_text` run and a workflow template."""

from __future__ import annotations

import dataclasses
from typing import Any

from dbos import DBOS

from gai._registry import resolve_model
from gai.durable._steps import DurableModel, DurableTools
from gai.durable.spec import RunJob, TemplateJob
from gai.engine._hooks import TOOL_HOOKS
from gai.engine._loop import wrap_model
from gai.tools import ToolRegistry
from gai.types import TextResult

__all__ = ["RUN_WORKFLOW", "TEMPLATE_WORKFLOW", "set_registry"]

RUN_WORKFLOW = "gai.run"
TEMPLATE_WORKFLOW = "gai.template"

_REGISTRY = ToolRegistry()


def set_registry(registry: ToolRegistry) -> None:
    """Tools the workflows of this process resolve names against (set by `Worker`)."""
    global _REGISTRY
    _REGISTRY = registry


def _durable_model(model: str, options: dict[str, Any]) -> tuple[DurableModel, dict[str, Any]]:
    # Retries and the per-call timeout go inside the model step (see DurableModel), so
    # the engine itself gets neither.
    from gai.resilience.timeout import Timeouts

    options = dict(options)
    timeout = options.get("timeout")
    model_call = None
    if isinstance(timeout, Timeouts) and timeout.model_call is not None:
        model_call = timeout.model_call
        options["timeout"] = dataclasses.replace(timeout, model_call=None)
    wrapped = wrap_model(resolve_model(model), options.pop("retry", None), model_call)
    options["retry"] = False
    return DurableModel(wrapped), options


@DBOS.workflow(name=RUN_WORKFLOW)
async def run_workflow(job: RunJob) -> TextResult:
    """Run one submitted `generate_text` job; its id is the workflow's id."""
    from gai.engine.run import generate_text
    from gai.store import open_store

    model, options = _durable_model(job.model, job.options)
    run_id = DBOS.workflow_id
    store = None
    if job.store is not None:
        store = await open_store(job.store)
        # A recovered run records itself again from the start: its replayed steps
        # come back from DBOS, so the mirror ends up complete rather than doubled.
        await store.delete_run(str(run_id))
    token = TOOL_HOOKS.set(DurableTools())
    try:
        return await generate_text(
            model,
            messages=job.messages,
            prompt=job.prompt,
            system=job.system,
            tools=_REGISTRY.resolve(job.tools),
            run_id=run_id,
            run_store=store,
            **options,
        )
    finally:
        TOOL_HOOKS.reset(token)
        if store is not None:
            await store.aclose()


@DBOS.workflow(name=TEMPLATE_WORKFLOW)
async def template_workflow(job: TemplateJob) -> Any:
    """Run one submitted workflow template, every step's calls durable."""
    from gai.workflows.template import WorkflowTemplate

    model, options = _durable_model(job.model, job.options)
    template = WorkflowTemplate.model_validate(job.template)
    token = TOOL_HOOKS.set(DurableTools())
    try:
        return await template.run(model, job.variables, registry=_REGISTRY, **options)
    finally:
        TOOL_HOOKS.reset(token)
