"""Writes a run's progress to a `RunStore` as it happens, so the run can resume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gai._recorded import recorded_response
from gai.providers.base import ModelRequest, ModelResponse
from gai.store.records import RunSnapshot, RunStatus
from gai.types import Step, TextResult, ToolResult

if TYPE_CHECKING:
    from gai.store.base import RunStore

__all__ = ["Checkpointer"]


_STEP_EXCLUDE = {"tool_calls", "tool_results"}


@dataclass(slots=True)
class Checkpointer:
    """The run loop's view of the store: one method per moment worth recording."""

    store: RunStore
    run_id: str

    async def start(self, model: str, snapshot: RunSnapshot) -> None:
        await self.store.create_run(self.run_id, model, snapshot)

    async def resumed(self) -> None:
        await self.store.set_status(self.run_id, "running")

    async def model_response(
        self, step_number: int, response: ModelResponse, request: ModelRequest, duration: float
    ) -> None:
        record = recorded_response(response, request, duration)
        await self.store.append(
            self.run_id, "model_response", step_number, record.model_dump(mode="json")
        )

    async def tools_started(self, step_number: int, call_ids: list[str]) -> None:
        await self.store.append(self.run_id, "tools_started", step_number, {"call_ids": call_ids})

    async def tool_result(self, step_number: int, result: ToolResult) -> None:
        await self.store.append(
            self.run_id, "tool_result", step_number, result.model_dump(mode="json")
        )

    async def step_finished(self, step: Step) -> None:
        # Calls and results are in this step's earlier entries; storing them again would
        # double what every step writes.
        payload = step.model_dump(mode="json", exclude=_STEP_EXCLUDE)
        await self.store.append(self.run_id, "step_finished", step.step_number, payload)

    async def finished(self, result: TextResult) -> None:
        await self.store.set_status(self.run_id, "completed", result=result)

    async def paused(self, result: TextResult) -> None:
        await self.store.set_status(self.run_id, "paused", result=result)

    async def failed(self, error: str, result: TextResult, *, cancelled: bool) -> None:
        status: RunStatus = "cancelled" if cancelled else "failed"
        await self.store.set_status(self.run_id, status, result=result, error=error)
