"""Submit durable runs onto a queue and follow them: `DurableClient` and `DurableHandle`."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from dbos import DBOS, DBOSClient
from dbos import error as dbos_error

from gai._ids import new_run_id
from gai.durable._database import prepare_database
from gai.durable._enqueue import EnqueueBatcher
from gai.durable._portable import ensure_portable
from gai.durable._results import ResultWatch
from gai.durable._workflows import CALL_WORKFLOW, RUN_WORKFLOW, TEMPLATE_WORKFLOW, load_function
from gai.durable.spec import CallJob, RunJob, TemplateJob
from gai.errors import NotPortableError, RunExistsError, RunNotFoundError, UserError
from gai.tools import Tool, ToolRegistry
from gai.types import Message

__all__ = ["DurableClient", "DurableHandle", "DurableState", "DurableStatus"]

DurableState: TypeAlias = Literal["queued", "running", "succeeded", "failed", "cancelled"]

_STATES: dict[str, DurableState] = {
    "ENQUEUED": "queued",
    "DELAYED": "queued",
    "PENDING": "running",
    "SUCCESS": "succeeded",
    "ERROR": "failed",
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED": "failed",
    "CANCELLED": "cancelled",
}

# In-process only: they hold connections, threads or per-process state.
_NOT_PORTABLE = {
    "run_store": "pass store='sqlite:///...' (a URL the worker opens) instead",
    "observers": "instrument the worker process (gai.observe.instrument) instead",
    "stop_token": "cancel through the handle (DurableHandle.cancel) instead",
    "run_id": "pass run_id= to submit, it names the durable run",
}


def _timestamp(ms: int | None) -> dt.datetime | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


@dataclass(frozen=True, slots=True)
class DurableStatus:
    """Where a durable run is."""

    run_id: str
    state: DurableState
    queue: str | None
    worker: str | None
    """Executor id of the worker running (or that ran) it."""
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    """When a worker last took it from the queue (the database's clock)."""
    updated_at: dt.datetime | None
    recovery_attempts: int
    """How many times the run was started, recoveries included."""


class DurableHandle:
    """A submitted run: poll its status, await its result, cancel it."""

    def __init__(self, client: DurableClient, run_id: str, *, submitted: bool = False) -> None:
        self._client = client
        self.run_id = run_id
        # A handle `submit` returned names a run that exists: waiting on it need not ask.
        self._exists = submitted

    def __repr__(self) -> str:
        return f"DurableHandle(run_id={self.run_id!r})"

    async def status(self) -> DurableStatus:
        """The run's current state.

        Raises:
            RunNotFoundError: No durable run has this id.
        """
        dbos = await self._client._ready()
        try:
            handle: Any = await dbos.retrieve_workflow_async(self.run_id)
            info = await handle.get_status()
        except dbos_error.DBOSNonExistentWorkflowError:
            raise RunNotFoundError(f"No durable run {self.run_id!r} in this database.") from None
        return DurableStatus(
            run_id=self.run_id,
            state=_STATES.get(str(info.status), "running"),
            queue=info.queue_name,
            worker=info.executor_id,
            created_at=_timestamp(info.created_at),
            started_at=_timestamp(getattr(info, "dequeued_at", None)),
            updated_at=_timestamp(info.updated_at),
            recovery_attempts=int(info.recovery_attempts or 0),
        )

    async def result(self, timeout: float | None = None) -> Any:  # noqa: ASYNC109 - polls the database
        """Wait for the run to finish and return what it returned.

        A `generate_text` job returns its `TextResult`, a template job its
        `TemplateResult`. A run that failed raises its error here (with
        `partial_result` when it had one).

        Args:
            timeout: Seconds to wait; None waits as long as it takes.

        Raises:
            TimeoutError: The run did not finish within `timeout`.
            RunCancelledError: The run was cancelled.
            RunNotFoundError: No durable run has this id.
        """
        dbos = await self._client._ready()
        if not self._exists:
            try:
                await dbos.retrieve_workflow_async(self.run_id)
            except dbos_error.DBOSNonExistentWorkflowError:
                raise RunNotFoundError(
                    f"No durable run {self.run_id!r} in this database."
                ) from None
            self._exists = True
        results = self._client._results
        results.poll_interval = self._client.poll_interval
        async with asyncio.timeout(timeout):
            return await results.wait(dbos, self.run_id)

    async def cancel(self) -> None:
        """Cancel the run: a queued run never starts, a running one stops at its next step."""
        await (await self._client._ready()).cancel_workflow_async(self.run_id)


class DurableClient:
    """Submits runs to the workers sharing a DBOS system database.

    The client only talks to the database: no workflow runs in its process. Runs are
    picked up by `gai worker` processes (or `Worker`) listening on the queue.

    Args:
        database_url: The DBOS system database: `postgresql://...` for workers on many
            machines, `sqlite:///path.db` for workers on one.
        poll_interval: Seconds between checks while waiting for a result.
    """

    def __init__(self, database_url: str, *, poll_interval: float = 0.1) -> None:
        self.database_url = database_url
        self.poll_interval = poll_interval
        self._client: DBOSClient | None = None
        self._batcher: EnqueueBatcher | None = None
        self._connecting = asyncio.Lock()
        self._results = ResultWatch(poll_interval)

    def _connect(self) -> DBOSClient:
        # The client itself never migrates, and the first worker may not have started.
        prepare_database(self.database_url)
        DBOS.migrate(self.database_url)
        client = DBOSClient(system_database_url=self.database_url)
        self._batcher = EnqueueBatcher(client, self.database_url)
        return client

    async def _ready(self) -> DBOSClient:
        if self._client is None:
            async with self._connecting:
                if self._client is None:
                    self._client = await asyncio.to_thread(self._connect)
        return self._client

    async def __aenter__(self) -> DurableClient:
        await self._ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the database connections."""
        if self._client is not None:
            client, self._client = self._client, None
            batcher, self._batcher = self._batcher, None
            if batcher is not None:
                await asyncio.to_thread(batcher.close)
            await asyncio.to_thread(client.destroy)

    async def create_queue(
        self,
        name: str,
        *,
        concurrency: int | None = None,
        worker_concurrency: int | None = None,
        rate_limit: tuple[int, float] | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        """Create or reconfigure a queue; the limits live in the database for every worker.

        Args:
            name: The queue's name, as workers and `submit` call it.
            concurrency: Most runs of this queue running at once, across all workers.
            worker_concurrency: Most runs of this queue running at once in one worker.
            rate_limit: At most `limit` runs start in any `period` seconds: (limit, period).
            poll_interval: Seconds between each worker's looks at the queue for runs to
                start. Each look is a few queries (a worker on PostgreSQL spends about
                5 ms of CPU on one), so a longer interval costs less while the queue is
                idle and starts runs later.
        """
        client = await self._ready()
        limiter = None if rate_limit is None else {"limit": rate_limit[0], "period": rate_limit[1]}
        await client.register_queue_async(
            name,
            global_concurrency=concurrency,
            worker_concurrency=worker_concurrency,
            limiter=limiter,  # type: ignore[arg-type]
            polling_interval_sec=poll_interval,
        )

    async def queue_counts(self, queue: str) -> dict[DurableState, int]:
        """How many runs of `queue` are in each state (every state present, 0 when none).

        A cancelled run leaves its queue, so it is not counted here.
        """
        client = await self._ready()
        rows = await client.list_workflows_async(
            queue_name=queue, load_input=False, load_output=False
        )
        counts: dict[DurableState, int] = dict.fromkeys(_STATES.values(), 0)
        for row in rows:
            counts[_STATES.get(str(row.status), "running")] += 1
        return counts

    def handle(self, run_id: str) -> DurableHandle:
        """A handle on a run submitted earlier (by any process)."""
        return DurableHandle(self, run_id)

    async def _enqueue(
        self, queue: str, workflow: str, run_id: str | None, job: Any
    ) -> DurableHandle:
        await self._ready()
        assert self._batcher is not None
        run_id = run_id or new_run_id()
        # A run id already in use attaches to that run: submitting twice runs once.
        try:
            await self._batcher.enqueue(
                {"queue_name": queue, "workflow_name": workflow, "workflow_id": run_id}, job
            )
        except dbos_error.DBOSConflictingWorkflowError:
            raise RunExistsError(
                f"Run id {run_id!r} is taken by another kind of durable run (a run, a "
                f"template or a function call); submit this one under another run_id."
            ) from None
        return DurableHandle(self, run_id, submitted=True)

    async def submit(
        self,
        queue: str,
        model: str,
        *,
        prompt: str | None = None,
        messages: Sequence[Message] = (),
        system: str | None = None,
        tools: Sequence[str | Tool] = (),
        run_id: str | None = None,
        store: str | None = None,
        registry: ToolRegistry | None = None,
        **options: Any,
    ) -> DurableHandle:
        """Queue a `generate_text` run for the workers; returns at once.

        Args:
            queue: The queue's name.
            model: A "provider:model" string; the worker resolves it with its own keys.
            prompt: Shortcut for a single user message.
            messages: The conversation to start from.
            system: System prompt.
            tools: Tool names (or tools, sent by name) from the workers' registry.
            run_id: Names the run; submitting the same id again returns the same run.
            store: URL of the run store the worker journals the run in (default: its own,
                in or beside the DBOS database); `gai runs` reads it there.
            registry: When given, tool names are checked against it now.
            **options: More `generate_text` options (stop_when, budget, settings, ...).

        Raises:
            NotPortableError: An option cannot be sent to a worker (a lambda as stop
                condition, a run store object, a function from `__main__`...).
        """
        if not isinstance(model, str):
            raise NotPortableError(
                f"model must be a 'provider:model' string for a durable run, got a "
                f"{type(model).__name__}; the worker builds the model with its own keys."
            )
        names = tuple(t if isinstance(t, str) else t.name for t in tools)
        if registry is not None:
            unknown = [n for n in names if n not in registry]
            if unknown:
                raise UserError(
                    f"Unknown tools {unknown}; the registry has {sorted(t.name for t in registry)}."
                )
        job = RunJob(
            model=model,
            messages=tuple(messages),
            prompt=prompt,
            system=system,
            tools=names,
            store=store,
            options=portable_options(options),
        )
        return await self._enqueue(queue, RUN_WORKFLOW, run_id, job)

    async def submit_template(
        self,
        queue: str,
        template: Any,
        variables: Mapping[str, Any] | None = None,
        *,
        model: str,
        run_id: str | None = None,
        registry: ToolRegistry | None = None,
        **options: Any,
    ) -> DurableHandle:
        """Queue a workflow template run (a `WorkflowTemplate` or its file's path).

        Missing variables (and, with `registry`, unknown tools) are reported now, not
        by the worker.

        Raises:
            MissingVariablesError: Variables are missing.
            NotPortableError: An option cannot be sent to a worker.
        """
        from gai.workflows.template import WorkflowTemplate

        if isinstance(template, (str, Path)):
            template = WorkflowTemplate.load(template)
        if not isinstance(template, WorkflowTemplate):
            raise UserError(
                f"template must be a WorkflowTemplate or a path, got {type(template).__name__}."
            )
        if any(step.stop_when is not None for step in template.steps):
            raise NotPortableError(
                f"Template {template.name!r} has steps with code-only stop_when conditions, "
                f"which do not travel with the template; use max_steps in the template."
            )
        if registry is None:
            template.validate_for(_AnyTools(), variables)
        else:
            template.validate_for(registry, variables)
        job = TemplateJob(
            model=model,
            template=template.model_dump(mode="json"),
            variables=dict(variables or {}),
            options=portable_options(options),
        )
        ensure_portable("variables", job.variables)
        return await self._enqueue(queue, TEMPLATE_WORKFLOW, run_id, job)

    async def submit_call(
        self,
        queue: str,
        function: Callable[..., Awaitable[Any]] | str,
        /,
        *args: Any,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> DurableHandle:
        """Queue an async function for the workers: agents, branching, your own flow.

        Every gai run the function makes (`generate_text`, `Agent.run_sequential`,
        hand-offs, templates) becomes durable: its model and tool calls are steps of
        this run. The runs must be made one at a time (await each before the next);
        overlapping ones fail with a `UserError` rather than replay wrongly.
        `gai.durable.registry()` gives the function the worker's tools.

        Args:
            queue: The queue's name.
            function: A top-level async function of a module the workers can import,
                or its path "module:qualified.name".
            *args: Its positional arguments (they must pickle).
            run_id: Names the run; submitting the same id again returns the same run.
            **kwargs: Its keyword arguments (they must pickle).

        Raises:
            NotPortableError: The function is not importable by path (a lambda, a
                closure, defined in `__main__`) or an argument cannot be sent.
        """
        path = function if isinstance(function, str) else _function_path(function)
        try:
            found = load_function(path)
        except UserError as exc:
            raise NotPortableError(exc.message) from None
        if not isinstance(function, str) and found is not function:
            raise NotPortableError(
                f"{path!r} names another object than the function given; a worker would "
                f"run that one. Submit a function defined at the top level of a module."
            )
        job = CallJob(function=path, args=tuple(args), kwargs=dict(kwargs))
        ensure_portable("args", job.args)
        ensure_portable("kwargs", job.kwargs)
        return await self._enqueue(queue, CALL_WORKFLOW, run_id, job)


def _function_path(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if module is None or module == "__main__" or "<" in qualname:
        raise NotPortableError(
            f"{qualname or function!r} cannot be found by a worker process: it is a lambda, "
            f"a closure or defined in __main__. Define it at the top level of a module the "
            f"workers can import."
        )
    return f"{module}:{qualname}"


class _AnyTools(ToolRegistry):
    # Without the workers' registry, tool names are checked by the worker.
    def __contains__(self, name: object) -> bool:
        return True


def portable_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """`options` if every one can be sent to a worker (or recorded for recovery).

    Raises:
        NotPortableError: One cannot, and why.
    """
    for key, advice in _NOT_PORTABLE.items():
        if key in options:
            raise NotPortableError(f"{key} cannot be sent to a worker process: {advice}.")
    session = options.get("session")
    if session is not None and not isinstance(getattr(session, "_store", None), str):
        raise NotPortableError(
            "session cannot be sent to a worker process with its store open (or in this "
            "process's memory): give it the store's URL, gai.Session(id, "
            "store='postgresql://...'), which the worker opens."
        )
    for key, value in options.items():
        ensure_portable(key, value)
    return dict(options)
