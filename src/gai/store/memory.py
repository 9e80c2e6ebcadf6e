"""`MemoryStore`: runs and state in this process's memory (tests, short scripts)."""

from __future__ import annotations

from typing import Any

from gai.errors import RunExistsError, RunNotFoundError
from gai.store.base import BaseStore, prepare_serializers
from gai.store.records import (
    Checkpoint,
    CheckpointKind,
    RunRecord,
    RunSnapshot,
    RunStatus,
    RunSummary,
    utcnow,
)
from gai.types import TextResult

__all__ = ["MemoryStore"]


class MemoryStore(BaseStore):
    """Keeps everything in dictionaries; lost when the process ends."""

    kind = "memory"

    def __init__(self) -> None:
        prepare_serializers()
        self._runs: dict[str, RunRecord] = {}
        self._checkpoints: dict[str, list[Checkpoint]] = {}
        self._state: dict[str, str] = {}

    async def create_run(self, run_id: str, model: str, snapshot: RunSnapshot) -> None:
        """Record a new run."""
        if run_id in self._runs:
            raise RunExistsError(f"Run {run_id!r} already exists; resume it or use another id.")
        now = utcnow()
        self._runs[run_id] = RunRecord(
            run_id=run_id,
            status="running",
            model=model,
            created_at=now,
            updated_at=now,
            snapshot=snapshot,
        )
        self._checkpoints[run_id] = []

    async def append(
        self, run_id: str, kind: CheckpointKind, step_number: int, payload: dict[str, Any]
    ) -> None:
        """Append a checkpoint."""
        log = self._log(run_id)
        log.append(
            Checkpoint(seq=len(log) + 1, kind=kind, step_number=step_number, payload=payload)
        )
        self._runs[run_id] = self._runs[run_id].model_copy(update={"updated_at": utcnow()})

    def _log(self, run_id: str) -> list[Checkpoint]:
        if run_id not in self._checkpoints:
            raise RunNotFoundError(f"No run {run_id!r} in this memory store.")
        return self._checkpoints[run_id]

    async def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: TextResult | None = None,
        error: str | None = None,
    ) -> None:
        """Record the run's status."""
        self._log(run_id)
        self._runs[run_id] = self._runs[run_id].model_copy(
            update={"status": status, "result": result, "error": error, "updated_at": utcnow()}
        )

    async def _load_row(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    async def _load_checkpoints(self, run_id: str) -> list[Checkpoint]:
        return list(self._checkpoints.get(run_id, ()))

    async def list_runs(
        self, status: RunStatus | None = None, limit: int = 100
    ) -> list[RunSummary]:
        """Runs, newest first."""
        rows = [r for r in self._runs.values() if status is None or r.status == status]
        rows.sort(key=lambda r: r.created_at, reverse=True)
        return [
            RunSummary(
                run_id=r.run_id,
                status=r.status,
                model=r.model,
                created_at=r.created_at,
                updated_at=r.updated_at,
                steps=sum(1 for c in self._checkpoints[r.run_id] if c.kind == "step_finished"),
                error=r.error,
            )
            for r in rows[:limit]
        ]

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

    async def aclose(self) -> None:
        """Nothing to release."""
