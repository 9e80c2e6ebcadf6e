"""The DBOS workflows a worker runs: a `generate_text` run, a template, a function."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dbos import DBOS

from gai.control.cancel import StopToken
from gai.durable._cancel import watch_cancel
from gai.durable._journal import journal_store
from gai.durable._steps import DurableScope
from gai.durable.spec import CallJob, RunJob, TemplateJob
from gai.engine.hooks import MODEL_HOOK, TOOL_HOOKS
from gai.errors import RunExistsError, UserError
from gai.tools import ToolRegistry
from gai.types import TextResult

__all__ = ["CALL_WORKFLOW", "RUN_WORKFLOW", "TEMPLATE_WORKFLOW", "registry", "set_registry"]

RUN_WORKFLOW = "gai.run"
TEMPLATE_WORKFLOW = "gai.template"
CALL_WORKFLOW = "gai.call"

T = TypeVar("T")

_REGISTRY = ToolRegistry()


def set_registry(tools: ToolRegistry) -> None:
    """Tools the workflows of this process resolve names against (set by `Worker`)."""
    global _REGISTRY
    _REGISTRY = tools


def registry() -> ToolRegistry:
    """The tools of this worker process, for durable functions that name tools."""
    return _REGISTRY


async def _durably(body: Callable[[], Awaitable[T]]) -> T:
    # Every gai run `body` makes takes its model and tool calls as steps of this workflow.
    scope = DurableScope()
    model_token = MODEL_HOOK.set(scope.wrap)
    tools_token = TOOL_HOOKS.set(scope.tools)
    try:
        return await body()
    finally:
        TOOL_HOOKS.reset(tools_token)
        MODEL_HOOK.reset(model_token)


@DBOS.workflow(name=RUN_WORKFLOW)
async def run_workflow(job: RunJob) -> TextResult:
    """Run one submitted `generate_text` job; its id is the workflow's id.

    The run is journaled in a gai run store, not as DBOS steps: each model answer and
    tool call is written once to the store's log (a few transactions a turn, batched
    with other runs' writes), where DBOS would make two database trips per call. A
    workflow DBOS runs again after a crash finds its run in the store and resumes it:
    no recorded model call is made again, and a tool call that began but has no
    recorded result is repeated only if the tool is idempotent (`gai.resume`).
    """
    from gai.engine.resuming import resume
    from gai.engine.run import generate_text

    run_id = str(DBOS.workflow_id)
    store = await journal_store(job.store)
    tools = _REGISTRY.resolve(job.tools)
    stop = StopToken()
    unwatch = watch_cancel(run_id, stop)
    options = {**job.options, "stop_token": stop}
    try:
        return await generate_text(
            job.model,
            messages=job.messages,
            prompt=job.prompt,
            system=job.system,
            tools=tools,
            run_id=run_id,
            run_store=store,
            **options,
        )
    except RunExistsError:
        # A recovered workflow: its first execution recorded the run.
        return await resume(run_id, store=store, model=job.model, tools=tools, **options)
    finally:
        unwatch()


@DBOS.workflow(name=TEMPLATE_WORKFLOW)
async def template_workflow(job: TemplateJob) -> Any:
    """Run one submitted workflow template, every step's calls durable."""
    from gai.workflows.template import WorkflowTemplate

    template = WorkflowTemplate.model_validate(job.template)
    return await _durably(
        lambda: template.run(job.model, job.variables, registry=_REGISTRY, **job.options)
    )


def load_function(path: str) -> Callable[..., Awaitable[Any]]:
    """The async function "module:qualified.name" names.

    Raises:
        UserError: It cannot be imported or is not an async function.
    """
    module_name, _, qualname = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"Cannot load durable function {path!r}: {exc}") from exc
    if not inspect.iscoroutinefunction(found):
        raise UserError(f"Durable function {path!r} must be an async function (async def).")
    return found  # type: ignore[no-any-return]


@DBOS.workflow(name=CALL_WORKFLOW)
async def call_workflow(job: CallJob) -> Any:
    """Run a submitted async function: every gai run it makes is durable."""
    function = load_function(job.function)
    return await _durably(lambda: function(*job.args, **job.kwargs))
