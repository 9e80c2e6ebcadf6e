"""`resume`: continue a stored run without repeating its recorded work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gai.engine._loop import run_loop
from gai.engine.request import Request, Tools, normalize_tools
from gai.engine.sync import sync_twin
from gai.errors import UserError
from gai.providers.base import Model
from gai.types import TextResult

if TYPE_CHECKING:
    from gai.control.approval import Decision
    from gai.stop import StopWhen
    from gai.store.base import RunStore

__all__ = ["resume", "resume_sync"]


async def resume(
    run_id: str,
    *,
    store: RunStore,
    model: Model | str | None = None,
    tools: Tools = (),
    stop_when: StopWhen | None = None,
    approvals: Mapping[str, Decision] | None = None,
    **options: Any,
) -> TextResult:
    """Continue an interrupted run from its checkpoints.

    Recorded model answers are not requested again and recorded tool results are not
    executed again. A tool call that began but has no recorded result runs again only
    if its tool is `idempotent`; otherwise the model gets an error result saying the
    call was interrupted and its outcome is unknown. A run that already completed
    returns its stored result.

    Args:
        run_id: The run to continue.
        store: The store it was checkpointed in.
        model: The model to continue with; defaults to the stored model string.
        tools: The run's tools (functions cannot be stored, so pass them again).
        stop_when: The run's stop condition, if it had one (same reason).
        approvals: For a run paused for approval: `gai.approve()` or
            `gai.reject(reason)` per tool call id. Calls without a decision keep waiting.
        **options: Other `generate_text` options (deps, tool_timeout, retry...).

    Raises:
        RunNotFoundError: The store has no such run.
        UserError: A tool of the run or its stop condition was not passed again.
    """
    if not callable(getattr(store, "load_run", None)):
        raise UserError(
            f"store must be the run store the run was checkpointed in "
            f"(e.g. gai.store.SQLiteStore('runs.db')), got {type(store).__name__}."
        )
    record = await store.load_run(run_id)
    if record.status == "completed" and record.result is not None:
        return record.result
    if approvals:
        waiting = {c.call_id for c in (record.result.pending_approvals if record.result else ())}
        unknown = sorted(set(approvals) - waiting)
        if unknown:
            raise UserError(
                f"No tool call of run {run_id!r} waits for approval with id "
                f"{', '.join(map(repr, unknown))}; waiting: {', '.join(sorted(waiting)) or 'none'}."
            )
    snapshot = record.snapshot
    given = {t.name for t in normalize_tools(tools)}
    missing = [t.name for t in snapshot.tools if t.name not in given]
    if missing:
        raise UserError(
            f"Run {run_id!r} used tools that were not passed to resume: {', '.join(missing)}. "
            f"Pass the same tools= as the original run."
        )
    if snapshot.stop_condition is not None and stop_when is None:
        raise UserError(
            f"Run {run_id!r} ran with stop_when={snapshot.stop_condition}; pass the same "
            f"stop_when= to resume it (conditions are code, so they are not stored)."
        )
    request = Request(
        messages=snapshot.messages,
        system=snapshot.system,
        tools=normalize_tools(tools),
        stop_when=stop_when,
        tool_choice=snapshot.tool_choice,
        max_steps_limit=snapshot.max_steps_limit,
        settings=snapshot.settings,
        run_id=run_id,
        run_store=store,
        **{"metadata": snapshot.metadata, **options},
    )
    return await run_loop(
        model if model is not None else record.model, request, resume=record, approvals=approvals
    )


resume_sync = sync_twin(resume)
