from __future__ import annotations

import html
import logging
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import gai
from gai.cli import main
from gai.observe import OpenTelemetryObserver, render_timeline
from tests.observe.test_observe import run
from tests.providers.conftest import StartReplay

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


async def test_trace_round_trips_and_lays_out_parallel_tools(tmp_path: Path):
    result = await run()
    trace = result.to_trace()
    assert trace.run_id == result.run_id
    assert [len(s.tools) for s in trace.steps] == [3, 0]
    first = trace.steps[0]
    assert first.start <= first.model_end <= first.end
    starts = [t.start for t in first.tools]
    assert max(starts) - min(starts) < first.end - first.model_end  # they overlap: parallel
    assert [t.ok for t in first.tools] == [True, True, False]
    assert gai.observe.RunTrace.model_validate_json(trace.model_dump_json()) == trace
    import json

    assert json.loads(json.dumps(trace.model_dump(mode="json")))["run_id"] == result.run_id
    assert trace.steps[1].start >= first.end


def _png_pixels_vary(png: bytes) -> bool:
    """Decode an RGB(A) PNG with the standard library and check it is not one colour."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, color = 8, b"", 0, 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, color = struct.unpack(">IIBB", data[:10])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    channels = 4 if color == 6 else 3
    stride = width * channels + 1
    rows = [raw[i * stride + 1 : (i + 1) * stride] for i in range(0, height, max(1, height // 40))]
    colours = {row[j : j + 3] for row in rows for j in range(0, len(row), channels * 37)}
    return len(colours) > 3


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (.ci/services.sh installs it)"
)
def test_timeline_page_renders_in_headless_chromium(tmp_path: Path):
    import asyncio

    assert CHROMIUM is not None
    result = asyncio.run(run())
    trace_file = tmp_path / "run.json"
    trace_file.write_text(result.to_trace().model_dump_json())
    page = tmp_path / "run.html"
    assert main(["trace", "view", str(trace_file), "-o", str(page)]) == 0
    html = page.read_text()
    # Self-contained: nothing to fetch, nothing to run.
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert dom.count('class="bar tool-bar') == len(result.tool_results) == 3
    assert dom.count('class="bar tool-bar error"') == 1
    assert dom.count('class="bar model-bar"') == 2
    assert "no_more_tools" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,600", page.as_uri()],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert _png_pixels_vary(shot.read_bytes())


async def test_trace_view_reads_results_and_exported_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    result = await run()
    as_result = tmp_path / "result.json"
    as_result.write_text(result.model_dump_json())
    assert main(["trace", "view", str(as_result), "-o", str(tmp_path / "a.html")]) == 0
    assert render_timeline(result.to_trace()) == (tmp_path / "a.html").read_text()
    store = gai.store.SQLiteStore(tmp_path / "s.db")
    await gai.generate_text(gai.TestModel(), prompt="x", run_store=store, run_id="exp")
    await store.aclose()
    exported = tmp_path / "exp.json"
    assert (
        main(["runs", "export", "exp", "--store", str(tmp_path / "s.db"), "-o", str(exported)]) == 0
    )
    assert main(["trace", "view", str(exported), "-o", str(tmp_path / "b.html")]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["trace", "view", str(bad), "-o", str(tmp_path / "c.html")]) == 1
    assert "Expected a run trace" in capsys.readouterr().err


async def test_monitor_command_shows_active_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    db = tmp_path / "m.db"
    store = gai.store.SQLiteStore(db)
    snapshot = gai.store.RunSnapshot(messages=[gai.user("x")])
    await store.write(
        [
            gai.store.NewRun("live-1", "openai:gpt-4o-mini", snapshot),
            gai.store.LogEntry("live-1", 1, "tools_started", 1, '{"call_ids": ["a", "b"]}'),
        ]
    )
    await gai.generate_text(gai.TestModel(), prompt="x", run_store=store, run_id="done-1")
    await store.aclose()
    assert main(["monitor", "--store", str(db), "--once"]) == 0
    out = capsys.readouterr().out
    assert "live-1" in out
    assert "recently finished" in out
    assert "done-1" in out.split("recently finished")[1]  # among the finished, not active
    assert "1 completed, 1 running" in out
    assert main(["runs", "list", "--store", str(db)]) == 0
    listed = capsys.readouterr().out
    [done_row] = [line for line in listed.splitlines() if line.startswith("done-1")]
    assert done_row.split()[2] == "1"  # steps


async def test_planted_key_never_leaks(
    replay: StartReplay,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
):
    secret = "sk-PLANTED-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    caplog.set_level(logging.DEBUG)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = await replay("openai_chat/error_401_invalid_api_key.yaml")
    store = gai.store.SQLiteStore(tmp_path / "leak.db")
    from gai.providers.openai import OpenAI

    async with OpenAI("gpt-4o", base_url=server.url("/v1")) as model:
        with pytest.raises(gai.errors.AuthenticationError) as info:
            await gai.generate_text(
                model, prompt="hi", retry=False, run_store=store, run_id="leak",
                observers=[OpenTelemetryObserver(provider, capture_content=True)],
            )  # fmt: skip
    assert server.received[0].headers["Authorization"] == f"Bearer {secret}"  # it was sent...
    record = await store.load_run("leak")
    await store.aclose()
    places = {
        "error": str(info.value) + repr(info.value) + str(info.value.__dict__),
        "partial result": info.value.partial_result.model_dump_json()
        if info.value.partial_result
        else "",
        "logs": caplog.text,
        "spans": "".join(str(s.to_json()) for s in exporter.get_finished_spans()),
        "store": record.model_dump_json(),
        "trace": info.value.partial_result.to_trace().model_dump_json()
        if info.value.partial_result
        else "",
    }
    for where, text in places.items():
        assert secret not in text, f"the API key leaked into the {where}"
        assert "Bearer" not in text, f"an Authorization header leaked into the {where}"


_MEASURE = """<script>
const lane = (el) => el.closest('.lane').getBoundingClientRect();
const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; };
const out = {lanes: [...document.querySelectorAll('.lane')].map((l) => {
  const r = l.getBoundingClientRect(); return [r.left, r.width]; }), steps: []};
for (const row of document.querySelectorAll('.step-row')) {
  const tools = [];
  let next = row.nextElementSibling;
  while (next && next.classList.contains('tool-row')) {
    tools.push(box(next.querySelector('.bar'))); next = next.nextElementSibling;
  }
  out.steps.push({step: box(row.querySelector('.step-bar')),
                  model: box(row.querySelector('.model-bar')), tools});
}
out.errors = [...document.querySelectorAll('.error-text')].map((e) => e.textContent);
document.body.insertAdjacentHTML('beforeend', '<pre id="measured">' + JSON.stringify(out) + '</pre>');
</script>"""


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (.ci/services.sh installs it)"
)
def test_timeline_rows_share_one_time_axis(tmp_path: Path):
    """Measured in Chromium: each lane has the same width whatever its label or detail,
    so a step's bar ends after its own tools, and each tool starts after the model call."""
    import asyncio
    import json
    import re

    assert CHROMIUM is not None
    result = asyncio.run(run())
    assert all(r.start_offset is not None for r in result.tool_results)  # dated in the run
    page = render_timeline(result.to_trace())
    assert "<script" not in page
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", _MEASURE + "</body>"))
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'p'}", "--window-size=1000,800",
         "--dump-dom", measured.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    found = re.findall(r'<pre id="measured">(\{.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    data = json.loads(html.unescape(found[-1]))
    assert len({tuple(round(v) for v in lane) for lane in data["lanes"]}) == 1
    for step in data["steps"]:
        for left, right in step["tools"]:
            assert step["model"][1] <= left + 1  # tools start after the model answered
            assert right <= step["step"][1] + 1  # and end within their step
    assert any("nope" in e for e in data["errors"]), data["errors"]  # the error, on the page


async def test_the_timeline_says_what_a_step_reasoned_ran_at_the_provider_and_got_as_files():
    from gai.types import File, HostedTool, Reasoning

    png = File.from_bytes(b"\x89PNG chart bytes", "image/png")
    call = gai.ToolCall(call_id="c1", name="chart", arguments={})
    model = gai.ScriptedModel(
        [
            gai.ModelResponse(
                tool_calls=(call,),
                reasoning=(Reasoning(text="I will draw it.", provider="anthropic"),),
                hosted_tools=(HostedTool(name="web_search", provider="anthropic"),),
                usage=gai.Usage(input_tokens=900, output_tokens=10, total_tokens=910,
                                cache_read_tokens=800),
            ),
            gai.ModelResponse(finish_reason="refusal", refusal="I can't <b>do</b> that."),
        ]
    )  # fmt: skip
    chart = gai.Tool(name="chart", description="Draw.", fn=lambda: png)
    result = await gai.generate_text(model, prompt="x", tools=[chart], stop_when=gai.MaxSteps(3))
    page = render_timeline(result.to_trace())
    assert "reasoned 15 chars" in page
    assert "ran at the provider: web_search" in page
    assert "(800 cached)" in page
    assert "+image/png" in page
    assert "refused: I can&#x27;t &lt;b&gt;do&lt;/b&gt; that." in page
    assert "chart bytes" not in page
