"""Writes a run's progress to a `RunStore` as it happens, so the run can resume."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from gai._fast_json import step_end_json
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.recorded import recorded_json, recorded_response
from gai.store.records import RunSnapshot, RunStatus
from gai.types import Step, TextResult, ToolResult

if TYPE_CHECKING:
    from gai.store.base import RunStore

__all__ = ["STEP_END_FIELDS", "STEP_EXCLUDE", "Checkpointer"]


STEP_EXCLUDE = {
    "tool_calls",
    "tool_results",
    "text",
    "usage",
    "finish_reason",
    "response_model",
    "attempts",
    "model_duration",
}
"""What a step entry leaves out: the step's earlier entries hold it.

The run loop builds each step from its model answer (text, usage, finish reason,
model version, attempts, duration of the call), whose entry comes first, and from its
tool results; `fold_checkpoints` puts them back.
"""

STEP_END_FIELDS = tuple(name for name in Step.model_fields if name not in STEP_EXCLUDE)
"""What a step entry keeps, in the order pydantic writes them."""


def overrides_below(store: RunStore, name: str, *others: str) -> bool:
    """Whether calling `store.<name>` cannot skip an override of one of `others`.

    True when the class that gives `store` its `name` method is below every class that
    gives it one of `others`.
    """
    return _overrides_below(type(store), name, others)


@functools.cache
def _overrides_below(kind: type, name: str, others: tuple[str, ...]) -> bool:
    # Cached per class: every run asks, and the answer depends only on the class.
    mro = kind.__mro__
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
    if not overrides_below(store, "append_json", "append"):
        return None
    method: Callable[[str, Any, int, str], Awaitable[None]] = store.append_json  # type: ignore[attr-defined]
    return method


class Checkpointer:
    """The run loop's view of the store: one method per moment worth recording.

    Each write is handed to the store when the loop awaits it; a `GroupCheckpointer`
    queues `model_response`, `tool_result` and `step_finished` instead, and waits only
    where the crash guarantees need it (before tools start, at the run's end).
    """

    __slots__ = ("_append_json", "run_id", "store")

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self._append_json = _json_appender(store)

    def _append(
        self, kind: Any, step_number: int, model: BaseModel, exclude: set[str] | None = None
    ) -> Awaitable[None]:
        if self._append_json is not None:
            data = model.model_dump_json(exclude=exclude, exclude_none=True)
            return self._append_json(self.run_id, kind, step_number, data)
        payload = model.model_dump(mode="json", exclude=exclude, exclude_none=True)
        return self.store.append(self.run_id, kind, step_number, payload)

    async def start(self, model: str, snapshot: RunSnapshot, *, wait: bool = True) -> None:
        """Record the new run (`wait=False` allows not waiting: the id is gai's own)."""
        await self.store.create_run(self.run_id, model, snapshot)

    async def resumed(self) -> None:
        await self.store.set_status(self.run_id, "running")

    async def model_response(
        self, step_number: int, response: ModelResponse, request: ModelRequest, duration: float
    ) -> None:
        if self._append_json is not None:
            data = recorded_json(response, request, duration)
            await self._append_json(self.run_id, "model_response", step_number, data)
            return
        record = recorded_response(response, request, duration)
        await self._append("model_response", step_number, record)

    async def tools_started(self, step_number: int, call_ids: list[str]) -> None:
        # Durable before any tool starts: a resumed run must know the calls may have run.
        if self._append_json is not None:
            data = orjson.dumps({"call_ids": call_ids}).decode()
            await self._append_json(self.run_id, "tools_started", step_number, data)
            return
        await self.store.append(self.run_id, "tools_started", step_number, {"call_ids": call_ids})

    async def tool_result(self, step_number: int, result: ToolResult) -> None:
        await self._append("tool_result", step_number, result)

    async def step_finished(self, step: Step) -> None:
        if self._append_json is not None:
            data = step_end_json(step, STEP_END_FIELDS, STEP_EXCLUDE)
            await self._append_json(self.run_id, "step_finished", step.step_number, data)
            return
        await self._append("step_finished", step.step_number, step, STEP_EXCLUDE)

    async def finished(self, result: TextResult, *, derivable: bool = False) -> None:
        """Record the run's end.

        `derivable`: the conversation is the run's input plus what each step added
        (nothing else edited it), so a store may keep it in the log's form.
        """
        await self.store.set_status(self.run_id, "completed", result=result)

    async def paused(self, result: TextResult) -> None:
        await self.store.set_status(self.run_id, "paused", result=result)

    async def failed(self, error: str, result: TextResult, *, cancelled: bool) -> None:
        status: RunStatus = "cancelled" if cancelled else "failed"
        await self.store.set_status(self.run_id, status, result=result, error=error)
