"""The store protocols, and `BaseStore`: the checkpoint log every backend shares.

A backend stores three things: a row per run (status, snapshot, result), an
append-only list of checkpoints per run, and workflow state by key. `BaseStore` turns
checkpoints back into a `RunRecord`, so every backend resumes runs the same way.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, runtime_checkable

from gai.errors import RunNotFoundError, StoreError
from gai.store.entries import Entry
from gai.store.records import (
    Checkpoint,
    PendingStep,
    RecordedResponse,
    RunRecord,
    RunSnapshot,
    RunStatus,
    RunSummary,
    SessionItem,
    SessionSummary,
    WorkflowState,
)
from gai.types import Step, TextResult, ToolResult
from gai.types.transcript import transcript

__all__ = [
    "ENDED_STEP",
    "BaseStore",
    "RunStore",
    "StateStorage",
    "fold_checkpoints",
    "result_json",
    "snapshot_json",
]


@runtime_checkable
class StateStorage(Protocol):
    """Keeps workflow state by key (the seed's StateStorage)."""

    async def save(self, key: str, state: WorkflowState) -> None:
        """Store `state` under `key`, replacing what was there."""
        ...

    async def load(self, key: str) -> WorkflowState | None:
        """The state under `key`, or None."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the state under `key` (no error if absent)."""
        ...

    async def list(self, prefix: str = "") -> list[str]:
        """Keys starting with `prefix`, sorted."""
        ...


@runtime_checkable
class RunStore(Protocol):
    """Keeps run checkpoints so interrupted runs can resume.

    A run writes through `write` only; every backend implements it, and a store that
    wraps another sees every entry there.
    """

    def write(self, entries: Sequence[Entry]) -> Awaitable[None]:
        """Make `entries` durable, in order; an entry that fails stops the rest.

        Awaiting the result waits until they are durable. A store may begin the write
        at once, before it is awaited (SQLite queues it into the batch it commits next,
        with other runs' entries), or when awaited (an `async def`); a run awaits its
        writes in the order it made them. Awaiting raises
        `RunExistsError` for a `NewRun` whose id is taken, `RunNotFoundError` for an
        entry of an unknown run, and `StoreError` for a log entry whose `seq` another
        writer took.
        """
        ...

    async def load_run(self, run_id: str) -> RunRecord:
        """Everything stored about a run; raises `RunNotFoundError`."""
        ...

    async def list_runs(
        self,
        status: RunStatus | None = None,
        limit: int = 100,
        *,
        model: str | None = None,
        search: str | None = None,
        before: RunSummary | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first, filtered; a page at a time.

        Args:
            status: Only runs in this status.
            limit: At most this many.
            model: Only runs of this model string.
            search: Only runs whose id or error contains this text (any case).
            before: The last run of the previous page: the runs after it.
            since: Only runs created at or after this time (timezone-aware).
            until: Only runs created before this time.
        """
        ...

    async def delete_run(self, run_id: str) -> None:
        """Forget a run and its checkpoints."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def result_json(
    status: RunStatus, result: TextResult | None, *, without_messages: bool = False
) -> str | None:
    """A run's result as the backends store it.

    A completed or paused run has committed every step to its log before its status,
    so its result is stored without them (they are most of its size) and
    `fold_checkpoints` puts the log's steps back. `without_messages` leaves out the
    conversation too, for a store that rebuilds it from the run's input and steps.
    """
    if result is None:
        return None
    exclude = _WITHOUT_MESSAGES if without_messages else None
    if status in ("completed", "paused") and result.steps:
        exclude = _WITHOUT_STEPS_OR_MESSAGES if without_messages else _WITHOUT_STEPS
        data = result.model_dump_json(exclude=exclude, exclude_none=True)
        # `steps` is required: stored empty, as a copy without them would have it.
        return '{"steps":[],' + data[1:]
    return result.model_dump_json(exclude=exclude, exclude_none=True)


# Never changed: pydantic takes them as they are.
_WITHOUT_STEPS = {"steps"}
_WITHOUT_MESSAGES = {"messages"}
_WITHOUT_STEPS_OR_MESSAGES = {"steps", "messages"}


def snapshot_json(snapshot: RunSnapshot) -> str:
    """A run's snapshot as the backends store it."""
    return snapshot.model_dump_json(exclude_none=True)


ENDED_STEP = "ended_step"
"""Key of a model answer's entry that also holds the end of the step before it.

Logs written before gai 0.2 merged entries this way (SQLite's),
and put a step's `tools_started` in its model answer and results that completed
together in one `tool_results` entry; they are still read.
"""


def fold_checkpoints(record: RunRecord, checkpoints: list[Checkpoint]) -> RunRecord:
    """Rebuild completed steps, the pending step and recorded answers from the log."""
    steps: list[Step] = []
    responses: list[RecordedResponse] = []
    pending: PendingStep | None = None
    for cp in checkpoints:
        payload = cp.payload
        if cp.kind == "model_response" and ENDED_STEP in payload:
            payload = dict(payload)
            steps.append(_finished_step(pending, payload.pop(ENDED_STEP)))
            pending = None
        if pending is None or pending.step_number != cp.step_number:
            pending = PendingStep(step_number=cp.step_number)
        if cp.kind == "model_response":
            answer = RecordedResponse.model_validate(payload)
            pending = pending.model_copy(update={"response": answer})
            responses.append(answer)
            if answer.tools_started:
                pending.started.extend(answer.tools_started)
        elif cp.kind == "tools_started":
            pending.started.extend(payload["call_ids"])
        elif cp.kind == "tool_result":
            result = ToolResult.model_validate(payload)
            pending.results[result.call_id] = result
        elif cp.kind == "tool_results":
            for item in payload["results"]:
                result = ToolResult.model_validate(item)
                pending.results[result.call_id] = result
        elif cp.kind == "step_finished":
            steps.append(_finished_step(pending, payload))
            pending = None
    stored = record.result
    if stored is not None and record.status in ("completed", "paused"):
        # Stored without what the log holds (see `result_json`); put it back.
        update: dict[str, Any] = {}
        if not stored.steps and steps:
            update["steps"] = tuple(steps)
        if record.derived_messages:
            snapshot = record.snapshot
            update["messages"] = transcript(snapshot.system, snapshot.messages, steps)
        if update:
            stored = stored.model_copy(update=update)
    return record.model_copy(
        update={
            "result": stored,
            "derived_messages": False,
            "steps": steps,
            "pending": pending,
            "responses": responses,
            "checkpoints": checkpoints,
        }
    )


def _finished_step(pending: PendingStep | None, payload: dict[str, Any]) -> Step:
    """A step from its `step_finished` entry and the entries of the step before it."""
    answer = pending.response if pending is not None else None
    if pending is not None and answer is not None:
        # The step entry leaves out what the entries before it already hold (see
        # STEP_EXCLUDE); it holds `tool_calls` only when a person edited a call's
        # arguments. Older logs have only the calls and results left out.
        calls = payload.get("tool_calls", answer.tool_calls)
        payload = {
            "text": answer.text,
            "usage": answer.usage,
            "finish_reason": answer.finish_reason,
            "refusal": answer.refusal,
            "response_model": answer.model_name,
            "attempts": answer.attempts,
            "model_duration": answer.model_duration,
            "context": answer.context,
            "reasoning": answer.reasoning or (),
            "hosted_tools": answer.hosted_tools or (),
            "citations": answer.citations or (),
            **payload,
            "tool_calls": calls,
        }
        if "tool_results" not in payload:
            payload["tool_results"] = [pending.results[_call_id(c)] for c in calls]
    return Step.model_validate(payload)


def _call_id(call: Any) -> str:
    return call["call_id"] if isinstance(call, dict) else str(call.call_id)


@functools.cache
def prepare_serializers() -> None:
    """Build the pydantic schemas every run's writes need, once per process.

    gai's models build their schemas on first use, so that `import gai` stays fast. A
    store is opened at start-up: opening the first one builds what its writes use (a
    run's snapshot and its result, a few milliseconds), instead of the first run to
    use it paying for them while it runs.
    """
    RunSnapshot.model_rebuild()
    TextResult._adapter()


class BaseStore(ABC):
    """Shared logic of the backends: validation, record folding, state (de)serialising."""

    kind = "store"

    async def __aenter__(self) -> BaseStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- primitives each backend implements -------------------------------------------

    @abstractmethod
    def write(self, entries: Sequence[Entry]) -> Awaitable[None]:
        """Make `entries` durable, in order; an entry that fails stops the rest (see `RunStore`)."""

    @abstractmethod
    async def _load_row(self, run_id: str) -> RunRecord | None:
        """The run row (without steps), or None."""

    @abstractmethod
    async def _load_checkpoints(self, run_id: str) -> list[Checkpoint]:
        """The run's checkpoints in order."""

    @abstractmethod
    async def list_runs(
        self,
        status: RunStatus | None = None,
        limit: int = 100,
        *,
        model: str | None = None,
        search: str | None = None,
        before: RunSummary | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first, filtered; a page at a time.

        Args:
            status: Only runs in this status.
            limit: At most this many.
            model: Only runs of this model string.
            search: Only runs whose id or error contains this text (any case).
            before: The last run of the previous page: the runs after it.
            since: Only runs created at or after this time (timezone-aware).
            until: Only runs created before this time.
        """

    @abstractmethod
    async def delete_run(self, run_id: str) -> None:
        """Forget a run and its checkpoints."""

    @abstractmethod
    async def _save_state(self, key: str, data: str) -> None: ...

    @abstractmethod
    async def _load_state(self, key: str) -> str | None: ...

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the state under `key` (no error if absent)."""

    @abstractmethod
    async def list(self, prefix: str = "") -> list[str]:
        """State keys starting with `prefix`, sorted."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections."""

    # --- shared behaviour -------------------------------------------------------------

    async def load_run(self, run_id: str) -> RunRecord:
        """Everything stored about a run.

        Raises:
            RunNotFoundError: No run has that id.
        """
        record = await self._load_row(run_id)
        if record is None:
            raise RunNotFoundError(
                f"No run {run_id!r} in this {self.kind} store; `gai runs list` shows the "
                f"stored runs."
            )
        return fold_checkpoints(record, await self._load_checkpoints(run_id))

    async def save(self, key: str, state: WorkflowState) -> None:
        """Store workflow `state` under `key`, replacing what was there."""
        if not key:
            raise StoreError("State keys must be non-empty strings.")
        await self._save_state(key, state.model_dump_json())

    # --- sessions (gai.Session): an append-only log of messages per session ----------

    async def _session_items(self, session_id: str) -> builtins.list[SessionItem]:
        """The session's items in order (empty for an unknown session)."""
        raise self._no_sessions()

    async def _session_append(self, session_id: str, items: Sequence[SessionItem]) -> None:
        """Add `items` (numbered after the last one), all or none.

        Raises:
            SessionConflictError: An item's number is taken (another writer got there).
        """
        raise self._no_sessions()

    async def _session_truncate(self, session_id: str, from_seq: int) -> None:
        """Remove the session's items numbered `from_seq` and after."""
        raise self._no_sessions()

    async def list_sessions(self, limit: int = 100) -> builtins.list[SessionSummary]:
        """Sessions, most recently written first."""
        raise self._no_sessions()

    async def delete_session(self, session_id: str) -> None:
        """Forget a session's conversation (no error if there is none)."""
        await self._session_truncate(session_id, 1)

    def _no_sessions(self) -> StoreError:
        return StoreError(
            f"{type(self).__name__} keeps no sessions: use one of gai's stores (memory, "
            f"SQLite, PostgreSQL, Redis) for gai.Session."
        )

    async def load(self, key: str) -> WorkflowState | None:
        """The workflow state under `key`, or None."""
        data = await self._load_state(key)
        return None if data is None else WorkflowState.model_validate_json(data)
