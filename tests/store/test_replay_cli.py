"""Record and replay, the `gai runs` command, and PersistentWorkflowManager."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import gai
from gai import MaxSteps, ModelResponse, ToolCall
from gai.cli import main
from gai.models import ReplayModel
from gai.store import MemoryStore, SQLiteStore, WorkflowState
from gai.workflows import PersistentWorkflowManager


@gai.tool
def weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


@gai.tool
def news(topic: str) -> str:
    """News on a topic."""
    return f"calm on {topic}"


def recorded_model() -> gai.ScriptedModel:
    """Stands in for a real provider during the recording."""
    return gai.ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    ToolCall(call_id="w", name="weather", arguments={"city": "Lisbon"}),
                    ToolCall(call_id="n", name="news", arguments={"topic": "markets"}),
                )
            ),
            "Sunny in Lisbon; markets calm.",
        ],
        name="openai:gpt-4o-mini",
    )


async def record(store) -> gai.TextResult:
    return await gai.generate_text(
        recorded_model(),
        prompt="briefing",
        tools=[weather, news],
        stop_when=MaxSteps(5),
        run_id="rec",
        run_store=store,
    )


async def test_a_recorded_run_replays_offline_with_stub_tools(tmp_path: Path):
    store = SQLiteStore(tmp_path / "runs.db")
    original = await record(store)
    replay = await ReplayModel.from_run(store, "rec")
    result = await gai.generate_text(
        replay, prompt="briefing", tools=replay.stub_tools(), stop_when=MaxSteps(5)
    )
    replay.verify()
    assert result.text == original.text
    assert [r.output for r in result.tool_results] == [r.output for r in original.tool_results]
    assert replay.name == "replay:openai:gpt-4o-mini"
    # The same from an exported file, with the real tools this time.
    path = tmp_path / "run.json"
    assert (
        main(["runs", "export", "rec", "--store", str(tmp_path / "runs.db"), "-o", str(path)]) == 0
    )
    from_file = ReplayModel.from_file(path)
    again = await gai.generate_text(
        from_file, prompt="briefing", tools=[weather, news], stop_when=MaxSteps(5)
    )
    from_file.verify()
    assert again.messages == original.messages
    await store.aclose()


async def test_replay_fails_loudly_on_drift():
    store = MemoryStore()
    await record(store)

    replay = await ReplayModel.from_run(store, "rec")
    with pytest.raises(
        gai.errors.ReplayDriftError,
        match=r"offered tools \['weather'\], but the recording offered \['weather', 'news'\]",
    ):
        await gai.generate_text(replay, prompt="briefing", tools=[weather], stop_when=MaxSteps(5))

    @gai.tool(name="weather")
    def other_weather(city: str) -> str:
        """Other weather (a test tool)."""
        return "rain"

    replay = await ReplayModel.from_run(store, "rec")
    with pytest.raises(gai.errors.ReplayDriftError, match="sent back tool results"):
        await gai.generate_text(
            replay, prompt="briefing", tools=[other_weather, news], stop_when=MaxSteps(5)
        )

    replay = await ReplayModel.from_run(store, "rec")
    await gai.generate_text(replay, prompt="briefing", tools=[weather, news])  # a single step
    with pytest.raises(gai.errors.ReplayDriftError, match="1 recorded answer"):
        replay.verify()

    replay = await ReplayModel.from_run(store, "rec")
    with pytest.raises(gai.errors.ReplayDriftError, match="sent 2 messages"):
        await gai.generate_text(
            replay,
            system="new system prompt",
            prompt="briefing",
            tools=[weather, news],
            stop_when=MaxSteps(5),
        )

    replay = await ReplayModel.from_run(store, "rec")
    await gai.generate_text(replay, prompt="briefing", tools=[weather, news], stop_when=MaxSteps(5))
    with pytest.raises(gai.errors.ReplayDriftError, match="model call 3"):
        await replay.generate(gai.ModelRequest(messages=(gai.user("x"),)))


def test_cli_list_show_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import asyncio

    db = tmp_path / "runs.db"

    async def setup() -> None:
        store = SQLiteStore(db)
        await record(store)
        await store.aclose()

    asyncio.run(setup())
    assert main(["runs", "list", "--store", str(db)]) == 0
    out = capsys.readouterr().out
    assert "rec" in out
    assert "completed" in out
    assert main(["runs", "show", "rec", "--store", str(db)]) == 0
    out = capsys.readouterr().out
    assert "run rec: completed, model openai:gpt-4o-mini" in out
    assert "step 1:" in out
    assert "weather ok" in out
    assert "stopped: no_more_tools" in out
    assert main(["runs", "list", "--store", str(db), "--json", "--status", "failed"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["runs", "show", "nope", "--store", str(db)]) == 1
    assert "No run 'nope'" in capsys.readouterr().err


def test_cli_resume_with_tools_from_a_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    import asyncio

    db = tmp_path / "runs.db"
    (tmp_path / "mytools.py").write_text(
        "import gai\n"
        "@gai.tool\n"
        "def ping() -> str:\n"
        '    """Ping."""\n'
        "    return 'pong'\n"
        "TOOLS = [ping]\n"
        "STOP = gai.MaxSteps(3)\n"
    )
    monkeypatch.chdir(tmp_path)

    class Crash(BaseException):
        pass

    async def crashed_run() -> None:
        store = SQLiteStore(db)

        async def crash(step: gai.Step) -> None:
            raise Crash

        @gai.tool
        def ping() -> str:
            """Ping (a test tool)."""
            return "pong"

        with pytest.raises(Crash):
            await gai.generate_text(
                "test",
                prompt="go",
                tools=[ping],
                stop_when=gai.MaxSteps(3),
                run_id="half",
                run_store=store,
                on_step_finish=crash,
            )
        await store.aclose()

    asyncio.run(crashed_run())
    assert main(["runs", "show", "half", "--store", str(db)]) == 0
    assert "running" in capsys.readouterr().out
    code = main(
        [
            "runs",
            "resume",
            "half",
            "--store",
            str(db),
            "--tools",
            "mytools:TOOLS",
            "--stop-when",
            "mytools:STOP",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "ping -> pong" in captured.out
    assert "stopped: no_more_tools" in captured.err
    assert main(["runs", "resume", "half", "--store", str(db), "--tools", "nomodule:X"]) == 1
    assert "Cannot import 'nomodule'" in capsys.readouterr().err


async def test_persistent_workflow_manager_saves_each_step_and_cleans_up():
    storage = MemoryStore()
    seen: list[WorkflowState | None] = []

    def update(state: WorkflowState, step: gai.Step) -> None:
        state.progress = min(1.0, state.progress + 0.5)
        state.phase = f"step {step.step_number}"

    async def watch(step: gai.Step) -> None:
        seen.append(await storage.load("wf-1"))

    manager = PersistentWorkflowManager(storage, update=update)
    request = gai.Request(
        prompt="go", tools=[weather, news], stop_when=MaxSteps(5), on_step_finish=watch
    )
    result = await manager.execute_with_persistence("wf-1", recorded_model(), request)
    assert result.text == "Sunny in Lisbon; markets calm."
    assert [(s.phase, s.progress, s.metrics["steps"]) for s in seen if s] == [
        ("step 1", 0.5, 1.0),
        ("step 2", 1.0, 2.0),
    ]
    assert await storage.load("wf-1") is None  # removed on success

    failing = gai.ScriptedModel(
        [ModelResponse(tool_calls=(ToolCall(name="weather", arguments={"city": "x"}),))]
    )
    with pytest.raises(gai.errors.ScriptExhaustedError):
        await manager.execute_with_persistence(
            "wf-2", failing, gai.Request(prompt="go", tools=[weather], stop_when=MaxSteps(5))
        )
    kept = await storage.load("wf-2")
    assert kept is not None
    assert kept.progress == 0.5
    assert kept.errors[0].startswith("ScriptExhaustedError")
    assert os.environ.get("GAI_STORE") is None


def test_cli_show_says_what_a_step_reasoned_and_which_files_tools_returned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    import asyncio

    from gai.types import File, Reasoning

    db = tmp_path / "runs.db"
    png = File.from_bytes(b"\x89PNG", "image/png")
    call = gai.ToolCall(call_id="c1", name="draw", arguments={})
    thought = Reasoning(text="I should draw it first.", signature="s", provider="anthropic")
    hidden = Reasoning(redacted="opaque", provider="anthropic")
    model = gai.ScriptedModel(
        [
            gai.ModelResponse(tool_calls=(call,), reasoning=(thought,)),
            gai.ModelResponse(text="Drawn.", reasoning=(hidden,)),
        ]
    )
    draw = gai.Tool(name="draw", description="Draw.", fn=lambda: png)

    async def setup() -> None:
        store = SQLiteStore(db)
        await gai.generate_text(
            model, prompt="draw", tools=[draw], run_store=store, run_id="drawn",
            stop_when=gai.MaxSteps(3),
        )  # fmt: skip
        await store.aclose()

    asyncio.run(setup())
    assert main(["runs", "show", "drawn", "--store", str(db)]) == 0
    out = capsys.readouterr().out
    assert "reasoned: 'I should draw it first.'" in out
    assert "draw ok" in out
    assert "+image image/png" in out
    assert "reasoned: (hidden by the provider)" in out
