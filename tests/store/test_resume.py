"""Checkpointed runs and `gai.resume`: nothing recorded is repeated or lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import gai
from gai import MaxSteps, ModelResponse, ToolCall
from gai.store import BaseStore, Entry, LogEntry, StatusChange
from tests.store.conftest import open_backend


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, nothing catches it."""


class CrashingStore:
    """Delegates to a real store; crashes once the n-th entry of a kind is durable.

    `set_status` crashes instead of recording the run's completion.
    """

    def __init__(self, inner: BaseStore, kind: str, nth: int = 1) -> None:
        self.inner = inner
        self.kind = kind
        self.left = nth

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def write(self, entries: Sequence[Entry]) -> None:
        for index, entry in enumerate(entries):
            if isinstance(entry, StatusChange) and entry.status == "completed":
                if self.kind == "set_status":
                    await self.inner.write(entries[:index])
                    raise Crash("set_status")
            elif isinstance(entry, LogEntry) and entry.kind == self.kind:
                self.left -= 1
                if self.left == 0:
                    await self.inner.write(entries[: index + 1])
                    raise Crash(self.kind)
        await self.inner.write(entries)


class World:
    """Two steps of two parallel tools, then an answer; counts every side effect."""

    def __init__(self) -> None:
        self.effects: Counter[str] = Counter()

        @gai.tool(idempotent=True)
        def read(key: str) -> str:
            """Read a key (safe to repeat)."""
            self.effects[f"read:{key}"] += 1
            return f"value-{key}"

        @gai.tool
        def write(key: str) -> str:
            """Write a key (not safe to repeat)."""
            self.effects[f"write:{key}"] += 1
            return f"wrote-{key}"

        self.tools = [read, write]

    def model(self, answered: int = 0) -> gai.ScriptedModel:
        """The model, less the answers a run already recorded."""
        return gai.ScriptedModel(
            [
                ModelResponse(
                    text="step one",
                    tool_calls=(
                        ToolCall(call_id="a1", name="read", arguments={"key": "a"}),
                        ToolCall(call_id="a2", name="write", arguments={"key": "a"}),
                    ),
                ),
                ModelResponse(
                    tool_calls=(
                        ToolCall(call_id="b1", name="read", arguments={"key": "b"}),
                        ToolCall(call_id="b2", name="write", arguments={"key": "b"}),
                    )
                ),
                ModelResponse(text="all done"),
            ][answered:]
        )


STOP = MaxSteps(10)


async def reference() -> gai.TextResult:
    world = World()
    return await gai.generate_text(world.model(), prompt="go", tools=world.tools, stop_when=STOP)


@pytest.mark.parametrize(
    ("kind", "nth"),
    [
        ("model_response", 1),
        ("tools_started", 1),
        ("tool_result", 1),
        ("tool_result", 2),
        ("step_finished", 1),
        ("model_response", 2),
        ("step_finished", 2),
        ("model_response", 3),
        ("set_status", 1),
    ],
)
async def test_crash_then_resume_matches_the_uninterrupted_run(
    store: BaseStore, kind: str, nth: int
):
    expected = await reference()
    world = World()
    model = world.model()
    crashing = CrashingStore(store, kind, nth)
    with pytest.raises(Crash):
        await gai.generate_text(
            model,
            prompt="go",
            tools=world.tools,
            stop_when=STOP,
            run_id="r",
            run_store=crashing,  # type: ignore[arg-type]
        )
    before = await store.load_run("r")
    assert before.status == "running"  # a crash records nothing more
    # The model is asked only for what it had not answered, or its answer not recorded.
    rest = world.model(answered=len(before.responses))
    result = await gai.resume("r", store=store, model=rest, tools=world.tools, stop_when=STOP)
    assert len(rest.requests) == 3 - len(before.responses)
    assert [m.model_dump() for m in result.messages if m.role != "tool"] == [
        m.model_dump() for m in expected.messages if m.role != "tool"
    ]
    assert result.text == "all done"
    # Non-idempotent writes never run twice; only interrupted ones may be missing.
    assert all(n == 1 for key, n in world.effects.items() if key.startswith("write"))
    record = await store.load_run("r")
    assert record.status == "completed"
    assert record.result == result
    assert len(record.steps) == 3


async def test_interrupted_non_idempotent_call_reports_unknown_outcome(store: BaseStore):
    world = World()
    model = world.model()
    with pytest.raises(Crash):
        await gai.generate_text(
            model,
            prompt="go",
            tools=world.tools,
            stop_when=STOP,
            run_id="r",
            run_store=CrashingStore(store, "tools_started"),  # type: ignore[arg-type]
        )
    assert world.effects == Counter()  # crashed after recording the start, before running
    result = await gai.resume("r", store=store, model=model, tools=world.tools, stop_when=STOP)
    first = result.steps[0].tool_results
    assert first[0].output == "value-a"  # idempotent read ran again
    assert first[1].error is not None
    assert "interrupted" in first[1].error
    assert "unknown" in first[1].error
    assert world.effects["write:a"] == 0
    assert world.effects["write:b"] == 1


async def test_cancelled_run_is_recorded_and_resumes(store: BaseStore):
    started = asyncio.Event()

    @gai.tool(idempotent=True)
    async def slow() -> str:
        """Slow (a test tool)."""
        started.set()
        await asyncio.Event().wait()
        return "never"

    @gai.tool(idempotent=True)
    async def fast() -> str:
        """Fast (a test tool)."""
        return "fast"

    model = gai.ScriptedModel(
        [ModelResponse(tool_calls=(ToolCall(call_id="s", name="slow"),)), "done"]
    )
    task = asyncio.create_task(
        gai.generate_text(
            model, prompt="x", tools=[slow], stop_when=STOP, run_id="c", run_store=store
        )
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await store.load_run("c")
    assert record.status == "cancelled"
    assert record.pending is not None
    assert record.pending.started == ["s"]

    @gai.tool(name="slow", idempotent=True)
    async def slow_now() -> str:
        """Slow now (a test tool)."""
        return "fine now"

    result = await gai.resume("c", store=store, model=model, tools=[slow_now], stop_when=STOP)
    assert result.steps[0].tool_results[0].output == "fine now"
    assert result.text == "done"


async def test_resume_needs_the_tools_and_stop_condition(store: BaseStore):
    world = World()
    with pytest.raises(Crash):
        await gai.generate_text(
            world.model(),
            prompt="go",
            tools=world.tools,
            stop_when=STOP,
            run_id="r",
            run_store=CrashingStore(store, "step_finished"),  # type: ignore[arg-type]
        )
    with pytest.raises(gai.UserError, match="not passed to resume: read, write"):
        await gai.resume("r", store=store, model=world.model(), stop_when=STOP)
    with pytest.raises(gai.UserError, match="stop_when=MaxSteps"):
        await gai.resume("r", store=store, model=world.model(), tools=world.tools)
    with pytest.raises(gai.errors.RunNotFoundError):
        await gai.resume("other", store=store, model=world.model())


async def test_completed_run_returns_its_stored_result_and_ids_are_unique(store: BaseStore):
    result = await gai.generate_text(gai.TestModel(), prompt="x", run_store=store, run_id="done")
    again = await gai.resume("done", store=store)
    assert again == result
    with pytest.raises(gai.errors.RunExistsError):
        await gai.generate_text(gai.TestModel(), prompt="x", run_store=store, run_id="done")
    # The run already there is left as it was (it is not marked failed by the other).
    record = await store.load_run("done")
    assert (record.status, record.result) == ("completed", result)


async def test_failed_run_keeps_its_steps_in_the_store(store: BaseStore):
    def model(messages, tools):
        if len(messages) > 1:
            raise gai.errors.InvalidRequestError("bad", provider="p", status=400)
        return ModelResponse(tool_calls=(ToolCall(name="ping"),))

    @gai.tool
    def ping() -> str:
        """Ping (a test tool)."""
        return "pong"

    with pytest.raises(gai.errors.InvalidRequestError):
        await gai.generate_text(
            gai.models.FunctionModel(model),
            prompt="x",
            tools=[ping],
            stop_when=STOP,
            run_id="f",
            run_store=store,
        )
    record = await store.load_run("f")
    assert record.status == "failed"
    assert record.error is not None
    assert "InvalidRequestError" in record.error
    assert len(record.steps) == 1
    assert record.result is not None
    assert record.result.stop_reason.kind == "error"


async def test_sqlite_store_survives_process_restart_for_resume(tmp_path: Path):
    world = World()
    model = world.model()
    store = await open_backend("sqlite", tmp_path)
    with pytest.raises(Crash):
        await gai.generate_text(
            model,
            prompt="go",
            tools=world.tools,
            stop_when=STOP,
            run_id="p",
            run_store=CrashingStore(store, "step_finished"),  # type: ignore[arg-type]
        )
    await store.aclose()
    reopened = await open_backend("sqlite", tmp_path, fresh=False)
    result = await gai.resume("p", store=reopened, model=model, tools=world.tools, stop_when=STOP)
    await reopened.aclose()
    assert result.text == "all done"
