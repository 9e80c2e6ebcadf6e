"""One behaviour suite for every store backend."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import gai
from gai.store import (
    BaseStore,
    NewRun,
    RunSnapshot,
    RunStore,
    SQLiteStore,
    StateStorage,
    StatusChange,
    WorkflowState,
)
from tests.store.conftest import log, open_backend


def snapshot(text: str = "hi") -> RunSnapshot:
    return RunSnapshot(
        messages=[gai.user(text)],
        tools=[gai.types.ToolDefinition(name="f")],
        stop_condition="MaxSteps(3)",
    )


async def test_runs_round_trip_through_the_log(store: BaseStore):
    assert isinstance(store, RunStore)
    assert isinstance(store, StateStorage)
    call = gai.ToolCall(call_id="c1", name="f", arguments={"x": 1})
    await store.write(
        [
            NewRun("r1", "test", snapshot()),
            log("r1", 1, "model_response", 1, {"text": "", "tool_calls": [call.model_dump()]}),
            log("r1", 2, "tools_started", 1, {"call_ids": ["c1"]}),
        ]
    )
    record = await store.load_run("r1")
    assert record.status == "running"
    assert record.pending is not None
    assert record.pending.response is not None
    assert record.pending.response.tool_calls == [call]
    assert record.pending.started == ["c1"]
    result = gai.ToolResult(call_id="c1", name="f", output={"y": 2}, duration=0.5)
    await store.write([log("r1", 3, "tool_result", 1, result)])
    step = gai.Step(step_number=1, tool_calls=(call,), tool_results=(result,))
    await store.write([log("r1", 4, "step_finished", 1, step)])
    record = await store.load_run("r1")
    assert record.steps == [step]
    assert record.pending is None
    assert [c.seq for c in record.checkpoints] == [1, 2, 3, 4]
    assert record.snapshot == snapshot()
    final = gai.TextResult(
        text="",
        steps=(step,),
        usage=gai.Usage(),
        stop_reason=gai.StopReason(kind="max_steps", detail="d"),
    )
    await store.write([StatusChange("r1", "completed", result=final)])
    record = await store.load_run("r1")
    assert (record.status, record.result) == ("completed", final)


async def test_missing_and_duplicate_runs(store: BaseStore):
    with pytest.raises(gai.errors.RunNotFoundError, match="nope"):
        await store.load_run("nope")
    with pytest.raises(gai.errors.RunNotFoundError):
        await store.write([log("nope", 1, "tools_started", 1, {"call_ids": []})])
    with pytest.raises(gai.errors.RunNotFoundError):
        await store.write([StatusChange("nope", "failed")])
    await store.write([NewRun("dup", "test", snapshot())])
    with pytest.raises(gai.errors.RunExistsError, match="already exists"):
        await store.write([NewRun("dup", "test", snapshot())])
    # An entry that fails stops the ones after it.
    with pytest.raises(gai.errors.RunExistsError):
        await store.write(
            [NewRun("dup", "test", snapshot()), log("dup", 1, "tools_started", 1, {})]
        )
    assert (await store.load_run("dup")).checkpoints == []


async def test_a_taken_entry_number_is_an_error(store: BaseStore):
    await store.write(
        [NewRun("r", "test", snapshot()), log("r", 1, "tools_started", 1, {"call_ids": []})]
    )
    with pytest.raises(gai.errors.StoreError, match="another process"):
        await store.write([log("r", 1, "tools_started", 1, {"call_ids": ["x"]})])
    assert [c.payload for c in (await store.load_run("r")).checkpoints] == [{"call_ids": []}]


async def test_runs_are_filtered_and_paged_in_the_store(store: BaseStore):
    for i in range(7):
        model = "openai:gpt-x" if i % 2 else "anthropic:claude-y"
        await store.write([NewRun(f"job_{i}", model, snapshot())])
        await asyncio.sleep(0.002)
    await store.write([StatusChange("job_5", "failed", error="Card DECLINED by bank")])
    page = await store.list_runs(limit=3)
    assert [r.run_id for r in page] == ["job_6", "job_5", "job_4"]
    page = await store.list_runs(limit=3, before=page[-1])
    assert [r.run_id for r in page] == ["job_3", "job_2", "job_1"]
    page = await store.list_runs(limit=3, before=page[-1])
    assert [r.run_id for r in page] == ["job_0"]
    gpt = await store.list_runs(model="openai:gpt-x")
    assert [r.run_id for r in gpt] == ["job_5", "job_3", "job_1"]
    assert [r.run_id for r in await store.list_runs(search="declined")] == ["job_5"]
    assert [r.run_id for r in await store.list_runs(search="B_3")] == ["job_3"]
    # LIKE's wildcards are searched for as text.
    assert await store.list_runs(search="%") == []
    assert [r.run_id for r in await store.list_runs(search="_4")] == ["job_4"]
    failed_gpt = await store.list_runs(status="failed", model="openai:gpt-x")
    assert [r.run_id for r in failed_gpt] == ["job_5"]
    every = await store.list_runs()
    middle = [
        r.run_id
        for r in await store.list_runs(since=every[4].created_at, until=every[1].created_at)
    ]
    assert middle == ["job_4", "job_3", "job_2"]
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.list_runs(since=every[0].created_at.replace(tzinfo=None))


async def test_list_and_delete_runs(store: BaseStore):
    for i in range(5):
        await store.write([NewRun(f"run-{i}", "test", snapshot())])
        await asyncio.sleep(0.002)  # distinct creation times to order by
    await store.write([log("run-3", 1, "step_finished", 1, gai.Step(step_number=1))])
    await store.write([StatusChange("run-1", "failed", error="boom")])
    runs = await store.list_runs()
    assert [r.run_id for r in runs] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    assert next(r for r in runs if r.run_id == "run-3").steps == 1
    failed = await store.list_runs(status="failed")
    assert [(r.run_id, r.error) for r in failed] == [("run-1", "boom")]
    assert len(await store.list_runs(limit=2)) == 2
    await store.delete_run("run-2")
    assert "run-2" not in [r.run_id for r in await store.list_runs()]
    with pytest.raises(gai.errors.RunNotFoundError):
        await store.load_run("run-2")


async def test_concurrent_runs_keep_their_own_ordered_logs(store: BaseStore):
    async def one(run_id: str) -> None:
        await store.write([NewRun(run_id, "test", snapshot())])
        for seq in range(1, 6):
            await store.write([log(run_id, seq, "tools_started", 1, {"call_ids": [f"c{seq}"]})])

    await asyncio.gather(*(one(f"busy-{i}") for i in range(8)))
    for i in range(8):
        record = await store.load_run(f"busy-{i}")
        assert [c.seq for c in record.checkpoints] == [1, 2, 3, 4, 5]
        assert record.pending is not None
        assert record.pending.started == [f"c{seq}" for seq in range(1, 6)]


async def test_workflow_state(store: BaseStore):
    state = WorkflowState(phase="processing", progress=0.4, data={"rows": 10}, metrics={"acc": 0.9})
    await store.save("wf/a", state)
    await store.save("wf/b", WorkflowState())
    await store.save("WF/c", WorkflowState())
    await store.save("wf_%x", WorkflowState())
    assert await store.load("wf/a") == state
    assert await store.load("missing") is None
    assert await store.list("wf/") == ["wf/a", "wf/b"]
    assert await store.list("wf_%") == ["wf_%x"]
    assert len(await store.list()) == 4
    await store.save("wf/a", state.model_copy(update={"progress": 1.0}))
    loaded = await store.load("wf/a")
    assert loaded is not None
    assert loaded.progress == 1.0
    await store.delete("wf/a")
    await store.delete("wf/a")
    assert await store.load("wf/a") is None
    with pytest.raises(gai.errors.StoreError):
        await store.save("", state)


async def test_newer_schema_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "new.db"
    SQLiteStore(path)  # creates the current version
    conn = sqlite3.connect(path)
    conn.execute("UPDATE gai_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(gai.errors.SchemaVersionError, match="schema version 99") as info:
        SQLiteStore(path)
    assert (info.value.found, info.value.supported) == (99, 4)


@pytest.mark.parametrize("kind", ["postgres", "redis"])
async def test_newer_schema_on_servers(kind: str, tmp_path: Path):
    store = await open_backend(kind, tmp_path)
    try:
        if kind == "postgres":
            async with store._pool.connection() as conn:  # type: ignore[attr-defined]
                await conn.execute("UPDATE gai_meta SET value = '99' WHERE key = 'schema_version'")
        else:
            await store._redis.hset("gai:meta", "schema_version", "99")  # type: ignore[attr-defined]
        with pytest.raises(gai.errors.SchemaVersionError, match="99"):
            await open_backend(kind, tmp_path, fresh=False)
    finally:
        if kind == "postgres":
            async with store._pool.connection() as conn:  # type: ignore[attr-defined]
                await conn.execute("UPDATE gai_meta SET value = '1' WHERE key = 'schema_version'")
        else:
            await store._redis.hset("gai:meta", "schema_version", "1")  # type: ignore[attr-defined]
        await store.aclose()


async def test_open_store_urls(tmp_path: Path):
    from gai.store import MemoryStore, open_store

    assert isinstance(await open_store("memory://"), MemoryStore)
    sqlite_store = await open_store(f"sqlite:///{tmp_path}/x.db")
    assert isinstance(sqlite_store, SQLiteStore)
    await sqlite_store.aclose()
    plain = await open_store(str(tmp_path / "y.db"))
    assert isinstance(plain, SQLiteStore)
    await plain.aclose()
    with pytest.raises(gai.UserError, match="Unknown store URL"):
        await open_store("mongodb://x")


@gai.tool
def note(text: str) -> str:
    """Take a note."""
    return text


async def test_list_counts_every_completed_step(store: BaseStore):
    script = [
        gai.ModelResponse(tool_calls=(gai.ToolCall(name="note", arguments={"text": str(i)}),))
        for i in range(5)
    ] + [gai.ModelResponse(text="done")]
    result = await gai.generate_text(
        gai.ScriptedModel(script), prompt="x", tools=[note], stop_when=gai.MaxSteps(10),
        run_store=store, run_id="six",
    )  # fmt: skip
    assert len(result.steps) == 6
    [summary] = [r for r in await store.list_runs() if r.run_id == "six"]
    assert summary.steps == 6
