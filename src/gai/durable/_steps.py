"""Model calls and tool calls as DBOS steps, so recovery replays them from the database.

A recovered workflow runs the same code again; every step that finished before the
crash returns its recorded result instead of calling the model or the tool. DBOS
numbers steps in the order they begin, so the tool calls of a step reserve their
numbers in the model's order before any of them starts (`TOOL_HOOKS.reserve`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from dbos import DBOS, StepOptions, StepReservation

from gai.engine.hooks import interrupted_result
from gai.errors import UserError
from gai.providers.base import BaseChatModel, Model, ModelRequest, ModelResponse
from gai.tools import Tool
from gai.types import ToolCall, ToolResult

__all__ = ["DurableModel", "DurableScope", "DurableTools"]

# gai's RetryPolicy retries inside the step (see DurableModel).
_NO_RETRY: StepOptions = {"retries_allowed": False}


def _options(name: str) -> StepOptions:
    return {**_NO_RETRY, "name": name}


_CONCURRENT = (
    "gai runs inside one durable workflow must run one at a time: DBOS numbers steps in "
    "the order they begin, so overlapping runs would replay each other's results after "
    "a crash. Await each run before starting the next, or submit concurrent work as "
    "separate durable runs."
)


class DurableScope:
    """The step bookkeeping of one workflow execution, shared by its model and tools.

    It also refuses overlapping runs: within one run, a model call never overlaps
    another step, and a step's tool calls are reserved only once nothing else runs.
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self.tools = DurableTools(self)

    def wrap(self, model: Model) -> Model:
        """The `MODEL_HOOK`: `model` with each call a step."""
        return DurableModel(model, self)

    def check_alone(self) -> None:
        """Raise unless no other step of this workflow is running."""
        if self.in_flight:
            raise UserError(_CONCURRENT)


class DurableModel(BaseChatModel):
    """Runs each call of the wrapped model as a DBOS step named "gai.model".

    Wrap the model with its retry policy and call timeout already applied: a step
    must end in a recorded answer or a recorded error. A timeout that cancelled a
    step from outside would leave nothing recorded, and the recovered run would then
    take a different path than the first one.
    """

    def __init__(self, inner: Model, scope: DurableScope) -> None:
        self._inner = inner
        self._scope = scope

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self._inner.name

    async def _call(self, request: ModelRequest) -> dict[str, Any]:
        response = await self._inner.generate(request)
        # The provider's raw payload is for debugging this process, not for the log.
        return response.model_dump(mode="json", exclude={"raw"})

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Call the model, or return the answer recorded before a crash."""
        self._scope.check_alone()
        self._scope.in_flight += 1
        try:
            data = await DBOS.run_step_async(_options("gai.model"), self._call, request)
        finally:
            self._scope.in_flight -= 1
        return ModelResponse.model_validate(data)


async def _echo(token: str) -> str:
    return token


class DurableTools:
    """`ToolHooks` that run each tool call as a DBOS step at a reserved number.

    A call of a tool that is not idempotent first records a "started" step. When a
    recovered run finds that step recorded but not the call's result, the call may
    have taken effect before the crash: it is reported as interrupted, not repeated,
    as a resumed in-process run does.
    """

    def __init__(self, scope: DurableScope) -> None:
        self._scope = scope
        self._reserved: dict[str, tuple[StepReservation | None, StepReservation]] = {}

    def reserve(self, calls: Sequence[ToolCall], tools: Mapping[str, Tool]) -> None:
        """Draw step numbers for `calls`, in order, before any of them starts."""
        self._scope.check_alone()
        # Busy from now on, not from when each call's task begins: another run's step
        # starting in between would take a number the replay could not reproduce.
        self._scope.in_flight += len(calls)
        for call in calls:
            tool = tools.get(call.name)
            marker = None if tool is None or tool.idempotent else DBOS.reserve_step()
            self._reserved[call.call_id] = (marker, DBOS.reserve_step())

    async def run(
        self, call: ToolCall, tool: Tool | None, invoke: Callable[[], Awaitable[ToolResult]]
    ) -> ToolResult:
        """Run `call` as a step, or return its recorded result."""
        marker, step = self._reserved.pop(call.call_id)
        try:
            return await self._run(call, marker, step, invoke)
        finally:
            self._scope.in_flight -= 1

    async def _run(
        self,
        call: ToolCall,
        marker: StepReservation | None,
        step: StepReservation,
        invoke: Callable[[], Awaitable[ToolResult]],
    ) -> ToolResult:
        ran_before = False
        if marker is not None:
            token = uuid.uuid4().hex
            ran_before = await marker.run_async(_options("gai.tool_started"), _echo, token) != token

        async def body() -> dict[str, Any]:
            # Only runs when no result was recorded: with the start recorded by an
            # earlier execution, the call may have happened already.
            result = interrupted_result(call) if ran_before else await invoke()
            return result.model_dump(mode="json")

        data = await step.run_async(_options(f"gai.tool.{call.name}"), body)
        return ToolResult.model_validate(data)
