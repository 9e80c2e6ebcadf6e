"""Waiting for the results of many durable runs with one query per look.

A handle waiting on its own would ask the database about its run every poll
interval: a client awaiting a few hundred results at once would make a few thousand
queries a second. Every `DurableHandle.result` of a client waits here instead: one
look asks about all the runs still awaited.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dbos import DBOSClient
from dbos import error as dbos_error

from gai.errors import RunCancelledError

__all__ = ["ResultWatch"]

_FINISHED = ["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]
_BATCH = 500
"""Runs asked about per query (an IN list of this many ids)."""


class ResultWatch:
    """The runs a client's handles are waiting for, and the task that looks for them."""

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval
        self._waiting: dict[str, list[asyncio.Future[Any]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def wait(self, dbos: DBOSClient, run_id: str) -> Any:
        """What run `run_id` returned (or its error), once it finished."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.setdefault(run_id, []).append(future)
        if self._task is None:
            self._task = loop.create_task(self._look(dbos))
        try:
            return await future
        finally:
            waiters = self._waiting.get(run_id)
            if waiters is not None and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiting[run_id]

    async def _look(self, dbos: DBOSClient) -> None:
        try:
            while self._waiting:
                ids = list(self._waiting)
                for start in range(0, len(ids), _BATCH):
                    rows = await dbos.list_workflows_async(
                        workflow_ids=ids[start : start + _BATCH],
                        status=_FINISHED,
                        load_input=False,
                        load_output=True,
                    )
                    for row in rows:
                        for future in self._waiting.pop(row.workflow_id, []):
                            if not future.done():
                                _settle(future, row.workflow_id, str(row.status), row)
                if self._waiting:
                    await asyncio.sleep(self.poll_interval)
        except Exception as exc:
            # The database failed: every waiter hears it rather than waiting forever.
            for futures in self._waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            self._waiting.clear()
        finally:
            self._task = None


def _settle(future: asyncio.Future[Any], run_id: str, status: str, row: Any) -> None:
    if status == "SUCCESS":
        future.set_result(row.output)
    elif status == "ERROR":
        error = row.error
        future.set_exception(
            error if isinstance(error, Exception) else RuntimeError(f"Run {run_id!r}: {error}")
        )
    elif status == "CANCELLED":
        future.set_exception(
            RunCancelledError(f"Durable run {run_id!r} was cancelled before it finished.")
        )
    else:
        future.set_exception(dbos_error.DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(run_id))
