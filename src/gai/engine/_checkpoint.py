"""Writes a run's progress to a `RunStore` as it happens, so the run can resume."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from gai._recorded import recorded_response
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.records import RecordedResponse, RunSnapshot, RunStatus
from gai.types import Step, TextResult, ToolResult

if TYPE_CHECKING:
    from gai.store.base import RunStore

__all__ = ["Checkpointer"]


_STEP_EXCLUDE = {"tool_calls", "tool_results"}


class _Done:
    """An awaitable that is already complete (a write queued for `Checkpointer.sync`)."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


_DONE = _Done()


def _overrides_below(store: RunStore, name: str, *others: str) -> bool:
    """Whether calling `store.<name>` cannot skip an override of one of `others`.

    True when the class that gives `store` its `name` method is below every class that
    gives it one of `others`.
    """
    mro = type(store).__mro__
    owner = next((k for k in mro if name in k.__dict__), None)
    if owner is None:
        return False
    for other in others:
        other_owner = next((k for k in mro if other in k.__dict__), None)
        if other_owner is None or not issubclass(owner, other_owner):
            return False
    return True


def _json_appender(store: RunStore) -> Callable[[str, Any, int, str], Awaitable[None]] | None:
    """The store's `append_json`, when using it cannot bypass an override of `append`.

    Backends built on `BaseStore` take JSON text. A store that wraps another by
    delegation, or a subclass that overrides only `append`, gets the dict the
    `RunStore` protocol names, so its `append` still sees every checkpoint.
    """
    if not _overrides_below(store, "append_json", "append"):
        return None
    method: Callable[[str, Any, int, str], Awaitable[None]] = store.append_json  # type: ignore[attr-defined]
    return method


_Queue = Callable[[str, Any, int, str, int], "asyncio.Future[Mapping[str, Exception]]"]


def _group_commit(store: RunStore) -> _Queue | None:
    """The store's `queue_checkpoint` (SQLite), under the same rule as `_json_appender`."""
    if not _overrides_below(store, "queue_checkpoint", "append", "append_json"):
        return None
    method: _Queue = store.queue_checkpoint  # type: ignore[attr-defined]
    return method


@dataclass(slots=True)
class Checkpointer:
    """The run loop's view of the store: one method per moment worth recording.

    Args:
        store: Where the run is checkpointed.
        run_id: The run.
        seq: Number of the run's last checkpoint so far (0 for a new run).
    """

    store: RunStore
    run_id: str
    seq: int = 0
    _append_json: Callable[[str, Any, int, str], Awaitable[None]] | None = field(
        init=False, default=None
    )
    _queue: _Queue | None = field(init=False, default=None)
    _pending: list[asyncio.Future[Mapping[str, Exception]]] = field(
        init=False, default_factory=list
    )
    _held: tuple[int, RecordedResponse] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._queue = _group_commit(self.store)
        if self._queue is None:
            self._append_json = _json_appender(self.store)

    async def sync(self) -> None:
        """Wait until every write handed over so far has committed; raise the first error."""
        if self._held is not None:
            self._release()
        while self._pending:
            pending, self._pending = self._pending, []
            for batch in pending:
                failures = await batch
                if failures and self.run_id in failures:
                    raise failures[self.run_id]

    async def _discard(self) -> None:
        # A run ending in failure still waits for its writes, without raising theirs.
        if self._held is not None:
            self._release()
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # The per-checkpoint methods are plain functions returning the store's awaitable:
    # a coroutine per layer would be held by every run while its checkpoint commits.
    def _append(
        self, kind: Any, step_number: int, model: BaseModel, exclude: set[str] | None = None
    ) -> Awaitable[None]:
        if self._queue is not None:
            return self._queued(kind, step_number, model.model_dump_json(exclude=exclude))
        if self._append_json is not None:
            data = model.model_dump_json(exclude=exclude)
            return self._append_json(self.run_id, kind, step_number, data)
        payload = model.model_dump(mode="json", exclude=exclude)
        return self.store.append(self.run_id, kind, step_number, payload)

    def _queued(self, kind: Any, step_number: int, data: str) -> Awaitable[None]:
        """Queue a checkpoint on a group-committing store, to wait for at the next `sync`.

        It commits in order with the others whether or not anyone awaits it.
        Consecutive writes mostly share a batch, so `_pending` holds each batch once.
        """
        assert self._queue is not None
        if self._held is not None:
            self._release()
        self.seq += 1
        batch = self._queue(self.run_id, kind, step_number, data, self.seq)
        pending = self._pending
        if not pending or pending[-1] is not batch:
            pending.append(batch)
        return _DONE

    def _release(self, started: list[str] | None = None) -> None:
        """Queue the held model answer, with the calls about to start if given."""
        held, self._held = self._held, None
        assert held is not None
        step_number, record = held
        if started is not None:
            record = record.model_copy(update={"tools_started": started})
        self._queued("model_response", step_number, record.model_dump_json())

    async def start(self, model: str, snapshot: RunSnapshot) -> None:
        await self.store.create_run(self.run_id, model, snapshot)

    async def resumed(self) -> None:
        await self.store.set_status(self.run_id, "running")

    def model_response(
        self, step_number: int, response: ModelResponse, request: ModelRequest, duration: float
    ) -> Awaitable[None]:
        record = recorded_response(response, request, duration)
        if self._queue is not None:
            # Held until the next write: when that is the step's tools_started (the usual
            # case), one entry records both.
            if self._held is not None:
                self._release()
            self._held = (step_number, record)
            return _DONE
        # Committed with tools_started (or step_finished): nothing runs in between.
        return self._append("model_response", step_number, record)

    async def tools_started(self, step_number: int, call_ids: list[str]) -> None:
        # Durable before any tool starts, with everything queued before it: a resumed
        # run must know the calls may have run. This is the one wait inside a step.
        if self._held is not None and self._held[0] == step_number:
            self._release(started=call_ids)
        elif self._queue is not None:
            self._queued(
                "tools_started", step_number, orjson.dumps({"call_ids": call_ids}).decode()
            )
        elif self._append_json is not None:
            data = orjson.dumps({"call_ids": call_ids}).decode()
            await self._append_json(self.run_id, "tools_started", step_number, data)
        else:
            payload = {"call_ids": call_ids}
            await self.store.append(self.run_id, "tools_started", step_number, payload)
        await self.sync()

    def tool_result(self, step_number: int, result: ToolResult) -> Awaitable[None]:
        # Queued as each call completes; it commits with the next batch.
        return self._append("tool_result", step_number, result)

    def step_finished(self, step: Step) -> Awaitable[None]:
        # Calls and results are in this step's earlier entries; storing them again would
        # double what every step writes. Queued, not waited for: the next step's model
        # call has no side effects, and its tools wait for this with their own marker.
        return self._append("step_finished", step.step_number, step, _STEP_EXCLUDE)

    async def finished(self, result: TextResult) -> None:
        # The status queues behind the run's checkpoints, so one commit covers them all;
        # sync then only reports a checkpoint that failed.
        if self._held is not None:
            self._release()
        await self.store.set_status(self.run_id, "completed", result=result)
        await self.sync()

    async def paused(self, result: TextResult) -> None:
        if self._held is not None:
            self._release()
        await self.store.set_status(self.run_id, "paused", result=result)
        await self.sync()

    async def failed(self, error: str, result: TextResult, *, cancelled: bool) -> None:
        status: RunStatus = "cancelled" if cancelled else "failed"
        await self._discard()
        await self.store.set_status(self.run_id, status, result=result, error=error)
