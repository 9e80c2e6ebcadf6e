from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import gai
from gai import MaxSteps, ModelResponse, ToolCall, tool
from gai.observe import EventsDropped, ExecutionMetrics, Monitor, OpenTelemetryObserver, instrument


@tool
async def lookup(key: str) -> str:
    """Look up."""
    await asyncio.sleep(0.01)
    return f"v-{key}"


@tool
def broken(key: str) -> str:
    """Always fails."""
    raise ValueError("nope")


def model() -> gai.ScriptedModel:
    return gai.ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    ToolCall(call_id="a", name="lookup", arguments={"key": "a"}),
                    ToolCall(call_id="b", name="lookup", arguments={"key": "b"}),
                    ToolCall(call_id="c", name="broken", arguments={"key": "c"}),
                ),
                usage=gai.Usage(input_tokens=1000, output_tokens=100),
            ),
            ModelResponse(text="done", usage=gai.Usage(input_tokens=1200, output_tokens=50)),
        ],
        name="openai:gpt-4o-mini",
    )


def attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


async def run(**kw) -> gai.TextResult:
    return await gai.generate_text(
        model(), prompt="go", tools=[lookup, broken], stop_when=MaxSteps(5), **kw
    )


async def test_execution_metrics_from_a_result():
    result = await run()
    m = ExecutionMetrics.from_result(result)
    assert (m.steps, m.tool_calls, m.tool_errors) == (2, 3, 1)
    assert m.usage == gai.Usage(input_tokens=2200, output_tokens=150)
    assert m.parallel_step_share == 0.5
    assert m.serial_tool_time >= m.tool_time
    assert m.parallel_time_saved == pytest.approx(m.serial_tool_time - m.tool_time, abs=1e-9)
    assert m.total_duration == pytest.approx(sum(s.duration for s in result.steps))
    assert m.error_rate == pytest.approx(1 / 3)
    # gpt-4o-mini at $0.15 / $0.60 per million tokens, from the genai-prices data
    assert (
        m.cost
        == Decimal("2200") * Decimal("0.15") / 10**6 + Decimal("150") * Decimal("0.6") / 10**6
    )
    unknown = await gai.generate_text(gai.TestModel(), prompt="x")
    assert ExecutionMetrics.from_result(unknown).cost is None  # unknown price is None, never 0


async def test_events_have_timestamps_and_reach_observers():
    events: list[gai.RunEvent] = []
    result = await run(observers=[events.append])
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    for kind in (
        "step_started",
        "model_call_started",
        "model_call_finished",
        "tool_started",
        "tool_finished",
        "step_finished",
    ):
        assert kind in kinds
    assert all(e.run_id == result.run_id for e in events)
    times = [e.time for e in events]
    assert times == sorted(times)
    finished = next(e for e in events if isinstance(e, gai.types.ModelCallFinished))
    assert finished.usage.input_tokens == 1000
    assert finished.tool_calls == 3


async def test_a_failing_observer_never_breaks_a_run(caplog: pytest.LogCaptureFixture):
    def bad(event):
        raise RuntimeError("observer bug")

    result = await run(observers=[bad])
    assert result.text == "done"
    assert "observer bug" in caplog.text


async def test_instrument_applies_to_every_run_until_removed():
    seen: list[str] = []
    remove = instrument(lambda e: seen.append(e.kind))
    try:
        await gai.generate_text(gai.TestModel(), prompt="x")
    finally:
        remove()
    count = len(seen)
    assert count > 0
    await gai.generate_text(gai.TestModel(), prompt="x")
    assert len(seen) == count


async def test_monitor_tracks_active_runs_and_feeds_subscribers():
    monitor = Monitor()
    gate = asyncio.Event()
    inside = asyncio.Event()

    @tool
    async def wait() -> str:
        """Wait (a test tool)."""
        inside.set()
        await gate.wait()
        return "ok"

    sub = monitor.subscribe()
    task = asyncio.create_task(
        gai.generate_text(
            gai.ScriptedModel(
                [
                    ModelResponse(
                        tool_calls=(ToolCall(name="wait"),), usage=gai.Usage(input_tokens=7)
                    ),
                    "end",
                ]
            ),
            prompt="x",
            tools=[wait],
            stop_when=MaxSteps(3),
            observers=[monitor],
            run_id="watched",
        )
    )
    await inside.wait()
    [active] = monitor.active_runs()
    assert (active.run_id, active.step, active.tools_running, active.usage.input_tokens) == (
        "watched",
        1,
        ["wait"],
        7,
    )
    assert monitor.health()["active_runs"] == 1
    gate.set()
    await task
    assert monitor.active_runs() == []
    kinds = []
    async for event in sub:
        kinds.append(event.kind)
        if event.kind == "run_finished":
            break
    assert kinds[0] == "run_started"
    assert monitor.health()["runs_finished"] == 1


async def test_a_slow_subscriber_never_blocks_a_run_and_learns_what_it_missed():
    monitor = Monitor()
    slow = monitor.subscribe(buffer=3)
    fast = monitor.subscribe(buffer=10_000)
    result = await run(observers=[monitor])  # nobody reads while the run goes on
    assert result.text == "done"
    first = [item async for item in _take(slow, 4)]
    assert [e.kind for e in first[:3]] == ["run_started", "step_started", "model_call_started"]
    assert isinstance(first[3], EventsDropped)
    assert first[3].count == monitor.events_seen - 3
    assert monitor.health()["events_dropped"] == first[3].count
    every = [item async for item in _take(fast, monitor.events_seen)]
    assert not any(isinstance(e, EventsDropped) for e in every)
    slow.close()
    fast.close()
    assert monitor.health()["subscribers"] == 0


async def _take(subscription, n):
    count = 0
    async for item in subscription:
        yield item
        count += 1
        if count == n:
            return


async def test_monitor_receives_events_from_other_threads():
    monitor = Monitor()
    sub = monitor.subscribe()
    thread = threading.Thread(
        target=lambda: gai.generate_text_sync(gai.TestModel(), prompt="x", observers=[monitor])
    )
    thread.start()
    kinds = []
    async for event in sub:
        kinds.append(event.kind)
        if event.kind == "run_finished":
            break
    thread.join()
    assert kinds[0] == "run_started"


async def test_opentelemetry_spans_follow_genai_conventions():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    result = await run(observers=[OpenTelemetryObserver(provider)])
    spans = {s.name: s for s in exporter.get_finished_spans()}
    names = [s.name for s in exporter.get_finished_spans()]
    assert names.count("chat gpt-4o-mini") == 2
    assert names.count("execute_tool lookup") == 2
    root = spans["invoke_agent gai"]
    assert attrs(root)["gen_ai.operation.name"] == "invoke_agent"
    assert attrs(root)["gen_ai.conversation.id"] == result.run_id
    assert attrs(root)["gen_ai.usage.input_tokens"] == 2200
    chat = spans["chat gpt-4o-mini"]
    assert attrs(chat)["gen_ai.operation.name"] == "chat"
    assert attrs(chat)["gen_ai.provider.name"] == "openai"
    assert attrs(chat)["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs(chat)["gen_ai.usage.output_tokens"] in (100, 50)
    assert tuple(attrs(chat)["gen_ai.response.finish_reasons"]) in (("tool_calls",), ("stop",))
    assert "gen_ai.input.messages" not in attrs(chat)  # content off by default
    tool_span = spans["execute_tool broken"]
    assert attrs(tool_span)["gen_ai.tool.call.id"] == "c"
    assert attrs(tool_span)["error.type"] == "tool_error"
    assert tool_span.status.status_code.name == "ERROR"
    # Parentage: tool -> step -> run
    step = next(s for s in exporter.get_finished_spans() if s.name == "step 1")
    assert tool_span.parent is not None
    assert step.parent is not None
    assert tool_span.parent.span_id == step.context.span_id
    assert step.parent.span_id == root.context.span_id
    assert all(s.context.trace_id == root.context.trace_id for s in exporter.get_finished_spans())


async def test_opentelemetry_content_capture_is_opt_in():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    await run(observers=[OpenTelemetryObserver(provider, capture_content=True)])
    chat = next(s for s in exporter.get_finished_spans() if s.name.startswith("chat"))
    assert '"go"' in attrs(chat)["gen_ai.input.messages"]
    tool_span = next(s for s in exporter.get_finished_spans() if s.name == "execute_tool lookup")
    assert attrs(tool_span)["gen_ai.tool.call.result"].startswith("v-")


def test_prometheus_counts_and_times(tmp_path):
    from prometheus_client import generate_latest

    from gai.observe.prometheus import PrometheusObserver

    observer = PrometheusObserver()
    asyncio.run(run(observers=[observer]))
    text = generate_latest(observer.registry).decode()
    assert 'gai_runs_total{outcome="completed",stop_kind="no_more_tools"} 1.0' in text
    assert 'gai_tool_calls_total{outcome="error",tool="broken"} 1.0' in text
    assert 'gai_tool_calls_total{outcome="ok",tool="lookup"} 2.0' in text
    assert 'gai_tokens_total{direction="input",model="openai:gpt-4o-mini"} 2200.0' in text
    assert "gai_model_call_duration_seconds_count" in text


async def test_metadata_reaches_the_result_events_spans_and_store(tmp_path):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from gai.observe import OpenTelemetryObserver

    exporter = InMemorySpanExporter()
    tracer = TracerProvider()
    tracer.add_span_processor(SimpleSpanProcessor(exporter))
    events: list[gai.RunEvent] = []
    store = gai.store.SQLiteStore(tmp_path / "m.db")
    metadata = {"user": "ann", "tenant": 7, "tags": ["beta"]}
    result = await gai.generate_text(
        gai.TestModel(), prompt="x", run_store=store, run_id="meta", metadata=metadata,
        observers=[events.append, OpenTelemetryObserver(tracer)],
    )  # fmt: skip
    assert result.metadata == metadata
    assert gai.TextResult.model_validate_json(result.model_dump_json()).metadata == metadata
    assert isinstance(events[0], gai.types.RunStarted)
    assert events[0].metadata == metadata
    [run_span] = [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]
    assert run_span.attributes is not None
    assert run_span.attributes["gai.metadata.user"] == "ann"
    assert run_span.attributes["gai.metadata.tenant"] == 7
    assert run_span.attributes["gai.metadata.tags"] == '["beta"]'
    record = await store.load_run("meta")
    assert record.snapshot.metadata == metadata
    await store.aclose()
    with pytest.raises(gai.UserError, match="JSON-serialisable"):
        await gai.generate_text(gai.TestModel(), prompt="x", metadata={"when": object()})
    with pytest.raises(gai.UserError, match="string keys"):
        await gai.generate_text(gai.TestModel(), prompt="x", metadata={1: "a"})  # type: ignore[dict-item]


async def test_captured_content_shows_files_by_type_and_size_not_their_bytes():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    pdf = gai.types.File.from_bytes(b"%PDF-1.4 " + b"x" * 3000, "application/pdf", "big.pdf")
    await gai.generate_text(
        gai.TestModel(),
        messages=[gai.user("Summarise this", pdf)],
        observers=[OpenTelemetryObserver(provider, capture_content=True)],
    )
    chat = next(s for s in exporter.get_finished_spans() if s.name.startswith("chat"))
    captured = attrs(chat)["gen_ai.input.messages"]
    assert "Summarise this" in captured
    assert '"media_type": "application/pdf"' in captured
    assert '"filename": "big.pdf"' in captured
    assert f'"data_size": {len(pdf.data or "")}' in captured
    assert (pdf.data or "")[:40] not in captured


async def test_cache_and_reasoning_tokens_reach_spans_and_prometheus():
    from prometheus_client import generate_latest

    from gai.observe.prometheus import PrometheusObserver

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    prometheus = PrometheusObserver()
    usage = gai.Usage(
        input_tokens=1000, output_tokens=300, total_tokens=1300,
        cache_read_tokens=800, cache_write_tokens=100, reasoning_tokens=250,
    )  # fmt: skip
    await gai.generate_text(
        gai.ScriptedModel([ModelResponse(text="ok", usage=usage)], name="cached"),
        prompt="go",
        observers=[OpenTelemetryObserver(provider), prometheus],
    )
    chat = next(s for s in exporter.get_finished_spans() if s.name.startswith("chat"))
    assert attrs(chat)["gen_ai.usage.cache_read.input_tokens"] == 800
    assert attrs(chat)["gen_ai.usage.cache_creation.input_tokens"] == 100
    assert attrs(chat)["gen_ai.usage.reasoning.output_tokens"] == 250
    text = generate_latest(prometheus.registry).decode()
    assert 'gai_tokens_total{direction="cache_read",model="cached"} 800.0' in text
    assert 'gai_tokens_total{direction="reasoning",model="cached"} 250.0' in text
