from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from gai import Tool, ToolCall, ToolContext, tool
from gai.engine._parallel import run_tool_calls
from gai.tools.invoke import invoke_tool


class Item(BaseModel):
    sku: str
    qty: int


@dataclass
class Receipt:
    total: float
    items: list[Item]


async def call(tools, name, arguments, *, limit=None, deps=None):
    return await invoke_tool(
        {t.name: t for t in tools},
        ToolCall(call_id="c1", name=name, arguments=arguments),
        run_id="run1",
        step_number=2,
        model="m",
        default_timeout=limit,
        deps=deps,
    )


@tool
def order(items: list[Item], coupon: str | None = None) -> Receipt:
    """Place an order."""
    return Receipt(total=sum(i.qty for i in items) * 1.5, items=items)


async def test_valid_call_serialises_output_to_json_data():
    result = await call([order], "order", {"items": [{"sku": "a", "qty": "2"}]})
    assert result.ok
    assert result.output == {"total": 3.0, "items": [{"sku": "a", "qty": 2}]}
    assert result.content == '{"total":3.0,"items":[{"sku":"a","qty":2}]}'
    assert result.duration >= 0


async def test_validation_error_names_the_field_and_why():
    result = await call([order], "order", {"items": [{"sku": "a", "qty": "two"}], "x": 1})
    assert result.output is None
    assert result.error is not None
    assert "Invalid arguments for tool 'order'" in result.error
    assert "'items.0.qty': Input should be a valid integer" in result.error
    assert "(got 'two')" in result.error
    assert "'x': unexpected argument" in result.error
    assert result.error.endswith("Call the tool again with corrected arguments.")


async def test_missing_argument_is_reported():
    result = await call([order], "order", {})
    assert result.error is not None
    assert "'items': Field required" in result.error


async def test_unknown_tool_lists_available_ones():
    result = await call([order], "ordr", {})
    assert result.error == "Unknown tool 'ordr'. Available tools: order."


async def test_exception_becomes_error_with_type_and_message():
    @tool
    def boom() -> None:
        """Boom (a test tool)."""
        raise ValueError("disk full")

    @tool
    def silent() -> None:
        """Silent (a test tool)."""
        raise KeyError

    assert (await call([boom], "boom", {})).error == "Tool 'boom' failed: ValueError: disk full"
    assert (await call([silent], "silent", {})).error == (
        "Tool 'silent' failed: KeyError: (no message)"
    )


async def test_async_timeout_says_what_and_how_long():
    @tool
    async def slow() -> str:
        """Slow (a test tool)."""
        await asyncio.Event().wait()
        return "never"

    result = await call([slow], "slow", {}, limit=0.05)
    assert result.error is not None
    assert "Tool 'slow' timed out after 0.05 seconds" in result.error


async def test_sync_timeout_abandons_the_thread():
    release = threading.Event()

    @tool(timeout=0.05)
    def stuck() -> str:
        """Stuck (a test tool)."""
        release.wait(5)
        return "late"

    result = await call([stuck], "stuck", {}, limit=10)
    release.set()
    assert result.error is not None
    assert "timed out after 0.05 seconds" in result.error


async def test_sync_tools_run_in_worker_threads():
    @tool
    def where() -> str:
        """Where (a test tool)."""
        return threading.current_thread().name

    result = await call([where], "where", {})
    assert result.output.startswith("gai-tool")


async def test_context_carries_call_details_and_deps():
    seen: list[ToolContext[dict[str, int]]] = []

    @tool
    async def probe(ctx: ToolContext[dict[str, int]], n: int) -> int:
        """Probe (a test tool)."""
        seen.append(ctx)
        return ctx.deps["base"] + n

    result = await call([probe], "probe", {"n": 1}, limit=5, deps={"base": 41})
    assert result.output == 42
    ctx = seen[0]
    assert (ctx.call_id, ctx.tool_name, ctx.run_id, ctx.step_number, ctx.model) == (
        "c1",
        "probe",
        "run1",
        2,
        "m",
    )
    left = ctx.time_left()
    assert left is not None
    assert 0 <= left <= 5


def test_binding_a_context_tool_without_a_context_is_an_error():
    @tool
    async def probe(ctx: ToolContext[None], n: int) -> int:
        """Probe (a test tool)."""
        return n

    with pytest.raises(ValueError, match="'probe' takes a ToolContext"):
        probe.bind({"n": 1}, None)


async def test_unserialisable_output_is_an_error():
    @tool
    def gives_lock() -> object:
        """Gives lock (a test tool)."""
        return threading.Lock()

    result = await call([gives_lock], "gives_lock", {})
    assert result.error is not None
    assert "cannot be converted to JSON" in result.error


async def test_seed_style_input_type_tool_gets_the_model_instance():
    def handler(ctx: ToolContext[None], item: Item) -> str:
        return f"{ctx.tool_name}:{item.sku}x{item.qty}"

    t = Tool(name="one", description="One item", fn=handler, input_type=Item)
    assert (await call([t], "one", {"sku": "b", "qty": 3})).output == "one:bx3"
    bad = await call([t], "one", {"sku": "b"})
    assert bad.error is not None
    assert "'qty': Field required" in bad.error


async def test_cancellation_propagates():
    started = asyncio.Event()

    @tool
    async def hang() -> None:
        """Hang (a test tool)."""
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(call([hang], "hang", {}))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_sync_tool_raising_stop_iteration_is_an_error_not_a_hang():
    items = iter(())

    @tool
    def next_item() -> str:
        """Next item (a test tool)."""
        return next(items)

    result = await asyncio.wait_for(call([next_item], "next_item", {}), timeout=5)
    assert result.error is not None
    assert "StopIteration" in result.error


async def test_every_result_is_recorded_before_the_step_gets_it():
    recorded = []

    def record(step_number, result):
        recorded.append(result)

    @tool
    def boom() -> str:
        """Fails."""
        raise ValueError("no")

    @tool
    def unserialisable() -> object:
        """Returns something JSON cannot hold."""
        return object()

    tools = {t.name: t for t in (order, boom, unserialisable)}
    cases = [
        ToolCall(call_id="ok", name="order", arguments={"items": []}),
        ToolCall(call_id="unknown", name="nope"),
        ToolCall(call_id="invalid", name="order", arguments={"items": "x"}),
        ToolCall(call_id="bad json", name="order", invalid_arguments="{"),
        ToolCall(call_id="raises", name="boom"),
        ToolCall(call_id="not json", name="unserialisable"),
    ]
    results = await run_tool_calls(
        cases, tools, run_id="r", step_number=1, model=None, max_parallel=None,
        default_timeout=None, deps=None, record=record,
    )  # fmt: skip
    assert sorted(map(id, recorded)) == sorted(map(id, results))
    assert [r.call_id for r in results] == [c.call_id for c in cases]
    assert [r.ok for r in results] == [True, False, False, False, False, False]
