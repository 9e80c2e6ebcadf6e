"""Writes a run's progress to a `RunStore` as it happens, so the run can resume."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from gai._recorded import recorded_response
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.records import RunSnapshot, RunStatus
from gai.types import Step, TextResult, ToolResult

if TYPE_CHECKING:
    from gai.store.base import RunStore

__all__ = ["Checkpointer"]


_STEP_EXCLUDE = {"tool_calls", "tool_results"}


class _Done:
    """An awaitable that is already complete (a write handed to `Checkpointer.sync`)."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


_DONE = _Done()


def _json_appender(store: RunStore) -> Callable[[str, Any, int, str], Awaitable[None]] | None:
    """The store's `append_json`, when using it cannot bypass an override of `append`.

    Backends built on `BaseStore` take JSON text. A store that wraps another by
    delegation, or a subclass that overrides only `append`, gets the dict the
    `RunStore` protocol names, so its `append` still sees every checkpoint.
    """
    owners = {
        name: next((k for k in type(store).__mro__ if name in k.__dict__), None)
        for name in ("append", "append_json")
    }
    appender, json_appender = owners["append"], owners["append_json"]
    if appender is None or json_appender is None or not issubclass(json_appender, appender):
        return None
    method: Callable[[str, Any, int, str], Awaitable[None]] = store.append_json  # type: ignore[attr-defined]
    return method


@dataclass(slots=True)
class Checkpointer:
    """The run loop's view of the store: one method per moment worth recording."""

    store: RunStore
    run_id: str
    _append_json: Callable[[str, Any, int, str], Awaitable[None]] | None = field(
        init=False, default=None
    )
    _pending: list[asyncio.Future[None]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._append_json = _json_appender(self.store)

    def _later(self, write: Awaitable[None]) -> Awaitable[None]:
        """A write the run need not wait for until the next `sync`.

        Only a write the store has already queued (a future) can wait: it commits in
        order with the others whether or not anyone awaits it. A coroutine has not
        started, so it is awaited at once.
        """
        if isinstance(write, asyncio.Future):
            self._pending.append(write)
            return _DONE
        return write

    async def sync(self) -> None:
        """Wait until every write handed over so far has committed; raise the first error."""
        while self._pending:
            pending, self._pending = self._pending, []
            for write in pending:
                await write

    async def _discard(self) -> None:
        # A run ending in failure still waits for its writes, without raising theirs.
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # The per-checkpoint methods are plain functions returning the store's awaitable:
    # a coroutine per layer would be held by every run while its checkpoint commits.
    def _append(
        self, kind: Any, step_number: int, model: BaseModel, exclude: set[str] | None = None
    ) -> Awaitable[None]:
        if self._append_json is not None:
            data = model.model_dump_json(exclude=exclude)
            return self._append_json(self.run_id, kind, step_number, data)
        payload = model.model_dump(mode="json", exclude=exclude)
        return self.store.append(self.run_id, kind, step_number, payload)

    async def start(self, model: str, snapshot: RunSnapshot) -> None:
        await self.store.create_run(self.run_id, model, snapshot)

    async def resumed(self) -> None:
        await self.store.set_status(self.run_id, "running")

    def model_response(
        self, step_number: int, response: ModelResponse, request: ModelRequest, duration: float
    ) -> Awaitable[None]:
        record = recorded_response(response, request, duration)
        # Committed with tools_started (or step_finished): nothing runs in between.
        return self._later(self._append("model_response", step_number, record))

    async def tools_started(self, step_number: int, call_ids: list[str]) -> None:
        # Durable before any tool starts: a resumed run must know they may have run.
        if self._append_json is not None:
            data = orjson.dumps({"call_ids": call_ids}).decode()
            await self._append_json(self.run_id, "tools_started", step_number, data)
        else:
            payload = {"call_ids": call_ids}
            await self.store.append(self.run_id, "tools_started", step_number, payload)
        await self.sync()

    def tool_result(self, step_number: int, result: ToolResult) -> Awaitable[None]:
        # Queued as each call completes; step_finished waits for them all together.
        return self._later(self._append("tool_result", step_number, result))

    async def step_finished(self, step: Step) -> None:
        # Calls and results are in this step's earlier entries; storing them again would
        # double what every step writes.
        await self._append("step_finished", step.step_number, step, _STEP_EXCLUDE)
        await self.sync()

    async def finished(self, result: TextResult) -> None:
        await self.sync()
        await self.store.set_status(self.run_id, "completed", result=result)

    async def paused(self, result: TextResult) -> None:
        await self.sync()
        await self.store.set_status(self.run_id, "paused", result=result)

    async def failed(self, error: str, result: TextResult, *, cancelled: bool) -> None:
        status: RunStatus = "cancelled" if cancelled else "failed"
        await self._discard()
        await self.store.set_status(self.run_id, status, result=result, error=error)
