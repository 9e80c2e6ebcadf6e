"""`fork`: a new run that starts from a stored run's state after one of its steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gai._ids import new_run_id
from gai.engine._checkpoint import Checkpointer
from gai.engine._control import answered_result
from gai.engine.request import Tools, normalize_tools
from gai.engine.resuming import resume
from gai.engine.sync import sync_twin
from gai.errors import StoreError, UserError
from gai.providers.base import Model
from gai.store.base import ENDED_STEP
from gai.store.records import RecordedResponse, RunRecord
from gai.types import Step, TextResult, ToolCall, user

if TYPE_CHECKING:
    from gai.stop import StopWhen
    from gai.store.base import RunStore

__all__ = ["fork", "fork_sync"]


async def fork(
    run_id: str,
    *,
    at_step: int,
    store: RunStore,
    model: Model | str | None = None,
    tools: Tools = (),
    stop_when: StopWhen | None = None,
    prompt: str | None = None,
    tool_results: Mapping[str, Any] | None = None,
    new_run_id: str | None = None,
    **options: Any,
) -> TextResult:
    """Start a new run from the state of run `run_id` after its step `at_step`.

    The new run's first `at_step` steps are the parent's, copied into its log: their
    model answers are not requested again and their tools do not run again. It then
    goes on as a resumed run would, with whatever you changed: another model, another
    tool set, a prompt added after the copied steps, or tool results edited ("what if
    the search had returned this?"). The parent is unchanged; the new run's snapshot
    names it (`gai runs tree` shows the family).

    Args:
        run_id: The run to fork.
        at_step: How many of its steps to keep (0 starts again from its input).
        store: The store both runs live in.
        model: The model to go on with; defaults to the parent's.
        tools: The tools to go on with. The parent's must be given again (functions are
            not stored) unless you give another set.
        stop_when: The stop condition, if the parent had one (it is code, not stored).
        prompt: A user message added after the copied steps.
        tool_results: New results for calls of the copied steps, by call id: the
            model reads these instead of what the tools returned.
        new_run_id: The new run's id; generated when not given.
        **options: Other `generate_text` options (deps, budget, run_store is `store`).

    Returns:
        The new run's result.

    Raises:
        RunNotFoundError: The store has no run `run_id`.
        UserError: `at_step` is out of range, or `tool_results` names a call that is not
            in the copied steps.
    """
    if not callable(getattr(store, "load_run", None)):
        raise UserError(
            f"store must be the run store the run was checkpointed in "
            f"(e.g. gai.store.SQLiteStore('runs.db')), got {type(store).__name__}."
        )
    record = await store.load_run(run_id)
    steps = _copied_steps(record, at_step, tool_results or {})
    snapshot = record.snapshot
    update: dict[str, Any] = {"parent_run_id": run_id, "forked_at": at_step}
    # What the parent (itself a fork) added within the copied steps stays where it was.
    added = [(n, m) for n, m in snapshot.added_messages or () if n <= at_step]
    if prompt is not None:
        if not isinstance(prompt, str):
            raise UserError(f"prompt must be a string, got {type(prompt).__name__}.")
        added.append((at_step, [user(prompt)]))
    update["added_messages"] = added or None
    if tools:
        update["tools"] = [t.definition for t in normalize_tools(tools)]
    snapshot = snapshot.model_copy(update=update)
    child = new_run_id or _new_id()
    checkpoint = Checkpointer(store, child)
    await checkpoint.start(record.model if model is None else _name(model), snapshot)
    answers = _answers(record)
    for step in steps:
        answer = answers.get(step.step_number)
        if answer is None:
            raise StoreError(
                f"Run {run_id!r} has no recorded model answer for step {step.step_number}; "
                f"its log is incomplete, so it cannot be forked after that step."
            )
        checkpoint.copied_step(step, answer)
    await checkpoint.flush()
    return await resume(
        child,
        store=store,
        model=model if model is not None else record.model,
        tools=tools,
        stop_when=stop_when,
        **options,
    )


fork_sync = sync_twin(fork)


def _new_id() -> str:
    return new_run_id()


def _name(model: Model | str) -> str:
    return model if isinstance(model, str) else model.name


def _copied_steps(record: RunRecord, at_step: Any, edits: Mapping[str, Any]) -> list[Step]:
    count = len(record.steps)
    if not isinstance(at_step, int) or isinstance(at_step, bool) or not 0 <= at_step <= count:
        raise UserError(
            f"at_step must be a step number from 0 to {count} (run {record.run_id!r} has "
            f"{count} completed step(s)), got {at_step!r}."
        )
    steps = record.steps[:at_step]
    known = {r.call_id for s in steps for r in s.tool_results}
    unknown = sorted(set(edits) - known)
    if unknown:
        raise UserError(
            f"tool_results names call(s) {', '.join(map(repr, unknown))} that are not in "
            f"steps 1 to {at_step} of run {record.run_id!r}; their calls: "
            f"{', '.join(sorted(known)) or 'none'}."
        )
    if not edits:
        return steps
    out: list[Step] = []
    for step in steps:
        results = tuple(
            _edited(r.call_id, r.name, edits[r.call_id]) if r.call_id in edits else r
            for r in step.tool_results
        )
        error = step.error if any(r.error is not None for r in results) else None
        out.append(step.model_copy(update={"tool_results": results, "error": error}))
    return out


def _edited(call_id: str, name: str, output: Any) -> Any:
    from gai.control.approval import answer

    return answered_result(ToolCall(call_id=call_id, name=name), answer(output))


def _answers(record: RunRecord) -> dict[int, RecordedResponse]:
    """Each step's recorded model answer (the last one, if the step had several)."""
    out: dict[int, RecordedResponse] = {}
    for checkpoint in record.checkpoints:
        if checkpoint.kind == "model_response":
            payload = {k: v for k, v in checkpoint.payload.items() if k != ENDED_STEP}
            payload.pop("tools_started", None)
            out[checkpoint.step_number] = RecordedResponse.model_validate(payload)
    return out
