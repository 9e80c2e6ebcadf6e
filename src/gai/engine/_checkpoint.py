"""`Checkpointer`: writes a run's progress to its `RunStore` as it happens, so it can resume."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import orjson

from gai.providers.base import ModelRequest, ModelResponse
from gai.store.entries import Entry, LogEntry, NewRun, StatusChange
from gai.store.recorded import recorded_response
from gai.store.records import CheckpointKind, RecordedResponse, RunSnapshot, RunStatus
from gai.types import ContextEdit, Step, TextResult, ToolResult
from gai.types.base import Value

if TYPE_CHECKING:
    from gai.store.base import RunStore

__all__ = ["STEP_EXCLUDE", "Checkpointer"]


STEP_EXCLUDE = frozenset(
    {
        "tool_calls",
        "reasoning",
        "hosted_tools",
        "citations",
        "tool_results",
        "text",
        "usage",
        "finish_reason",
        "refusal",
        "response_model",
        "attempts",
        "model_duration",
        "context",
    }
)
"""What a step entry leaves out: the step's earlier entries hold it.

The run loop builds each step from its model answer (text, usage, finish reason,
model version, attempts, duration of the call), whose entry comes first, and from its
tool results; `fold_checkpoints` puts them back.
"""

_STEP_EXCLUDE_BUT_CALLS = STEP_EXCLUDE - {"tool_calls"}

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _entry_json(value: Value, exclude: frozenset[str] = frozenset()) -> str:
    """The value as JSON, less the fields in `exclude` and those that are None.

    orjson writes gai's dataclasses directly, several times faster than pydantic's
    serializer (a whole value keeps its None fields; they read back the same);
    whatever orjson cannot write (a tool output of a type of its own) goes through
    pydantic.
    """
    try:
        if not exclude:
            return orjson.dumps(value).decode()
        fields = {
            name: v
            for name in _field_names(type(value))
            if name not in exclude and (v := getattr(value, name)) is not None
        }
        return orjson.dumps(fields).decode()
    except TypeError:
        return value.model_dump_json(exclude=set(exclude), exclude_none=True)


class Checkpointer:
    """The run loop's view of the store: one method per moment worth recording.

    Entries are numbered in order. The run waits for its writes only where it must:
    before a step's tools start (a resumed run must know they may have run) and when
    it ends. Until then, the model's answer and the end of the step before are held,
    and go in the write the run waits for; a tool result is handed to the store as
    soon as it is known (SQLite commits it with the next batch), and the next wait
    waits for it too.

    Args:
        store: Where the run is checkpointed.
        run_id: The run.
        seq: Number of the run's last entry so far (0 for a new run).
    """

    __slots__ = ("_held", "_writing", "run_id", "seq", "store")

    def __init__(self, store: RunStore, run_id: str, seq: int = 0) -> None:
        self.store = store
        self.run_id = run_id
        self.seq = seq
        self._held: list[Entry] = []
        self._writing: list[Awaitable[None]] = []

    def _log(self, kind: CheckpointKind, step_number: int, data: str) -> None:
        self.seq += 1
        self._held.append(LogEntry(self.run_id, self.seq, kind, step_number, data))

    def _hand_over(self) -> None:
        if self._held:
            entries, self._held = self._held, []
            self._writing.append(self.store.write(entries))

    async def _wait(self) -> None:
        """Hand over what is held and wait for every write so far, in order.

        Raises the first write's error once all have finished.
        """
        self._hand_over()
        writing, self._writing = self._writing, []
        error: BaseException | None = None
        for index, write in enumerate(writing):
            try:
                await write
            except Exception as exc:  # the rest still finish (and are awaited)
                error = error or exc
            except BaseException:  # cancelled: what was never awaited is dropped
                for rest in writing[index + 1 :]:
                    if inspect.iscoroutine(rest):
                        rest.close()
                raise
        if error is not None:
            raise error

    async def start(self, model: str, snapshot: RunSnapshot, *, wait: bool = True) -> None:
        """Record the new run.

        `wait=False`: the id is gai's own, so it cannot be taken, and the record may go
        with the run's first write instead of one of its own.
        """
        self._held.append(NewRun(self.run_id, model, snapshot))
        if wait:
            await self._wait()

    async def resumed(self) -> None:
        self._held.append(StatusChange(self.run_id, "running"))
        await self._wait()

    def model_response(
        self,
        step_number: int,
        response: ModelResponse,
        request: ModelRequest,
        duration: float,
        context: ContextEdit | None = None,
    ) -> None:
        record = recorded_response(response, request, duration, context)
        self._log("model_response", step_number, _entry_json(record))

    async def tools_started(self, step_number: int, call_ids: list[str]) -> None:
        self._log("tools_started", step_number, orjson.dumps({"call_ids": call_ids}).decode())
        await self._wait()

    def tool_result(self, step_number: int, result: ToolResult) -> None:
        self._log("tool_result", step_number, _entry_json(result))
        self._hand_over()

    def step_finished(self, step: Step, *, with_calls: bool = False) -> None:
        """Log the step's end.

        `with_calls`: the calls ran with arguments a person edited, so the entry keeps
        them (the model answer's entry has the model's).
        """
        exclude = _STEP_EXCLUDE_BUT_CALLS if with_calls else STEP_EXCLUDE
        self._log("step_finished", step.step_number, _entry_json(step, exclude))

    def copied_step(self, step: Step, answer: RecordedResponse) -> None:
        """Log a step another run took (a fork starts from its parent's steps)."""
        number = step.step_number
        self._log("model_response", number, _entry_json(answer))
        for result in step.tool_results:
            self._log("tool_result", number, _entry_json(result))
        self._log("step_finished", number, _entry_json(step, _STEP_EXCLUDE_BUT_CALLS))

    async def flush(self) -> None:
        """Wait until everything logged so far is durable."""
        await self._wait()

    async def finished(self, result: TextResult, *, derivable: bool = False) -> None:
        """Record the run's end.

        `derivable`: the conversation is the run's input plus what each step added
        (nothing else edited it), so a store may keep the result without it.
        """
        await self._end("completed", result, derived=derivable and bool(result.messages))

    async def paused(self, result: TextResult) -> None:
        await self._end("paused", result)

    async def failed(self, error: str, result: TextResult, *, cancelled: bool) -> None:
        status: RunStatus = "cancelled" if cancelled else "failed"
        await self._end(status, result, error=error)

    async def _end(
        self,
        status: RunStatus,
        result: TextResult,
        *,
        error: str | None = None,
        derived: bool = False,
    ) -> None:
        self._held.append(StatusChange(self.run_id, status, result, error, derived))
        await self._wait()
