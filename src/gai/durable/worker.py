"""`Worker`: a process that runs durable runs from one or more queues."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from typing import Any

from dbos import DBOS, DBOSConfig

from gai.durable._database import prepare_database
from gai.durable._journal import close_journals, set_journal
from gai.durable._workflows import set_registry
from gai.durable.spec import RunJob
from gai.errors import UserError
from gai.tools import ToolRegistry
from gai.types import Message, TextResult

__all__ = ["Worker"]


def _version() -> str:
    from gai._version import __version__

    return f"gai-{__version__}"


class Worker:
    """Runs the durable runs of some queues in this process, until stopped.

    DBOS keeps one instance per process, so a process holds at most one worker.
    Start as many processes as you like, on as many machines as share the database:
    each takes runs from the queues within the queues' limits. A worker that dies
    leaves its runs pending; restarted with the same `worker_id` it recovers them, and
    `adopt` lets a live worker take over those of a worker that will not come back.

    Args:
        database_url: The DBOS system database (`postgresql://...` or `sqlite:///...`).
        queues: Names of the queues to take runs from.
        tools: The tools runs may name.
        worker_id: Stable id of this worker; defaults to host name and process id.
        app_version: Runs are recovered only by workers of the same version; defaults
            to gai's version, so every worker of one gai release can recover them.
        poll_interval: Seconds between looks at the queues.
        db_threads: Threads for DBOS's database calls (and this process's
            `asyncio.to_thread` calls once DBOS runs its loop). DBOS's default is
            unbounded: a few hundred runs starting at once start a few hundred threads
            that contend for the interpreter and for the connection pool (measured:
            28-32% more CPU per `Worker.run` job, 13-14% per queued one, than with 4).
            Raise it if your durable functions block in DBOS waits (`DBOS.recv`,
            `DBOS.get_event`): each wait holds a thread.
    """

    def __init__(
        self,
        database_url: str,
        queues: Sequence[str],
        *,
        tools: ToolRegistry | None = None,
        worker_id: str | None = None,
        app_version: str | None = None,
        poll_interval: float = 0.1,
        db_threads: int = 4,
    ) -> None:
        if not queues:
            raise UserError("A worker needs at least one queue name.")
        if db_threads < 1:
            raise UserError(f"db_threads must be at least 1 (got {db_threads}).")
        self.database_url = database_url
        self.queues = list(queues)
        self.tools = tools or ToolRegistry()
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.app_version = app_version or _version()
        self.poll_interval = poll_interval
        self.db_threads = db_threads
        self._stopped = threading.Event()
        self._started = False

    def start(self) -> None:
        """Connect, recover this worker's unfinished runs, and start taking queued ones."""
        if self._started:
            raise UserError("This worker is already started.")
        set_registry(self.tools)
        set_journal(self.database_url)
        prepare_database(self.database_url)
        config: DBOSConfig = {
            "name": "gai",
            "system_database_url": self.database_url,
            "executor_id": self.worker_id,
            "max_executor_threads": self.db_threads,
            "application_version": self.app_version,
            "log_level": os.environ.get("GAI_DBOS_LOG_LEVEL", "WARNING"),
        }
        DBOS(config=config)
        DBOS.listen_queues(self.queues)
        DBOS.launch()
        self._started = True
        for name in self.queues:
            # Keeps limits set by `DurableClient.create_queue`; creates a plain queue if absent.
            DBOS.register_queue(
                name, polling_interval_sec=self.poll_interval, on_conflict="never_update"
            )

    def configure_queue(
        self,
        name: str,
        *,
        concurrency: int | None = None,
        worker_concurrency: int | None = None,
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        """Set a queue's limits for every worker (like `DurableClient.create_queue`)."""
        if not self._started:
            raise UserError("Start the worker before it configures queues.")
        DBOS.register_queue(
            name,
            global_concurrency=concurrency,
            worker_concurrency=worker_concurrency,
            limiter=None
            if rate_limit is None
            else {"limit": rate_limit[0], "period": rate_limit[1]},
            polling_interval_sec=self.poll_interval,
            on_conflict="always_update",
        )

    def adopt(self, worker_ids: Sequence[str]) -> int:
        """Take over the unfinished runs of workers that are gone for good.

        Only adopt workers that are really dead: a live one would go on running them.
        Returns how many runs were taken over.
        """
        if not self._started:
            raise UserError("Start the worker before it adopts runs.")
        # DBOS exposes recovery for other executors only through its private method.
        handles = DBOS._recover_pending_workflows(list(worker_ids))
        return len(handles)

    async def run(
        self,
        model: str,
        *,
        prompt: str | None = None,
        messages: Sequence[Message] = (),
        system: str | None = None,
        tools: Sequence[str] = (),
        run_id: str | None = None,
        store: str | None = None,
        **options: Any,
    ) -> TextResult:
        """Run a job durably in this process, now, without going through a queue.

        For a service that takes a request and answers it in the same process: the run
        is a DBOS workflow started here (no enqueue, no polling for its result) and is
        journaled like a queued one, so a crash leaves it to be recovered by this worker
        restarted with the same `worker_id` (or by one that adopts it). The arguments are
        `DurableClient.submit`'s, checked the same way.

        Raises:
            UserError: The worker is not started.
            NotPortableError: An option could not be recorded for recovery.
        """
        if not self._started:
            raise UserError("Start the worker before it runs jobs.")
        from dbos import SetWorkflowID

        from gai.durable._workflows import run_workflow
        from gai.durable.client import portable_options

        job = RunJob(
            model=model,
            messages=tuple(messages),
            prompt=prompt,
            system=system,
            tools=tuple(tools),
            store=store,
            options=portable_options(options),
        )
        if run_id is None:
            return await run_workflow(job)
        with SetWorkflowID(run_id):
            return await run_workflow(job)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `stop` is called (True) or `timeout` passes (False)."""
        return self._stopped.wait(timeout)

    def stop(self, grace: int = 0) -> None:
        """Stop taking runs, let running ones finish for up to `grace` seconds, disconnect.

        Runs still unfinished then are recovered by the next start with this
        `worker_id` (or by a worker that adopts them).
        """
        if self._started:
            self._started = False
            DBOS.destroy(workflow_completion_timeout_sec=grace)
            close_journals()
        self._stopped.set()
