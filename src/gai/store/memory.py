"""`MemoryStore`: runs and state in this process's memory (tests, short scripts)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson

from gai.errors import RunExistsError, RunNotFoundError, SessionConflictError, StoreError
from gai.store import _rows
from gai.store.base import BaseStore, prepare_serializers
from gai.store.entries import Entry, LogEntry, NewRun
from gai.store.records import (
    Checkpoint,
    RunRecord,
    RunStatus,
    RunSummary,
    SessionItem,
    SessionSummary,
    utcnow,
)

__all__ = ["MemoryStore"]


class MemoryStore(BaseStore):
    """Keeps everything in dictionaries; lost when the process ends."""

    kind = "memory"

    def __init__(self) -> None:
        prepare_serializers()
        self._runs: dict[str, RunRecord] = {}
        self._checkpoints: dict[str, list[Checkpoint]] = {}
        self._state: dict[str, str] = {}
        self._sessions: dict[str, list[SessionItem]] = {}

    async def write(self, entries: Sequence[Entry]) -> None:
        """Apply `entries` in order, all or none: all are checked before any is applied."""
        self._check(entries)
        now = utcnow()
        for entry in entries:
            if isinstance(entry, NewRun):
                self._runs[entry.run_id] = RunRecord(
                    run_id=entry.run_id,
                    status="running",
                    model=entry.model,
                    created_at=now,
                    updated_at=now,
                    snapshot=entry.snapshot,
                )
                self._checkpoints[entry.run_id] = []
                continue
            update: dict[str, Any] = {"updated_at": now}
            if isinstance(entry, LogEntry):
                payload = orjson.loads(entry.data)
                self._checkpoints[entry.run_id].append(
                    Checkpoint(
                        seq=entry.seq,
                        kind=entry.kind,
                        step_number=entry.step_number,
                        payload=payload,
                    )
                )
            else:
                update |= {"status": entry.status, "result": entry.result, "error": entry.error}
            self._runs[entry.run_id] = self._runs[entry.run_id].model_copy(update=update)

    def _check(self, entries: Sequence[Entry]) -> None:
        next_seq: dict[str, int] = {}
        for entry in entries:
            run_id = entry.run_id
            if isinstance(entry, NewRun):
                if run_id in self._runs or run_id in next_seq:
                    raise RunExistsError(
                        f"Run {run_id!r} already exists; resume it or use another id."
                    )
                next_seq[run_id] = 1
                continue
            if run_id not in self._runs and run_id not in next_seq:
                raise RunNotFoundError(f"No run {run_id!r} in this memory store.")
            if isinstance(entry, LogEntry):
                expected = next_seq.get(run_id) or len(self._checkpoints[run_id]) + 1
                if entry.seq != expected:
                    raise StoreError(
                        f"Checkpoint {entry.seq} of run {run_id!r} is taken: another process "
                        f"is writing this run."
                    )
                next_seq[run_id] = expected + 1

    async def _load_row(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    async def _load_checkpoints(self, run_id: str) -> list[Checkpoint]:
        return list(self._checkpoints.get(run_id, ()))

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
        """Runs, newest first."""
        summaries = [
            RunSummary(
                run_id=r.run_id,
                status=r.status,
                model=r.model,
                created_at=r.created_at,
                updated_at=r.updated_at,
                steps=sum(1 for c in self._checkpoints[r.run_id] if c.kind == "step_finished"),
                error=r.error,
            )
            for r in self._runs.values()
        ]
        found = [
            s for s in summaries if _rows.matches(s, status, model, search, before, since, until)
        ]
        found.sort(key=lambda s: (s.created_at, s.run_id), reverse=True)
        return found[:limit]

    async def delete_run(self, run_id: str) -> None:
        """Forget a run."""
        self._runs.pop(run_id, None)
        self._checkpoints.pop(run_id, None)

    async def _save_state(self, key: str, data: str) -> None:
        self._state[key] = data

    async def _load_state(self, key: str) -> str | None:
        return self._state.get(key)

    async def delete(self, key: str) -> None:
        """Remove a state key."""
        self._state.pop(key, None)

    async def list(self, prefix: str = "") -> list[str]:
        """State keys with `prefix`."""
        return sorted(k for k in self._state if k.startswith(prefix))

    async def _session_items(self, session_id: str) -> builtins.list[SessionItem]:
        return list(self._sessions.get(session_id, ()))

    async def _session_append(self, session_id: str, items: Sequence[SessionItem]) -> None:
        log = self._sessions.setdefault(session_id, [])
        for offset, item in enumerate(items):
            if item.seq != len(log) + 1 + offset:
                raise SessionConflictError(
                    f"Item {item.seq} of session {session_id!r} is taken: another run wrote "
                    f"to the session meanwhile."
                )
        now = utcnow()
        log.extend(item.model_copy(update={"created_at": now}) for item in items)

    async def _session_truncate(self, session_id: str, from_seq: int) -> None:
        log = self._sessions.get(session_id)
        if log is not None:
            del log[from_seq - 1 :]
            if not log:
                del self._sessions[session_id]

    async def list_sessions(self, limit: int = 100) -> builtins.list[SessionSummary]:
        """Sessions, most recently written first."""
        out = [
            SessionSummary(
                session_id=key,
                items=len(log),
                turns=log[-1].turn,
                updated_at=log[-1].created_at or utcnow(),
            )
            for key, log in self._sessions.items()
        ]
        out.sort(key=lambda s: s.updated_at, reverse=True)
        return out[:limit]

    async def aclose(self) -> None:
        """Nothing to release."""
