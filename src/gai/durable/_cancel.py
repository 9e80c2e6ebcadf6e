"""Cancelled durable runs stop at their next step boundary: one watcher per event loop.

DBOS notices a cancelled workflow when it next starts a step; a journaled run has
none, so the worker looks for them itself. One query a second covers every run of the
loop: a look per run would cost a database round trip per run per second, which at a
few hundred running runs is most of a worker's CPU.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable

from dbos import DBOS

from gai.control.cancel import StopToken

__all__ = ["CANCEL_POLL", "watch_cancel"]

_log = logging.getLogger(__name__)

CANCEL_POLL = 1.0
"""Seconds between looks at whether running runs were cancelled."""

_BATCH = 500
"""Runs asked about per query (an IN list of this many ids)."""


class _Watch:
    def __init__(self) -> None:
        self.runs: dict[str, StopToken] = {}
        self.task: asyncio.Task[None] | None = None

    async def loop(self) -> None:
        try:
            while self.runs:
                await asyncio.sleep(CANCEL_POLL)
                try:
                    await self.look()
                except Exception:
                    # The database is unreachable for now: the runs' own writes will
                    # say so; the next look may succeed.
                    _log.warning("Could not look for cancelled runs", exc_info=True)
        finally:
            self.task = None

    async def look(self) -> None:
        ids = list(self.runs)
        for start in range(0, len(ids), _BATCH):
            cancelled = await DBOS.list_workflows_async(
                workflow_ids=ids[start : start + _BATCH],
                status="CANCELLED",
                load_input=False,
                load_output=False,
            )
            for status in cancelled:
                stop = self.runs.pop(status.workflow_id, None)
                if stop is not None:
                    stop.request("the durable run was cancelled")


_WATCHES: dict[asyncio.AbstractEventLoop, _Watch] = {}


def watch_cancel(run_id: str, stop: StopToken) -> Callable[[], None]:
    """Request `stop` once the workflow `run_id` is cancelled; returns the unwatch."""
    loop = asyncio.get_running_loop()
    watch = _WATCHES.get(loop)
    if watch is None:
        for old in [known for known in _WATCHES if known.is_closed()]:
            del _WATCHES[old]
        watch = _WATCHES[loop] = _Watch()
    watch.runs[run_id] = stop
    if watch.task is None:
        # Outside the workflow's context: inside it, DBOS would record each look as a step.
        watch.task = loop.create_task(watch.loop(), context=contextvars.Context())

    def unwatch() -> None:
        if watch.runs.get(run_id) is stop:
            del watch.runs[run_id]

    return unwatch
