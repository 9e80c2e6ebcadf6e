"""`PersistentWorkflowManager`: the seed's workflow state, saved after every step."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gai.engine.request import Request
from gai.engine.run import generate_text
from gai.providers.base import Model
from gai.store.base import StateStorage
from gai.store.records import WorkflowState, utcnow
from gai.types import Step, TextResult

__all__ = ["PersistentWorkflowManager"]


class PersistentWorkflowManager:
    """Runs requests while keeping a `WorkflowState` in a `StateStorage`.

    The state is loaded (or created) before the run, saved after every step, and
    deleted when the run succeeds; after a failure it stays, with the error appended,
    so the next attempt starts from it. The seed did the saving inside a stop
    condition; here it is an `on_step_finish` hook, so stop conditions stay pure.

    Args:
        storage: Where the state lives.
        update: Called after each step to update the state (phase, progress, metrics).
    """

    def __init__(
        self,
        storage: StateStorage,
        update: Callable[[WorkflowState, Step], None] | None = None,
    ) -> None:
        self.storage = storage
        self.update = update

    async def execute_with_persistence(
        self, workflow_id: str, model: Model | str, request: Request
    ) -> TextResult:
        """Run `request` on `model`, saving the workflow state after each step.

        Args:
            workflow_id: Key of the state in the storage.
            model: The model to run on.
            request: The run; its own `on_step_finish` still runs, after the save.

        Raises:
            GaiError: The run failed; the state (with the error) stays in the storage.
        """
        state = await self.storage.load(workflow_id) or WorkflowState(phase="starting")
        original = request.on_step_finish

        async def save_after(step: Step) -> None:
            nonlocal state
            if self.update is not None:
                self.update(state, step)
            state = state.model_copy(
                update={
                    "last_update": utcnow(),
                    "metrics": {**state.metrics, "steps": step.step_number},
                }
            )
            await self.storage.save(workflow_id, state)
            if original is not None:
                outcome = original(step)
                if outcome is not None:
                    await outcome

        try:
            result = await generate_text(
                model, dataclasses.replace(request, on_step_finish=save_after)
            )
        except Exception as exc:
            state = state.model_copy(
                update={
                    "errors": [*state.errors, f"{type(exc).__name__}: {exc}"],
                    "last_update": utcnow(),
                }
            )
            await self.storage.save(workflow_id, state)
            raise
        await self.storage.delete(workflow_id)
        return result
