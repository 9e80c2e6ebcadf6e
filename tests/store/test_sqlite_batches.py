"""SQLite group commit: one batch, many runs; a failing write fails only its own run."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

import gai
from gai.models import ScriptedModel
from gai.providers.base import ModelResponse
from gai.store import Entry, LogEntry, NewRun, RunSnapshot, SQLiteStore, StatusChange, _sqlite_batch
from gai.types import ToolDefinition
from tests.store.conftest import log


def snapshot() -> RunSnapshot:
    return RunSnapshot(messages=[gai.user("hi")])


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_an_unknown_run_fails_alone_in_its_batch(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.db")
    await store.write([NewRun("r1", "m", snapshot()), NewRun("r2", "m", snapshot())])
    # Written at once, so they share a batch (and its transaction).
    writes = [
        store.write([log("r1", 1, "tools_started", 1, {"call_ids": ["a"]})]),
        store.write([log("ghost", 1, "tools_started", 1, {"call_ids": ["b"]})]),
        store.write([log("r2", 1, "tools_started", 1, {"call_ids": ["c"]})]),
    ]
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], gai.errors.RunNotFoundError)
    assert "ghost" in str(outcomes[1])
    assert (await store.load_run("r1")).pending.started == ["a"]  # type: ignore[union-attr]
    assert (await store.load_run("r2")).pending.started == ["c"]  # type: ignore[union-attr]
    await store.aclose()


async def test_a_checkpoint_number_taken_by_another_writer_is_an_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.db")
    await store.write([NewRun("r1", "m", snapshot()), NewRun("r2", "m", snapshot())])
    entry = log("r1", 1, "tools_started", 1, {"call_ids": ["a"]})
    await store.write([entry])
    # A second writer of r1 (another process resuming it) numbers its entry 1 again.
    outcomes = await asyncio.gather(
        store.write([entry]),
        store.write([log("r2", 1, "tools_started", 1, {"call_ids": ["a"]})]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], gai.errors.StoreError)
    assert "another process is writing this run" in str(outcomes[0])
    assert outcomes[1] is None
    assert [c.seq for c in (await store.load_run("r1")).checkpoints] == [1]
    assert [c.seq for c in (await store.load_run("r2")).checkpoints] == [1]
    await store.aclose()


async def test_updated_at_follows_checkpoints_to_within_the_touch_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "b.db"
    store = SQLiteStore(path)
    await store.write([NewRun("r1", "m", snapshot())])
    created = rows(path, "SELECT created_at, updated_at FROM gai_runs")[0]
    assert created[0] == created[1]
    # Within the interval of the run's last touch, a checkpoint leaves updated_at alone.
    await store.write([log("r1", 1, "tools_started", 1, {"call_ids": ["a"]})])
    assert rows(path, "SELECT updated_at FROM gai_runs")[0][0] == created[1]
    monkeypatch.setattr(_sqlite_batch, "TOUCH_EVERY", 0.0)
    await store.write([log("r1", 2, "tools_started", 2, {"call_ids": ["b"]})])
    touched = rows(path, "SELECT updated_at FROM gai_runs")[0][0]
    assert isinstance(touched, str)
    assert touched > str(created[1])
    await store.write([StatusChange("r1", "completed")])
    assert store._writer.touch_due == set()  # finished runs are forgotten
    await store.aclose()


@gai.tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


async def test_a_completed_run_reads_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    store = SQLiteStore(path)
    model = ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    gai.ToolCall(call_id="c1", name="lookup", arguments={"key": "x"}),
                    gai.ToolCall(call_id="c2", name="lookup", arguments={"key": "y"}),
                )
            ),
            "done",
        ]
    )
    result = await gai.generate_text(
        model, prompt="go", tools=[lookup], stop_when=gai.NoMoreTools(), run_store=store,
        run_id="r1",
    )  # fmt: skip
    # The row leaves out the steps (the log holds them); reading the run puts them back.
    stored = orjson.loads(str(rows(path, "SELECT result FROM gai_runs")[0][0]))
    assert stored["steps"] == []
    record = await store.load_run("r1")
    assert record.result == result
    assert [c.seq for c in record.checkpoints] == list(range(1, len(record.checkpoints) + 1))
    assert await gai.resume("r1", store=store, tools=[lookup], stop_when=gai.NoMoreTools()) == (
        result
    )
    await store.aclose()


async def test_a_failed_run_keeps_the_steps_of_its_result(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    store = SQLiteStore(path)
    await store.write([NewRun("r1", "m", snapshot())])
    step = gai.Step(step_number=1, text="partial")
    partial = gai.TextResult(
        text="partial",
        steps=(step,),
        usage=gai.Usage(),
        stop_reason=gai.StopReason(kind="error", detail="boom"),
    )
    await store.write([StatusChange("r1", "failed", result=partial, error="boom")])
    record = await store.load_run("r1")
    assert record.steps == []  # no step_finished was logged
    assert record.result == partial
    await store.aclose()


async def test_a_run_logs_each_entry_in_order_and_a_cut_log_resumes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.db")
    model = ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    gai.ToolCall(call_id="c1", name="lookup", arguments={"key": "x"}),
                    gai.ToolCall(call_id="c2", name="lookup", arguments={"key": "y"}),
                )
            ),
            "done",
        ]
    )
    await gai.generate_text(
        model, prompt="go", tools=[lookup], stop_when=gai.NoMoreTools(), run_store=store,
        run_id="r1",
    )  # fmt: skip
    record = await store.load_run("r1")
    kinds = [c.kind for c in record.checkpoints]
    assert kinds == [
        "model_response", "tools_started", "tool_result", "tool_result", "step_finished",
        "model_response", "step_finished",
    ]  # fmt: skip
    assert sorted(c.payload["call_id"] for c in record.checkpoints[2:4]) == ["c1", "c2"]
    assert record.checkpoints[1].payload["call_ids"] == ["c1", "c2"]
    assert [s.step_number for s in record.steps] == [1, 2]
    assert list(record.steps[0].tool_calls) == record.responses[0].tool_calls
    # Cut the log at the end of step 1: the run stopped after the tools, before its end.
    with sqlite3.connect(tmp_path / "b.db") as conn:
        conn.execute("DELETE FROM gai_checkpoints WHERE seq >= 5")
        conn.execute("UPDATE gai_runs SET status = 'running'")
    record = await store.load_run("r1")
    assert record.steps == []
    assert record.pending is not None
    assert sorted(record.pending.results) == ["c1", "c2"]
    # Cut it after the tools started, as a kill while they ran would leave it.
    with sqlite3.connect(tmp_path / "b.db") as conn:
        conn.execute("DELETE FROM gai_checkpoints WHERE seq > 2")
    record = await store.load_run("r1")
    assert record.pending is not None
    assert record.pending.started == ["c1", "c2"]
    assert record.pending.results == {}
    await store.aclose()


def _stored_messages(path: Path) -> list[object]:
    # A result kept without its conversation leaves the key out (it defaults to empty).
    stored = orjson.loads(str(rows(path, "SELECT result FROM gai_runs")[0][0]))
    return list(stored.get("messages", []))


async def test_a_conversation_only_steps_made_is_rebuilt_from_the_log(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    store = SQLiteStore(path)
    model = ScriptedModel(
        [ModelResponse(tool_calls=(gai.ToolCall(call_id="c1", name="lookup", arguments={"key": "x"}),)), "done"]
    )  # fmt: skip
    result = await gai.generate_text(
        model, messages=[gai.user("a"), gai.assistant("b"), gai.user("c")], system="be brief",
        tools=[lookup], stop_when=gai.NoMoreTools(), run_store=store, run_id="r1",
    )  # fmt: skip
    assert _stored_messages(path) == []
    assert rows(path, "SELECT derived_messages FROM gai_runs") == [(1,)]
    assert (await store.load_run("r1")).result == result
    assert result.messages[0].role == "system"
    await store.aclose()


async def test_a_conversation_edited_by_more_than_steps_is_stored_whole(tmp_path: Path) -> None:
    @gai.tool
    def send_email(to: str) -> str:
        """Send an email."""
        return "sent"

    def lazy(
        messages: Sequence[gai.Message], tools: Sequence[ToolDefinition]
    ) -> ModelResponse | str:
        if any(m.role == "user" and "not finished" in m.text for m in messages) and not any(
            m.tool_calls for m in messages
        ):
            return ModelResponse(
                tool_calls=(gai.ToolCall(call_id="e1", name="send_email", arguments={"to": "x"}),)
            )
        return "done"

    nudged_path, prepared_path = tmp_path / "n.db", tmp_path / "p.db"
    nudged_store, prepared_store = SQLiteStore(nudged_path), SQLiteStore(prepared_path)
    nudged = await gai.generate_text(
        gai.models.FunctionModel(lazy), prompt="email", tools=[send_email], stop_when=gai.MaxSteps(5),
        continue_when=~gai.UntilToolSeen("send_email"), run_store=nudged_store, run_id="n",
    )  # fmt: skip
    assert any(m.role == "user" and "not finished" in m.text for m in nudged.messages)
    prepared = await gai.generate_text(
        ScriptedModel(["done"]), prompt="x", system="old", stop_when=gai.MaxSteps(5),
        prepare_step=lambda state: gai.StepOverrides(system="new"), run_store=prepared_store,
        run_id="p",
    )  # fmt: skip
    assert prepared.messages[0].text == "new"
    for path, store, result, run_id in (
        (nudged_path, nudged_store, nudged, "n"),
        (prepared_path, prepared_store, prepared, "p"),
    ):
        assert len(_stored_messages(path)) == len(result.messages)
        assert rows(path, "SELECT derived_messages FROM gai_runs") == [(0,)]
        assert (await store.load_run(run_id)).result == result
        await store.aclose()


async def test_a_run_with_its_own_id_checks_its_record_before_its_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gai's own run ids cannot collide, so their record is not waited for; if writing it
    # fails all the same, the run stops at its next wait, before any tool starts.
    store = SQLiteStore(tmp_path / "b.db")
    ran: list[str] = []

    @gai.tool
    def ping() -> str:
        """Ping."""
        ran.append("ping")
        return "pong"

    write = _sqlite_batch.Writer.write

    def failing_write(
        self: _sqlite_batch.Writer, conn: sqlite3.Connection, writes: _sqlite_batch.Writes
    ) -> _sqlite_batch.Failures:
        if not ran and writes.creates:
            raise gai.errors.StoreError("disk full")
        return write(self, conn, writes)

    monkeypatch.setattr(_sqlite_batch.Writer, "write", failing_write)
    calls = ModelResponse(tool_calls=(gai.ToolCall(name="ping"),))
    with pytest.raises(gai.errors.StoreError, match="disk full"):
        await gai.generate_text(
            ScriptedModel([calls, "done"]), prompt="x", tools=[ping], run_store=store
        )
    assert ran == []
    assert rows(tmp_path / "b.db", "SELECT count(*) FROM gai_checkpoints") == [(0,)]
    # A run whose id was given waits for its record, as before.
    with pytest.raises(gai.errors.StoreError, match="disk full"):
        await gai.generate_text(ScriptedModel(["done"]), prompt="x", run_store=store, run_id="r")
    # With the store healthy, a made-up id's record and checkpoints commit in order.
    ran.append("healthy")
    result = await gai.generate_text(
        ScriptedModel([calls, "done"]),
        prompt="x",
        tools=[ping],
        run_store=store,
        stop_when=gai.MaxSteps(5),
    )
    stored = await store.load_run(result.run_id)
    assert (stored.status, result.text) == ("completed", "done")
    assert [c.kind for c in stored.checkpoints][:1] == ["model_response"]
    await store.aclose()


async def test_starting_a_run_under_a_taken_id_leaves_that_run_alone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.db")
    first = await gai.generate_text(gai.TestModel(), prompt="x", run_store=store, run_id="done")
    with pytest.raises(gai.errors.RunExistsError, match="done"):
        await gai.generate_text(gai.TestModel(), prompt="y", run_store=store, run_id="done")
    record = await store.load_run("done")
    assert (record.status, record.result) == ("completed", first)
    await store.aclose()


async def test_cancelling_one_run_leaves_the_commit_the_others_wait_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Runs waiting for the same group commit share its future: cancelling one of them
    # used to cancel it, so the others were cancelled too and the store's writer died.
    store = SQLiteStore(tmp_path / "b.db")
    waiting: list[str] = []
    all_waiting = asyncio.Event()
    write = store.write

    async def watched(entries: Sequence[Entry]) -> None:
        if any(isinstance(e, LogEntry) and e.kind == "tools_started" for e in entries):
            waiting.append(entries[0].run_id)
            if len(waiting) == 5:
                all_waiting.set()
        await write(entries)

    monkeypatch.setattr(store, "write", watched)

    @gai.tool
    def ping() -> str:
        """Ping."""
        return "pong"

    calls = ModelResponse(tool_calls=(gai.ToolCall(name="ping"),))
    runs = [
        asyncio.create_task(
            gai.generate_text(
                ScriptedModel([calls, "done"]),
                prompt=f"r{i}",
                tools=[ping],
                run_store=store,
                stop_when=gai.MaxSteps(3),
                run_id=f"r{i}",
            )
        )
        for i in range(5)
    ]
    await asyncio.wait_for(all_waiting.wait(), 10)
    runs[0].cancel()
    results = await asyncio.wait_for(asyncio.gather(*runs, return_exceptions=True), 10)
    assert isinstance(results[0], asyncio.CancelledError)
    assert [getattr(r, "text", None) for r in results[1:]] == ["done"] * 4
    statuses = {r.run_id: r.status for r in await store.list_runs()}
    assert statuses == {"r0": "cancelled", **{f"r{i}": "completed" for i in range(1, 5)}}
    await store.aclose()


@pytest.mark.parametrize("update_from", [True, False], ids=["update-from", "old-sqlite"])
@pytest.mark.parametrize("max_variables", [250_000, 999, 1], ids=["big", "999", "tiny"])
async def test_a_large_batch_lands_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update_from: bool, max_variables: int
) -> None:
    monkeypatch.setattr(_sqlite_batch, "_UPDATE_FROM", update_from)
    store = SQLiteStore(tmp_path / "b.db")
    store._writer = writer = _sqlite_batch.Writer(store.path, max_variables)
    statements = traced(store)
    # 343 runs: every size of statement the ladder has, and some of each left over.
    ids = [f"run-{i:03d}" for i in range(343)]
    writes = [
        store.write(
            [
                NewRun(run_id, "m", snapshot()),
                *(
                    log(run_id, s, "tools_started", s, {"call_ids": [f"{run_id}/{s}"]})
                    for s in (1, 2, 3)
                ),
                StatusChange(run_id, "completed" if run_id[-1] != "7" else "paused"),
            ]
        )
        for run_id in ids
    ]
    await asyncio.gather(*writes)  # written at once: one batch
    # Many rows a statement, as few statements as the ladder allows, and no retry.
    assert "ROLLBACK" not in statements
    ladder: tuple[int, ...] = (256, 64, 16, 4, 1) if max_variables > 1281 else (64, 16, 4, 1)
    ladder = ladder if max_variables > 1 else (1,)
    assert writer.ladder == ladder
    expected = least_statements(343, ladder) + least_statements(3 * 343, ladder)
    expected += least_statements(343, ladder) if update_from else 343
    assert len(statements) == expected + 2  # and BEGIN, COMMIT
    runs = rows(tmp_path / "b.db", "SELECT run_key, run_id, status FROM gai_runs ORDER BY run_key")
    assert [r[1] for r in runs] == ids  # keys follow the order the runs were queued in
    assert [r[2] for r in runs] == ["completed" if i[-1] != "7" else "paused" for i in ids]
    for run_id in ("run-000", "run-255", "run-342"):
        loaded = await store.load_run(run_id)
        assert loaded is not None
        assert [(c.seq, c.payload["call_ids"]) for c in loaded.checkpoints] == [
            (seq, [f"{run_id}/{seq}"]) for seq in (1, 2, 3)
        ]
    await store.aclose()


def traced(store: SQLiteStore) -> list[str]:
    """The statements the store's connection runs from now on, one per execution."""
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    return statements


def least_statements(rows: int, ladder: tuple[int, ...]) -> int:
    count = 0
    for size in ladder:
        count, rows = count + rows // size, rows % size
    return count


async def test_a_run_given_two_statuses_in_one_batch_ends_with_the_later(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.db")
    await store.write([NewRun(run_id, "m", snapshot()) for run_id in ("r1", "r2", "r3")])
    statements = traced(store)
    # Four statuses in one batch: one statement's worth, were they not for one run twice.
    await asyncio.gather(
        store.write([StatusChange("r1", "paused")]),
        store.write([StatusChange("r2", "failed", error="boom")]),
        store.write([StatusChange("r3", "completed")]),
        store.write([StatusChange("r1", "running")]),
    )
    assert "ROLLBACK" not in statements  # known at once to need row by row
    assert rows(tmp_path / "b.db", "SELECT run_id, status, error FROM gai_runs ORDER BY 1") == [
        ("r1", "running", None),
        ("r2", "failed", "boom"),
        ("r3", "completed", None),
    ]
    await store.aclose()


async def test_an_unknown_run_among_many_fails_alone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "b.db")
    ids = [f"r{i}" for i in range(100)]
    await store.write([NewRun(run_id, "m", snapshot()) for run_id in ids])
    writers = [*ids[:50], "ghost", *ids[50:]]
    outcomes = await asyncio.gather(
        *(store.write([log(r, 1, "tools_started", 1, {"call_ids": ["a"]})]) for r in writers),
        store.write([StatusChange("ghost", "completed")]),
        return_exceptions=True,
    )
    failed = [w for w, o in zip([*writers, "ghost"], outcomes, strict=True) if o is not None]
    assert failed == ["ghost", "ghost"]
    assert all(isinstance(o, gai.errors.RunNotFoundError) for o in outcomes if o is not None)
    assert rows(tmp_path / "b.db", "SELECT count(*) FROM gai_checkpoints") == [(100,)]
    await store.aclose()
