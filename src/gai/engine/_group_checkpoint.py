"""`GroupCheckpointer`: checkpoints for a store that commits many runs' writes together.

With SQLite, a run's writes are queued and committed in batches with every other run's;
the run waits only where it must (before its tools start, and at its end). Writes
that follow each other with nothing durable in between share one log entry: a model
answer with the step's tools_started, and the tool results that complete in one turn
of the event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson
from pydantic import TypeAdapter

from gai._fast_json import results_json, step_end_json
from gai.engine._checkpoint import (
    STEP_END_FIELDS,
    STEP_EXCLUDE,
    Checkpointer,
    overrides_below,
)
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.base import ENDED_STEP
from gai.store.recorded import recorded_json
from gai.store.records import RunSnapshot, RunStatus
from gai.types import Step, TextResult, ToolResult

if TYPE_CHECKING:
    from gai.store.base import RunStore

__all__ = ["GroupCheckpointer", "GroupStore", "checkpointer", "group_queue"]

Queue = Callable[[str, Any, int, str, int], "asyncio.Future[Mapping[str, Exception]]"]
"""A store's `queue_checkpoint(run_id, kind, step_number, data, seq)`."""


class GroupStore(Protocol):
    """What a group-committing store adds to `RunStore` (SQLite has it)."""

    def queue_checkpoint(
        self, run_id: str, kind: Any, step_number: int, data: str, seq: int
    ) -> asyncio.Future[Mapping[str, Exception]]:
        """Queue checkpoint `seq`; the batch's future gives the errors by run id."""
        ...

    def queue_run(
        self, run_id: str, model: str, snapshot: RunSnapshot
    ) -> asyncio.Future[Mapping[str, Exception]]:
        """Queue a new run's record; the batch's future gives the errors by run id."""
        ...

    def queue_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: TextResult | None = None,
        error: str | None = None,
        derived_messages: bool = False,
    ) -> asyncio.Future[Mapping[str, Exception]]:
        """Queue `RunStore.set_status`, able to keep a result without its conversation."""
        ...


def group_queue(store: RunStore) -> Queue | None:
    """The store's `queue_checkpoint`, if calling it cannot skip an override.

    A wrapper or subclass that overrides `append`, `append_json` or `set_status` must
    see every write as the `RunStore` protocol names it, so it gets the
    one-write-at-a-time `Checkpointer`.
    """
    if not overrides_below(
        store, "queue_checkpoint", "append", "append_json", "set_status"
    ) or not overrides_below(store, "queue_status", "set_status"):
        return None
    method: Queue = store.queue_checkpoint  # type: ignore[attr-defined]
    return method


_NO_CONTEXT = contextvars.Context()

_FLUSH_DUE: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[GroupCheckpointer]] = (
    weakref.WeakKeyDictionary()
)
"""Per event loop, the checkpointers with tool results to queue at the end of this turn."""


def _flush_at_end_of_turn(checkpointer: GroupCheckpointer) -> None:
    # One callback per turn of the loop for every run with results, not one per run: a
    # handle and a bound method per run and step would outlive many allocations, and
    # with a thousand runs in flight make the garbage collector run more often.
    loop = asyncio.get_running_loop()
    due = _FLUSH_DUE.get(loop)
    if due is None:
        due = _FLUSH_DUE[loop] = []
    if not due:
        # Flushing reads no context variables: a shared empty context spares a copy.
        loop.call_soon(_flush_due, loop, due, context=_NO_CONTEXT)
    due.append(checkpointer)


def _flush_due(loop: asyncio.AbstractEventLoop, due: list[GroupCheckpointer]) -> None:
    flushing = due.copy()  # results completing during these flushes wait for next turn
    due.clear()
    for checkpointer in flushing:
        try:
            checkpointer._flush_results()
        except Exception as exc:  # as an exception in its own callback would be
            loop.call_exception_handler(
                {"message": "gai could not queue a run's tool results", "exception": exc}
            )


@functools.cache
def _results_adapter() -> TypeAdapter[list[ToolResult]]:
    return TypeAdapter(list[ToolResult])


class GroupCheckpointer(Checkpointer):
    """Queues a run's checkpoints, numbered in order, and waits for their batches."""

    # The held answer and step end are kept field by field, not as tuples: a tuple per
    # step would be one more object for the garbage collector per run in flight.
    __slots__ = (
        "_group_store",
        "_held",
        "_held_duration",
        "_held_number",
        "_held_request",
        "_held_step",
        "_held_step_number",
        "_pending",
        "_queue",
        "_results",
        "_results_step",
        "seq",
    )

    def __init__(self, store: RunStore, run_id: str, queue: Queue, seq: int = 0) -> None:
        # Not Checkpointer.__init__: writes go to `queue`, never to `append_json`.
        self.store = store
        self.run_id = run_id
        self._append_json = None
        self._group_store = cast("GroupStore", store)
        self._queue = queue
        self.seq = seq
        self._pending: list[asyncio.Future[Mapping[str, Exception]]] = []
        # A model answer waiting to share an entry (with its step's tools_started).
        self._held: ModelResponse | None = None
        self._held_request: ModelRequest | None = None
        self._held_number = 0
        self._held_duration = 0.0
        # The JSON of a finished step waiting to share the next entry, and its number.
        self._held_step: str | None = None
        self._held_step_number = 0
        self._results: list[ToolResult] = []
        self._results_step = 0

    def _enqueue(self, kind: Any, step_number: int, data: str) -> None:
        """Number an entry and queue it.

        It commits in order with the others whether or not anyone awaits it.
        Consecutive writes mostly share a batch, so `_pending` holds each batch once.
        """
        self.seq += 1
        batch = self._queue(self.run_id, kind, step_number, data, self.seq)
        pending = self._pending
        if not pending or pending[-1] is not batch:
            pending.append(batch)

    def _drain(self) -> None:
        """Queue what this run holds back, oldest first."""
        if self._held is not None:
            self._release()  # with the held step end, if any, in its entry
        elif self._held_step is not None:
            data, self._held_step = self._held_step, None
            self._enqueue("step_finished", self._held_step_number, data)
        if self._results:
            self._flush_results()

    def _release(self, started: list[str] | None = None) -> None:
        """Queue the held model answer, with the calls about to start if given.

        The end of the step before it, when still held, goes in the same entry.
        """
        response, request = self._held, self._held_request
        assert response is not None
        assert request is not None
        self._held = self._held_request = None
        data = recorded_json(response, request, self._held_duration, started)
        if self._held_step is not None:
            data = f'{data[:-1]},"{ENDED_STEP}":{self._held_step}}}'
            self._held_step = None
        self._enqueue("model_response", self._held_number, data)

    def _flush_results(self) -> None:
        """Queue the tool results gathered this turn of the event loop as one entry."""
        results = self._results
        if results:
            # The list is serialised, then emptied for the next turn's results.
            data = results_json(results, _results_adapter)
            results.clear()
            self._enqueue("tool_results", self._results_step, f'{{"results":{data}}}')

    async def start(self, model: str, snapshot: RunSnapshot, *, wait: bool = True) -> None:
        # A run whose id gai made up cannot collide with a stored one: its record is
        # queued ahead of its checkpoints without a wait, and a failure to write it
        # surfaces at the run's next wait (before its tools start, or at its end).
        if wait or not overrides_below(self.store, "queue_run", "create_run"):
            await super().start(model, snapshot)
            return
        self._pending.append(self._group_store.queue_run(self.run_id, model, snapshot))

    async def sync(self) -> None:
        """Wait until every write handed over so far has committed; raise the first error."""
        if self._held is not None or self._held_step is not None or self._results:
            self._drain()
        pending = self._pending
        # Batches commit in the order they were queued, so once the run's last one has,
        # all have: one wait, then each batch's outcome in order.
        while pending and not pending[-1].done():
            # Not contextlib.suppress: an object and two Python calls for every wait.
            try:  # noqa: SIM105
                await pending[-1]
            except Exception:  # read below, batch by batch in the order of the writes
                pass
        if not pending:
            return
        self._pending = []  # reported once: the first failure stands for the rest
        for batch in pending:
            failures = batch.result() if batch.done() else await batch
            if failures and self.run_id in failures:
                raise failures[self.run_id]

    async def model_response(
        self, step_number: int, response: ModelResponse, request: ModelRequest, duration: float
    ) -> None:
        # Held until the next write: when that is the step's tools_started (the usual
        # case), one entry records both.
        if self._held is not None or self._results:
            self._drain()
        self._held, self._held_request = response, request
        self._held_number, self._held_duration = step_number, duration

    async def tools_started(self, step_number: int, call_ids: list[str]) -> None:
        # Durable before any tool starts, with everything queued before it: a resumed
        # run must know the calls may have run. This is the one wait inside a step.
        if self._held is not None and self._held_number == step_number and not self._results:
            self._release(started=call_ids)
        else:
            self._drain()
            data = orjson.dumps({"call_ids": call_ids}).decode()
            self._enqueue("tools_started", step_number, data)
        await self.sync()

    async def tool_result(self, step_number: int, result: ToolResult) -> None:
        # Handed to the store in the turn of the event loop the call completes in, with
        # the step's other results of that turn (parallel calls often end together).
        if self._held is not None or self._held_step is not None:
            self._drain()
        if self._results and self._results_step != step_number:
            self._flush_results()
        if not self._results:
            self._results_step = step_number
            _flush_at_end_of_turn(self)
        self._results.append(result)

    async def step_finished(self, step: Step) -> None:
        # Held, and merged into the next step's model answer (one entry, not two); not
        # waited for: the next model call has no side effects, and its tools wait for
        # the merged entry. A run killed before then resumes with every result of the
        # step in its log, so the step is rebuilt, not run again.
        if self._held is not None or self._held_step is not None or self._results:
            self._drain()
        self._held_step = step_end_json(step, STEP_END_FIELDS, STEP_EXCLUDE)
        self._held_step_number = step.step_number

    async def finished(self, result: TextResult, *, derivable: bool = False) -> None:
        # The status queues behind the run's checkpoints, so one commit covers them all.
        self._end("completed", result, derivable=derivable)
        await self.sync()

    async def paused(self, result: TextResult) -> None:
        self._end("paused", result)
        await self.sync()

    async def failed(self, error: str, result: TextResult, *, cancelled: bool) -> None:
        # A run ending in failure still waits for its writes, without raising theirs.
        self._drain()
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        status: RunStatus = "cancelled" if cancelled else "failed"
        await self.store.set_status(self.run_id, status, result=result, error=error)

    def _end(self, status: RunStatus, result: TextResult, *, derivable: bool = False) -> None:
        self._drain()
        # Most of a result is its conversation, which the log already holds: stored
        # without it, it is rebuilt from the run's input and steps when read back.
        batch = self._group_store.queue_status(
            self.run_id, status, result=result, derived_messages=derivable and bool(result.messages)
        )
        self._pending.append(batch)


def checkpointer(store: RunStore, run_id: str, seq: int = 0) -> Checkpointer:
    """The checkpointer for `store`: group-committing (SQLite) or one write at a time.

    Args:
        store: Where the run is checkpointed.
        run_id: The run.
        seq: Number of the run's last checkpoint so far (0 for a new run).
    """
    queue = group_queue(store)
    if queue is not None:
        return GroupCheckpointer(store, run_id, queue, seq)
    return Checkpointer(store, run_id)
