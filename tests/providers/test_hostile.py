"""Hostile or broken servers: every misbehaviour ends in a typed error, in bounded time
and bounded memory, never a hang or a bare Python exception."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import gai
from gai.providers import HTTPLimits
from gai.providers._http import SSEDecoder
from gai.providers.ollama import Ollama
from gai.providers.openai import OpenAI
from tests.support.hostile import HostileServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as s:
        yield s


def model(server: HostileServer, mode: str, arg: object = "-", **kw) -> OpenAI:
    return OpenAI("m", api_key="sk-test", base_url=server.base(mode, arg), **kw)


async def drain(stream: gai.TextStream) -> gai.TextResult:
    async with stream:
        async for _ in stream:
            pass
    return stream.result


def test_default_limits_are_documented_values():
    limits = HTTPLimits()
    assert (limits.stream_timeout, limits.idle_timeout, limits.connect_timeout) == (600, 300, 10)
    assert (limits.max_response_bytes, limits.max_event_bytes) == (64 * 2**20, 16 * 2**20)
    with pytest.raises(gai.ConfigError, match="idle_timeout must be a positive"):
        HTTPLimits(idle_timeout=0)
    with pytest.raises(gai.ConfigError, match="max_event_bytes"):
        HTTPLimits(max_event_bytes=10)


async def test_keepalive_comments_do_not_keep_a_stream_alive(server: HostileServer):
    limits = HTTPLimits(idle_timeout=0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with model(server, "keepalive", limits=limits) as m:
        with pytest.raises(
            gai.errors.ProviderTimeoutError, match=r"no event for 0\.5 seconds"
        ) as info:
            await drain(gai.stream_text(m, prompt="x", retry=False))
    assert 0.5 <= loop.time() - started < 0.5 + 10  # the limit, plus a busy machine's margin
    assert info.value.retryable
    assert info.value.partial_result is not None


async def test_a_stream_that_trickles_forever_hits_its_deadline(server: HostileServer):
    limits = HTTPLimits(stream_timeout=1.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with model(server, "trickle", 0.05, limits=limits) as m:
        with pytest.raises(gai.errors.ProviderTimeoutError, match=r"within 1 seconds") as info:
            await drain(gai.stream_text(m, prompt="x", retry=False))
    assert 1.0 <= loop.time() - started < 1.0 + 10  # the deadline, plus a busy machine's margin
    assert info.value.retryable


async def test_a_silent_stream_hits_the_idle_timeout(server: HostileServer):
    async with model(server, "trickle", 30, limits=HTTPLimits(idle_timeout=0.3)) as m:
        with pytest.raises(
            gai.errors.ProviderTimeoutError, match=r"paused for more than 0\.3 seconds"
        ):
            await drain(gai.stream_text(m, prompt="x", retry=False))


async def test_a_huge_event_is_decoded_in_linear_time(server: HostileServer):
    # 24 MiB in one event, past the default cap: raise it. Decoding it re-scanned the
    # whole pending buffer on every read before (7 s for 20 MB); now it is one pass.
    limits = HTTPLimits(max_event_bytes=64 * 2**20, stream_timeout=20)
    async with model(server, "big_event", 24, limits=limits) as m:
        result = await drain(gai.stream_text(m, prompt="x", retry=False))
    assert len(result.text) == 24 * 2**20


async def test_an_event_over_the_cap_is_a_format_error(server: HostileServer):
    async with model(server, "big_event", 3, limits=HTTPLimits(max_event_bytes=2**20)) as m:
        with pytest.raises(gai.errors.ResponseFormatError, match="larger than 1048576 bytes"):
            await drain(gai.stream_text(m, prompt="x", retry=False))


def test_decoder_scans_each_byte_a_bounded_number_of_times():
    """Counted, not timed: the decoder searches only the bytes it has not searched yet."""
    searched = 0

    class Counting(bytearray):
        def find(self, sub, start=0, *rest):  # type: ignore[override]
            nonlocal searched
            searched += len(self) - start
            return super().find(sub, start, *rest)

    decoder = SSEDecoder(max_event_bytes=2**30)
    decoder._frames._pending = Counting()
    piece = b"x" * 4096
    decoder.feed(b"data: ")
    for _ in range(2000):  # 8 MB
        decoder.feed(piece)
    assert searched < 2 * 2000 * 4096
    assert decoder.feed(b"\n\n") == [gai.providers._http.SSEEvent(None, "x" * 2000 * 4096)]


_MEMORY_CHILD = """
import asyncio, json, resource, sys, time
import gai
from gai.providers import HTTPLimits
from gai.providers.ollama import Ollama
from gai.providers.openai import OpenAI
from tests.support.hostile import HostileServer

async def main(mode):
    async with HostileServer() as server:
        kind = mode.split(":")[0]
        if kind == "endless_ndjson":
            m = Ollama("m", base_url=server.host(kind))
        else:
            m = OpenAI("m", api_key="k", base_url=server.base(kind, mode.split(":")[-1]))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        error = None
        try:
            if kind in ("endless_body", "big_error"):
                await gai.generate_text(m, prompt="x", retry=False)
            else:
                async with gai.stream_text(m, prompt="x", retry=False) as s:
                    async for _ in s:
                        pass
        except gai.GaiError as exc:
            error = exc
        await m.aclose()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({
            "error": type(error).__name__, "cut": "more characters cut" in str(error),
            "message_length": len(str(error)), "body_length": len(getattr(error, "body", "") or ""),
            "seconds": time.perf_counter() - started, "grew_mb": (peak - before) / 1024,
        }))

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize(
    ("mode", "error", "most_mb"),
    [
        ("endless_line", "ResponseFormatError", 120),  # one SSE line, never ending
        ("endless_ndjson", "ResponseFormatError", 120),  # one Ollama line, never ending
        ("endless_body", "ResponseFormatError", 300),  # a JSON body, never ending
        ("big_error:50", "ProviderServerError", 400),  # a 500 whose message is 50 MB
    ],
)
def test_endless_or_huge_payloads_stop_at_their_cap(mode: str, error: str, most_mb: int):
    """In a child process, so its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, mode],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["error"] == error, report
    assert report["grew_mb"] < most_mb, report
    assert report["message_length"] < 3000, report  # never a 50 MB exception string
    assert report["body_length"] < 3000, report
    if mode.startswith("big_error"):
        assert report["cut"], report


async def test_a_huge_error_message_is_cut_everywhere(
    server: HostileServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    store = gai.store.SQLiteStore(tmp_path / "runs.db")
    policy = gai.RetryPolicy(max_attempts=2, initial_delay=0.001)
    async with model(server, "big_error", 5) as m:
        with pytest.raises(gai.errors.ProviderServerError) as info:
            await gai.generate_text(m, prompt="x", retry=policy, run_store=store, run_id="big")
    await store.aclose()
    assert len(str(info.value)) < 3000
    assert "more characters cut" in str(info.value)
    assert max(len(r.getMessage()) for r in caplog.records) < 5000
    assert (tmp_path / "runs.db").stat().st_size < 1_000_000


async def test_a_null_index_means_the_position(server: HostileServer):
    async with model(server, "bad_delta", "index_null") as m:
        result = await drain(gai.stream_text(m, prompt="x", retry=False, tools=[add]))
    assert result.steps[0].tool_results[0].output == 1


@pytest.mark.parametrize("bad", ["index_list", "id_int", "name_int"])
async def test_malformed_tool_call_delta_is_a_format_error(server: HostileServer, bad: str):
    async with model(server, "bad_delta", bad) as m:
        with pytest.raises(gai.errors.ResponseFormatError) as info:
            await drain(gai.stream_text(m, prompt="x", retry=False, tools=[add]))
    assert info.value.retryable  # a glitch of one response: asking again may help


@gai.tool
def add(a: int, b: int = 0) -> int:
    """Add two numbers."""
    return a + b


async def test_non_string_arguments_are_a_tool_error_the_model_sees(server: HostileServer):
    async with model(server, "bad_delta", "arguments_int") as m:
        result = await drain(gai.stream_text(m, prompt="x", retry=False, tools=[add]))
    [call_result] = result.steps[0].tool_results
    assert call_result.error is not None
    assert "5" in call_result.error


async def test_non_string_arguments_in_a_plain_response(server: HostileServer):
    from gai.providers.streaming import function_call

    call = function_call({"id": "c", "function": {"name": "add", "arguments": 5}})
    assert call.arguments == {}
    assert call.invalid_arguments == "5"


async def test_ollama_endless_line_is_capped(server: HostileServer):
    m = Ollama(
        "m", base_url=server.host("endless_ndjson"), limits=HTTPLimits(max_event_bytes=2**20)
    )
    async with m:
        with pytest.raises(gai.errors.ResponseFormatError, match="larger than 1048576 bytes"):
            await drain(gai.stream_text(m, prompt="x", retry=False))


async def test_usage_of_an_in_band_stream_error_is_kept(server: HostileServer):
    async with model(server, "error_with_usage") as m:
        with pytest.raises(gai.errors.ProviderServerError, match="Provider disconnected") as info:
            await drain(gai.stream_text(m, prompt="x", retry=False))
    assert info.value.usage == gai.Usage(input_tokens=11, output_tokens=5, total_tokens=16)
    assert info.value.partial_result is not None
    assert info.value.partial_result.usage.total_tokens == 16


async def test_a_streamed_tool_use_failed_becomes_the_tool_call(server: HostileServer):
    async with model(server, "tool_use_failed") as m:
        result = await drain(gai.stream_text(m, prompt="x", retry=False, tools=[add]))
    [call_result] = result.steps[0].tool_results
    assert result.steps[0].tool_calls[0].arguments == {"a": "one"}
    assert call_result.error is not None
    assert "valid integer" in call_result.error
