"""The connection gate: at most N requests in flight, waiting requests of older runs first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import gai
from gai._scope import RunScope, current_scope, start_order
from gai.providers import OpenAI
from gai.providers.gate import ConnectionGate
from gai.store import SQLiteStore
from gai.store._sqlite_batch import Writer
from tests.support.recordings import load

RECORDING = "openai_chat/tool_call_single_with_result.yaml"


def _enter(order: int | None) -> RunScope | None:
    """Make the current task's code part of a run with place `order` (None: no run)."""
    scope = None if order is None else RunScope(order)
    current_scope.set(scope)  # each task has its own context
    return scope


async def _hold(gate: ConnectionGate, log: list[str], name: str, order: int | None) -> None:
    _enter(order)
    async with gate:
        log.append(f"in {name}")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    log.append(f"out {name}")


async def test_at_most_limit_in_flight_and_older_runs_first() -> None:
    gate = ConnectionGate(2)
    log: list[str] = []
    inside = 0
    most = 0

    async def request(name: str, order: int | None) -> None:
        nonlocal inside, most
        _enter(order)
        async with gate:
            inside += 1
            most = max(most, inside)
            log.append(name)
            await asyncio.sleep(0.001)
            inside -= 1

    old, young = start_order(), start_order()
    await asyncio.gather(
        request("first", young),
        request("second", young),
        request("young", young),
        request("old", old),
        request("outside a run", None),
        request("old again", old),
    )
    assert most == 2
    assert log[:2] == ["first", "second"]
    # Waiting: old runs first, in arrival order within a run; a request outside any run
    # takes its place by arrival, after every run started before it.
    assert log[2:] == ["old", "old again", "young", "outside a run"]
    assert gate.waiting == 0


async def test_a_cancelled_waiter_does_not_lose_a_slot() -> None:
    gate = ConnectionGate(1)
    log: list[str] = []
    holder = asyncio.create_task(_hold(gate, log, "holder", 0))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(_hold(gate, log, "cancelled", 1))
    later = asyncio.create_task(_hold(gate, log, "later", 2))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(holder, later, return_exceptions=True)
    assert waiter.cancelled()
    assert log == ["in holder", "out holder", "in later", "out later"]
    # The slot came back: a new request gets in at once.
    async with gate:
        assert gate.waiting == 0


async def test_a_slot_handed_to_a_waiter_cancelled_meanwhile_is_passed_on() -> None:
    gate = ConnectionGate(1)
    await gate.__aenter__()
    log: list[str] = []
    waiter = asyncio.create_task(_hold(gate, log, "cancelled", 1))
    later = asyncio.create_task(_hold(gate, log, "later", 2))
    await asyncio.sleep(0)
    await gate.__aexit__(None, None, None)  # hands the slot to `waiter`...
    waiter.cancel()  # ...which is cancelled before it runs
    await asyncio.gather(waiter, later, return_exceptions=True)
    assert log == ["in later", "out later"]


async def test_a_slot_is_kept_until_its_runs_model_phase_ends() -> None:
    gate = ConnectionGate(1)
    log: list[str] = []

    async def other() -> None:
        async with gate:
            log.append("other")

    waiting = asyncio.create_task(other())  # its context is copied before the scope is set
    scope = _enter(0)
    assert scope is not None
    scope.begin_model_phase()
    async with gate:
        await asyncio.sleep(0)  # the other request queues meanwhile
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == []  # the finished request's slot is still kept
    assert gate.waiting == 1
    scope.end_model_phase()
    scope.end_model_phase()  # idempotent
    await waiting
    assert log == ["other"]
    # Outside its model phase, a run keeps nothing: the next slot is freed at once.
    async with gate:
        pass
    async with gate:
        pass
    # In its next model phase (the run's next step), it keeps the next slot again.
    scope.begin_model_phase()
    async with gate:
        pass
    assert gate._free == 0
    scope.end_model_phase()
    assert gate._free == 1


async def test_a_task_started_outside_the_model_phase_frees_its_slot() -> None:
    gate = ConnectionGate(1)
    _enter(0)

    async def tool() -> None:  # a run's tool: started after the model phase ended
        async with gate:
            pass

    await asyncio.create_task(tool())
    assert gate._free == 1


async def test_a_failed_request_frees_its_slot_even_in_the_model_phase() -> None:
    gate = ConnectionGate(1)
    scope = _enter(0)
    assert scope is not None
    scope.begin_model_phase()
    with pytest.raises(RuntimeError):
        async with gate:
            raise RuntimeError("connection reset")
    await asyncio.wait_for(gate.__aenter__(), 1)  # not held: free again
    await gate.__aexit__(RuntimeError, RuntimeError(), None)
    scope.end_model_phase()


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(gai.ConfigError, match="max_connections must be at least 1, got 0"):
        OpenAI("gpt-5-mini", api_key="k", max_connections=0)


@pytest.fixture
async def weather_server() -> AsyncIterator[tuple[TestServer, list[str]]]:
    """A chat server answering with recorded bodies: a tool call, then the final text."""
    tool_call, final = load(RECORDING)
    seen: list[str] = []

    async def chat(request: web.Request) -> web.Response:
        body: Any = await request.json()
        messages = body["messages"]
        user = next(m["content"] for m in messages if m["role"] == "user")
        answered = any(m["role"] == "tool" for m in messages)
        seen.append(f"{user} {'final' if answered else 'first'}")
        await asyncio.sleep(0.01)
        return web.json_response(final.response_json if answered else tool_call.response_json)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    server = TestServer(app)
    await server.start_server()
    yield server, seen
    await server.close()


async def test_runs_started_first_finish_first_when_connections_are_short(
    weather_server: tuple[TestServer, list[str]],
) -> None:
    server, seen = weather_server

    @gai.tool
    async def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        await asyncio.sleep(0.001)  # the run gives up its connection meanwhile
        return f"Sunny, 22C in {city}"

    async with OpenAI(
        "gpt-5-mini", api_key="k", base_url=str(server.make_url("/v1")), max_connections=1
    ) as model:
        results = await asyncio.gather(
            *(
                gai.generate_text(
                    model, prompt=name, tools=[get_weather], stop_when=gai.MaxSteps(5)
                )
                for name in ("A", "B", "C", "D")
            )
        )
    final_text = load(RECORDING)[1].response_json["choices"][0]["message"]["content"]
    assert [r.text for r in results] == [final_text] * 4
    # Served in arrival order, every run would ask its first question before any run
    # got to its second. Here a run's second question goes ahead of younger runs'
    # first ones, so runs end in the order they started.
    assert seen.index("A final") < seen.index("C first")
    assert seen.index("B final") < seen.index("D first")
    finals = [s for s in seen if s.endswith("final")]
    assert finals == ["A final", "B final", "C final", "D final"]


def _order() -> int | None:
    scope = current_scope.get()
    return None if scope is None else scope.order


async def test_a_run_has_its_place_in_the_start_order_and_runs_inside_it_share_it() -> None:
    seen: dict[str, int | None] = {}

    @gai.tool
    async def inner() -> str:
        """The run inside."""
        seen["inner tool"] = _order()
        return "ok"

    @gai.tool
    async def outer() -> str:
        """Starts a run of its own."""
        seen["outer tool"] = _order()
        result = await gai.generate_text(
            gai.TestModel(), prompt="inner", tools=[inner], stop_when=gai.MaxSteps(3)
        )
        return result.text

    await gai.generate_text(
        gai.TestModel(), prompt="outer", tools=[outer], stop_when=gai.MaxSteps(3)
    )
    first = seen["outer tool"]
    assert first is not None
    assert seen["inner tool"] == first
    # The caller's context is left as it was: the next run takes a later place.
    assert current_scope.get() is None
    await gai.generate_text(gai.TestModel(), prompt="next", tools=[outer])
    assert seen["outer tool"] is not None
    assert seen["outer tool"] > first


async def test_a_run_keeps_its_slot_while_its_answer_commits(
    weather_server: tuple[TestServer, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run with a store waits for each model answer to commit before its tools start.
    # Handed on meanwhile, its slot would start a younger run's first request on every
    # commit, so all runs would be half done at once.
    server, seen = weather_server
    write = Writer.write

    def slow_write(self: Writer, conn: Any, writes: Any) -> Any:
        time.sleep(0.05)
        return write(self, conn, writes)

    monkeypatch.setattr(Writer, "write", slow_write)

    @gai.tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"Sunny, 22C in {city}"

    store = SQLiteStore(tmp_path / "runs.db")
    async with OpenAI(
        "gpt-5-mini", api_key="k", base_url=str(server.make_url("/v1")), max_connections=1
    ) as model:
        results = await asyncio.gather(
            *(
                gai.generate_text(
                    model,
                    prompt=name,
                    tools=[get_weather],
                    stop_when=gai.MaxSteps(5),
                    run_store=store,
                )
                for name in ("A", "B", "C")
            )
        )
    await store.aclose()
    assert all(r.stop_reason.kind == "no_more_tools" for r in results)
    # While A's answer commits, nobody else is let in; B's first question goes in while
    # A's tool runs, then A's second goes ahead of C's first.
    assert seen[:3] == ["A first", "B first", "A final"]
    assert seen.index("A final") < seen.index("C first")


@pytest.mark.parametrize("inner_store", [True, False], ids=["inner-store", "inner-no-store"])
async def test_a_tool_of_a_run_with_a_store_can_call_the_model_with_one_connection(
    weather_server: tuple[TestServer, list[str]], tmp_path: Path, inner_store: bool
) -> None:
    # The slot kept across the commit is freed before the tools start: a tool calling
    # the same provider (here through a run of its own, with or without a store) must
    # not wait for it forever.
    server, seen = weather_server
    store = SQLiteStore(tmp_path / "runs.db")
    async with OpenAI(
        "gpt-5-mini", api_key="k", base_url=str(server.make_url("/v1")), max_connections=1
    ) as model:

        @gai.tool
        async def get_weather(city: str) -> str:
            """Get the current weather for a city."""
            inner = await gai.generate_text(
                model, prompt="inner", run_store=store if inner_store else None
            )
            return inner.text

        result = await asyncio.wait_for(
            gai.generate_text(
                model,
                prompt="outer",
                tools=[get_weather],
                stop_when=gai.MaxSteps(3),
                run_store=store,
            ),
            10,
        )
    await store.aclose()
    assert result.stop_reason.kind == "no_more_tools"
    assert seen == ["outer first", "inner first", "outer final"]
    assert current_scope.get() is None  # the run's scope ended with it
