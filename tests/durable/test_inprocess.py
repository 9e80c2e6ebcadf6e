"""Durable runs with a worker in this process on SQLite: the API, portability checks,
idempotent submission, cancellation, templates, and transcripts equal to in-process runs.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

pytest.importorskip("dbos")

import gai
from gai.durable import DurableClient, Worker
from gai.errors import NotPortableError, RunCancelledError, RunExistsError, RunNotFoundError
from gai.stop import MaxSteps, NoMoreTools
from tests.durable import _plugin
from tests.support.agent_server import AgentServer

QUEUE = "inproc"
WORKERS: list[Worker] = []
"""The module's started worker (DBOS keeps one per process)."""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dbos')}/system.db"
    worker = Worker(url, [QUEUE], tools=_plugin.registry, worker_id="inproc-1")
    worker.start()
    WORKERS.append(worker)
    yield url
    WORKERS.remove(worker)
    worker.stop()


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[AgentServer]:
    async with AgentServer(rounds=2, calls_per_round=2, tool_names=("lookup", "write")) as srv:
        monkeypatch.setenv("GAI_TEST_LOOPBACK_URL", srv.url())
        monkeypatch.setenv("GAI_TEST_EFFECTS", str(tmp_path / "effects.log"))
        yield srv


@pytest.fixture
async def client(database: str) -> AsyncIterator[DurableClient]:
    async with DurableClient(database, poll_interval=0.05) as c:
        yield c


def model_name() -> str:
    # A fresh name per test: model objects are cached per string, and each test has its server.
    return f"loopback:agent-{uuid.uuid4().hex[:8]}"


async def test_durable_run_matches_in_process_run(
    server: AgentServer, client: DurableClient
) -> None:
    model = model_name()
    handle = await client.submit(
        QUEUE, model, prompt="job-a", tools=["lookup", "write"], stop_when=NoMoreTools()
    )
    durable = await handle.result(timeout=30)
    local = await gai.generate_text(
        model, prompt="job-a", tools=list(_plugin.registry), stop_when=NoMoreTools()
    )
    assert durable.text == local.text == "done job-a"
    assert durable.messages == local.messages
    assert [s.tool_calls for s in durable.steps] == [s.tool_calls for s in local.steps]
    status = await handle.status()
    assert status.state == "succeeded"
    assert status.worker == "inproc-1"
    assert status.queue == QUEUE


async def test_same_run_id_runs_once(server: AgentServer, client: DurableClient) -> None:
    model = model_name()
    run_id = f"order-{uuid.uuid4().hex[:6]}"
    first = await client.submit(
        QUEUE,
        model,
        prompt="job-b",
        tools=["lookup", "write"],
        stop_when=NoMoreTools(),
        run_id=run_id,
    )
    second = await client.submit(QUEUE, model, prompt="something else", run_id=run_id)
    assert first.run_id == second.run_id == run_id
    assert (await second.result(timeout=30)).text == "done job-b"
    assert server.finished["job-b"] == 1
    assert server.requests == 3


async def test_cancel_queued_run(client: DurableClient, server: AgentServer) -> None:
    await client.create_queue("parked")  # no worker listens to it
    handle = await client.submit("parked", model_name(), prompt="never")
    assert (await handle.status()).state == "queued"
    await handle.cancel()
    assert (await handle.status()).state == "cancelled"
    with pytest.raises(RunCancelledError, match="cancelled"):
        await handle.result(timeout=5)
    assert server.requests == 0


async def test_unknown_run(client: DurableClient) -> None:
    with pytest.raises(RunNotFoundError):
        await client.handle("no-such-run").status()
    with pytest.raises(RunNotFoundError):
        await client.handle("no-such-run").result(timeout=5)


def test_the_sqlite_system_database_is_in_wal_mode(database: str) -> None:
    import sqlite3

    conn = sqlite3.connect(database.removeprefix("sqlite:///"))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_submissions_at_once_share_a_transaction(database: str) -> None:
    import sqlalchemy as sa

    async with DurableClient(database) as own:
        assert own._batcher is not None
        commits: list[int] = []
        sa.event.listen(own._batcher._engine, "commit", lambda conn: commits.append(1))
        await own.create_queue("parked")  # no worker listens to it
        handles = await asyncio.gather(
            *(own.submit("parked", model_name(), prompt=f"p{i}") for i in range(30))
        )
        states = await asyncio.gather(*(h.status() for h in handles))
        assert [s.state for s in states] == ["queued"] * 30
        # The first submission goes alone; the others arrive while it is written.
        assert 1 <= len(commits) <= 3


async def test_a_bad_submission_fails_alone_in_its_batch(
    client: DurableClient, server: AgentServer
) -> None:
    await client.create_queue("parked")
    taken = f"taken-{uuid.uuid4().hex[:6]}"
    await client.submit_call("parked", _plugin.two_agents, "x", model="m", run_id=taken)
    outcomes = await asyncio.gather(
        *(client.submit("parked", model_name(), prompt=f"q{i}") for i in range(5)),
        client.submit("parked", model_name(), prompt="clash", run_id=taken),
        *(client.submit("parked", model_name(), prompt=f"r{i}") for i in range(5)),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], RunExistsError)
    assert taken in str(errors[0])
    queued = await asyncio.gather(
        *(o.status() for o in outcomes if not isinstance(o, BaseException))
    )
    assert [s.state for s in queued] == ["queued"] * 10


def closure_condition(limit: int):
    def stop(steps):
        return len(steps) >= limit

    return stop


async def test_non_portable_options_rejected_at_submission(client: DurableClient) -> None:
    with pytest.raises(NotPortableError, match="stop_when"):
        await client.submit(QUEUE, model_name(), prompt="x", stop_when=lambda steps: True)
    with pytest.raises(NotPortableError, match="stop_when"):
        await client.submit(QUEUE, model_name(), prompt="x", stop_when=closure_condition(3))
    with pytest.raises(NotPortableError, match="run_store"):
        await client.submit(QUEUE, model_name(), prompt="x", run_store=object())
    with pytest.raises(NotPortableError, match="provider:model"):
        await client.submit(QUEUE, gai.TestModel(), prompt="x")  # type: ignore[arg-type]
    # A built-in condition composed with operators travels fine.
    handle = await client.submit(
        QUEUE, model_name(), prompt="x", stop_when=MaxSteps(1) | NoMoreTools()
    )
    assert handle.run_id
    await handle.cancel()


async def test_failed_run_raises_its_error(client: DurableClient, server: AgentServer) -> None:
    server.always = "400"
    handle = await client.submit(QUEUE, model_name(), prompt="job-c")
    with pytest.raises(gai.errors.InvalidRequestError, match="injected 400"):
        await handle.result(timeout=30)
    assert (await handle.status()).state == "failed"


def main_defined(steps) -> bool:
    return len(steps) > 1


main_defined.__module__ = "__main__"  # as if written in the script that submits


async def test_function_from_main_rejected(client: DurableClient) -> None:
    with pytest.raises(NotPortableError, match="__main__"):
        await client.submit(QUEUE, model_name(), prompt="x", stop_when=main_defined)


async def test_template_job_runs_every_step_durably(
    server: AgentServer, client: DurableClient
) -> None:
    from gai.workflows import TemplateStep, WorkflowTemplate

    template = WorkflowTemplate(
        name="two-steps",
        steps=[
            TemplateStep(
                name="gather", user_prompt="gather {{ topic }}", tools=["lookup", "write"]
            ),
            TemplateStep(name="report", user_prompt="report {{ gather_result }}"),
        ],
    )
    with pytest.raises(gai.errors.MissingVariablesError, match="topic"):
        await client.submit_template(QUEUE, template, {}, model=model_name())
    bad = template.model_copy(
        update={"steps": [TemplateStep(name="s", user_prompt="x", tools=["nope"])]}
    )
    with pytest.raises(gai.errors.TemplateError, match="nope"):
        await client.submit_template(QUEUE, bad, {}, model=model_name(), registry=_plugin.registry)
    handle = await client.submit_template(QUEUE, template, {"topic": "tides"}, model=model_name())
    result = await handle.result(timeout=30)
    assert list(result.results) == ["gather", "report"]
    assert result.results["gather"].text == "done gather tides"
    assert result.results["gather"].steps[0].tool_results[0].output == "value of gather tides/0/0"
    assert result.text == "done report done gather tides"


async def test_store_mirror_is_readable_by_gai_runs(
    server: AgentServer, client: DurableClient, tmp_path: Path
) -> None:
    from gai.store import open_store

    store_url = f"sqlite:///{tmp_path}/runs.db"
    handle = await client.submit(
        QUEUE, model_name(), prompt="job-d", tools=["lookup", "write"],
        stop_when=NoMoreTools(), store=store_url, run_id="mirrored",
    )  # fmt: skip
    result = await handle.result(timeout=30)
    store = await open_store(store_url)
    try:
        record = await store.load_run("mirrored")
    finally:
        await store.aclose()
    assert record.status == "completed"
    assert record.result is not None
    assert record.result.text == result.text == "done job-d"
    assert [s.tool_calls for s in record.steps] == [s.tool_calls for s in result.steps]


def test_worker_command_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    from gai.cli import main
    from gai.cli.worker import parse_rate

    assert parse_rate("100/60") == (100, 60.0)
    for bad in ("100", "x/1", "0/5", "5/0"):
        with pytest.raises(gai.UserError, match="N/SECONDS"):
            parse_rate(bad)
    env = os.environ.pop("GAI_DBOS_URL", None)
    try:
        assert main(["worker", "--queue", "q"]) == 1
    finally:
        if env is not None:
            os.environ["GAI_DBOS_URL"] = env
    assert "--db" in capsys.readouterr().err


async def test_queue_counts(client: DurableClient, server: AgentServer) -> None:
    await client.create_queue("counted")  # no worker listens to it
    handles = [await client.submit("counted", model_name(), prompt=f"c{n}") for n in range(3)]
    await handles[0].cancel()
    counts = await client.queue_counts("counted")
    # A cancelled run leaves its queue.
    assert counts == {"queued": 2, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
    assert (await handles[0].status()).state == "cancelled"


async def test_worker_process_observers_see_durable_runs(
    server: AgentServer, client: DurableClient
) -> None:
    from gai.observe import instrument

    seen: list[tuple[str, str]] = []
    remove = instrument(lambda event: seen.append((event.run_id, event.kind)))
    try:
        handle = await client.submit(
            QUEUE, model_name(), prompt="job-e", tools=["lookup", "write"],
            stop_when=NoMoreTools(), run_id=f"observed-{uuid.uuid4().hex[:6]}",
        )  # fmt: skip
        await handle.result(timeout=30)
    finally:
        remove()
    kinds = [kind for run_id, kind in seen if run_id == handle.run_id]
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    assert kinds.count("tool_finished") == 4
    assert kinds.count("step_finished") == 3


async def test_durable_function_runs_agents(server: AgentServer, client: DurableClient) -> None:
    model = model_name()
    handle = await client.submit_call(QUEUE, _plugin.two_agents, "job-f", model=model)
    results = await handle.result(timeout=30)
    assert list(results) == ["researcher", "writer"]
    assert results["researcher"] == "done job-f"
    assert results["writer"].startswith("done ")
    # The same path as a string, and the same run id, attaches to the same run.
    again = await client.submit_call(
        QUEUE, "tests.durable._plugin:two_agents", "other", model=model, run_id=handle.run_id
    )
    assert await again.result(timeout=5) == results


async def test_overlapping_runs_in_a_durable_function_fail_clearly(
    server: AgentServer, client: DurableClient
) -> None:
    handle = await client.submit_call(QUEUE, _plugin.overlapping, model_name())
    with pytest.raises(gai.UserError, match="one at a time"):
        await handle.result(timeout=30)


async def local_helper() -> None:
    pass


async def test_durable_function_must_be_importable(client: DurableClient) -> None:
    async def nested() -> None:
        pass

    with pytest.raises(NotPortableError, match="closure"):
        await client.submit_call(QUEUE, nested)
    with pytest.raises(NotPortableError, match="Cannot load"):
        await client.submit_call(QUEUE, "tests.durable._plugin:missing")
    with pytest.raises(NotPortableError, match="async function"):
        await client.submit_call(QUEUE, "tests.durable._plugin:loopback_model")
    with pytest.raises(NotPortableError, match="args"):
        await client.submit_call(QUEUE, local_helper, lambda: None)


async def test_retries_happen_inside_the_model_step(
    server: AgentServer, client: DurableClient
) -> None:
    server.fault_rate, server.faults, server.max_consecutive_faults = 1.0, ("500",), 2
    policy = gai.RetryPolicy(max_attempts=4, initial_delay=0.001, max_delay=0.002)
    handle = await client.submit(
        QUEUE, model_name(), prompt="job-g", tools=["lookup", "write"],
        stop_when=NoMoreTools(), retry=policy,
    )  # fmt: skip
    result = await handle.result(timeout=30)
    assert result.text == "done job-g"
    assert [s.attempts for s in result.steps] == [3, 3, 3]
    assert server.injected["500"] == 6


def test_missing_extra_names_the_install_line() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['dbos'] = None\n"
        "try:\n    import gai.durable\nexcept ImportError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("MissingExtraError")
    assert 'pip install "gai[dbos]"' in out.stdout


async def test_a_durable_run_continues_a_session(
    server: AgentServer, client: DurableClient, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/chat.db"
    session = gai.Session("durable-chat", store=url)
    model = model_name()
    for prompt in ("job-s1", "job-s2"):
        handle = await client.submit(
            QUEUE, model, prompt=prompt, tools=["lookup", "write"], stop_when=NoMoreTools(),
            session=session,
        )  # fmt: skip
        result = await handle.result(timeout=30)
    messages = await session.messages()
    users = [m.text for m in messages if m.role == "user"]
    assert users == ["job-s1", "job-s2"]
    assert messages[-1].text == result.text
    # The second run started from the first one's conversation.
    assert len(result.messages) == len(messages)
    with pytest.raises(NotPortableError, match="give it the store's URL"):
        await client.submit(QUEUE, model, prompt="x", session=gai.Session("in-memory"))
    await (await session.store()).aclose()


async def test_cancel_a_running_run_stops_it_at_its_next_step(
    server: AgentServer, client: DurableClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gai.durable import _cancel

    monkeypatch.setattr(_cancel, "CANCEL_POLL", 0.05)
    # Longer than a look that began before the patch (1 s), so step 1 is still running.
    monkeypatch.setenv("GAI_TEST_TOOL_SECONDS", "1.5")
    handle = await client.submit(
        QUEUE, model_name(), prompt="job-long", tools=["lookup", "write"], stop_when=NoMoreTools()
    )
    while server.requests < 1:  # noqa: ASYNC110 - the worker's progress
        await asyncio.sleep(0.01)
    await handle.cancel()
    with pytest.raises(RunCancelledError):
        await handle.result(timeout=10)
    await asyncio.sleep(2.0)  # long enough for step 1's tools to end and step 2 to start
    assert server.requests == 1  # step 1's tools finished; step 2 never asked the model


async def test_the_worker_runs_with_as_many_database_threads_as_it_was_given(
    server: AgentServer, database: str
) -> None:
    # DBOS's own default is a thread per concurrent database call: 40 runs at once
    # would start about 40.
    worker = WORKERS[0]
    assert worker.db_threads == 4
    model = model_name()
    results = await asyncio.gather(
        *(worker.run(model, prompt=f"t{i}", tools=["lookup", "write"]) for i in range(40))
    )
    assert len(results) == 40
    names = [t.name for t in threading.enumerate() if t.name.startswith("dbos-executor")]
    assert 1 <= len(names) <= 4


def test_a_worker_needs_a_database_thread() -> None:
    with pytest.raises(gai.UserError, match="db_threads must be at least 1"):
        Worker("sqlite:///unused.db", [QUEUE], db_threads=0)


async def test_a_worker_runs_a_job_in_its_own_process_without_the_queue(
    server: AgentServer, client: DurableClient
) -> None:
    (worker,) = WORKERS
    model = model_name()
    direct = await worker.run(
        model, prompt="job-direct", tools=["lookup", "write"], stop_when=NoMoreTools(),
        run_id="direct-1",
    )  # fmt: skip
    local = await gai.generate_text(
        model, prompt="job-direct", tools=list(_plugin.registry), stop_when=NoMoreTools()
    )
    assert direct.text == local.text == "done job-direct"
    assert direct.messages == local.messages
    assert (await client.handle("direct-1").status()).state == "succeeded"
    requests = server.requests
    again = await worker.run(
        model, prompt="job-direct", tools=["lookup", "write"], run_id="direct-1"
    )
    assert again.text == direct.text  # the same run: DBOS returns its recorded result
    assert server.requests == requests
    with pytest.raises(NotPortableError, match="stop_when"):
        await worker.run(model, prompt="x", stop_when=lambda steps: True)
