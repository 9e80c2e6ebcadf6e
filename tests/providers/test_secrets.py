"""A server that reflects the API key cannot put it anywhere gai keeps or shows."""

from __future__ import annotations

import logging
import pickle
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import gai
from gai.cli import main
from gai.observe import OpenTelemetryObserver
from gai.providers._redact import Redactor, mask
from gai.providers.anthropic import Anthropic
from gai.providers.openai import OpenAI
from tests.support.hostile import HostileServer

KEY = "sk-PLANTED-abc123XYZ"
EXTRA = "org-SECRET-998877"
QUICK = gai.RetryPolicy(max_attempts=2, initial_delay=0.001, jitter=False)


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as s:
        yield s


def test_mask_keeps_only_the_ends():
    assert mask(KEY) == "sk-...XYZ"
    assert mask("short-1") == "***"
    redactor = Redactor.for_request(
        {"Authorization": f"Bearer {KEY}", "x-other": "visible-value"},
        "https://h/v1?key=AIzaQUERYKEY123&alt=sse",
        [EXTRA],
    )
    text = f"Bearer {KEY} AIzaQUERYKEY123 {EXTRA} visible-value sse"
    assert redactor.text(text) == "Bearer sk-...XYZ AIz...123 org...877 visible-value sse"
    assert redactor.data(text.encode()) == redactor.text(text).encode()
    assert not Redactor(["", "abc"])  # too short to mask safely


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_bytes().decode("latin-1") for p in folder.iterdir()}


async def _failing_run(model: gai.Model, tmp_path: Path, name: str, **kw) -> gai.GaiError:
    store = gai.store.SQLiteStore(tmp_path / "runs.db")
    try:
        with pytest.raises(gai.GaiError) as info:
            await gai.generate_text(model, prompt="hi", run_store=store, run_id=name, **kw)
    finally:
        await store.aclose()
    return info.value


@pytest.mark.parametrize(
    ("mode", "stream"),
    [
        ("echo_json", False),  # a JSON error body
        ("echo_text", False),  # a plain-text error
        ("echo_html", False),  # an HTML error page
        ("echo_stream", True),  # an in-band error event in a stream
        ("echo_ok", False),  # a 200 answer whose text holds the key
        ("echo_ok", True),
    ],
)
async def test_reflected_key_reaches_no_sink(
    server: HostileServer,
    mode: str,
    stream: bool,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
):
    caplog.set_level(logging.DEBUG)
    exporter = InMemorySpanExporter()
    tracer = TracerProvider()
    tracer.add_span_processor(SimpleSpanProcessor(exporter))
    events: list[gai.RunEvent] = []
    observers: list[gai.observe.Observer] = [
        OpenTelemetryObserver(tracer, capture_content=True),
        events.append,
    ]
    store = gai.store.SQLiteStore(tmp_path / "runs.db")
    sinks: dict[str, str] = {}
    async with OpenAI(
        "gpt-4o", api_key=KEY, base_url=server.base(mode), secrets=[EXTRA], headers={"x-org": EXTRA}
    ) as m:
        try:
            if stream:
                async with gai.stream_text(
                    m, prompt="hi", run_store=store, run_id="r", retry=QUICK,
                    observers=observers,
                ) as s:  # fmt: skip
                    async for _ in s:
                        pass
                    result = s.result
            else:
                result = await gai.generate_text(
                    m, prompt="hi", run_store=store, run_id="r", retry=QUICK, observers=observers
                )
            sinks["result"] = result.model_dump_json()
            assert "sk-...XYZ org...877" in result.text  # the answer is kept, masked
        except gai.GaiError as exc:
            sinks["error"] = str(exc) + repr(exc) + repr(exc.__dict__)
            sinks["pickle"] = repr(pickle.loads(pickle.dumps(exc)).__dict__)
            sinks["pickled bytes"] = pickle.dumps(exc).decode("latin-1")
            partial = exc.partial_result
            sinks["partial"] = partial.model_dump_json() if partial else "missing"
            sinks["trace json"] = partial.to_trace().model_dump_json() if partial else ""
        finally:
            await store.aclose()
    sinks["logs"] = caplog.text
    sinks["spans"] = "".join(s.to_json() for s in exporter.get_finished_spans())
    sinks["events"] = "".join(repr(e) for e in events)
    db = str(tmp_path / "runs.db")
    assert main(["runs", "show", "r", "--store", db]) == 0
    assert main(["runs", "show", "r", "--store", db, "--json"]) == 0
    assert main(["runs", "list", "--store", db]) == 0
    assert main(["runs", "export", "r", "--store", db, "-o", str(tmp_path / "r.json")]) == 0
    assert main(["trace", "view", str(tmp_path / "r.json"), "-o", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr()
    sinks["cli"] = out.out + out.err
    sinks.update(_files(tmp_path))  # the SQLite file (and its WAL), the export, the page
    assert sinks.get("partial") != "missing"
    assert server.requests[mode] >= 1
    for where, text in sinks.items():
        assert KEY not in text, f"the key leaked into {where}"
        assert EXTRA not in text, f"the extra secret leaked into {where}"
    if mode != "echo_ok":
        assert "sk-...XYZ" in sinks["error"]  # still useful for diagnosis


async def test_fallback_over_reflecting_servers(
    server: HostileServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    models = [
        OpenAI("a", api_key=KEY, base_url=server.base("echo_json", 500)),
        OpenAI("b", api_key=KEY, base_url=server.base("echo_text")),
        Anthropic("c", api_key=KEY, base_url=server.host("echo_html")),
    ]
    fallback = gai.FallbackModel([gai.resilience.RetryModel(m, QUICK) for m in models])
    error = await _failing_run(fallback, tmp_path, "fb", retry=QUICK)
    assert isinstance(error, gai.errors.FallbackExhaustedError)
    assert len(error.errors) == 3
    everything = str(error) + repr(error.__dict__) + caplog.text
    everything += (tmp_path / "runs.db").read_bytes().decode("latin-1")
    assert KEY not in everything
    assert everything.count("sk-...XYZ") >= 3
    assert "retrying" in caplog.text  # the retries were logged, masked
    for m in models:
        await m.aclose()
