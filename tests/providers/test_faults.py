"""Misbehaving servers: every failure is a typed, retryable-or-not error, never a hang."""

from __future__ import annotations

import pytest

import gai
from gai.providers.openai import OpenAI
from tests.providers.conftest import StartReplay


async def drain(stream: gai.TextStream) -> None:
    async with stream:
        async for _ in stream:
            pass


def model_for(server, **kw) -> OpenAI:
    return OpenAI("gpt-4o-mini", api_key="sk-test", base_url=server.url("/v1"), **kw)


async def test_truncated_stream_is_a_retryable_format_error(replay: StartReplay):
    server = await replay("openai_chat/stream_text_with_usage.yaml", faults={0: "truncate"})
    async with model_for(server) as model:
        with pytest.raises(gai.errors.ResponseFormatError, match="truncated") as info:
            await drain(gai.stream_text(model, prompt="x", retry=False))
    assert info.value.retryable


async def test_truncated_body_is_a_format_error(replay: StartReplay):
    server = await replay("openai_chat/text_basic.yaml", faults={0: "truncate"})
    async with model_for(server) as model:
        with pytest.raises(
            (gai.errors.ResponseFormatError, gai.errors.ProviderConnectionError)
        ) as info:
            await gai.generate_text(model, prompt="x", retry=False)
    assert info.value.retryable


async def test_malformed_json_is_a_format_error(replay: StartReplay):
    server = await replay("openai_chat/text_basic.yaml", faults={0: "malformed"})
    async with model_for(server) as model:
        with pytest.raises(gai.errors.ResponseFormatError, match="not valid JSON"):
            await gai.generate_text(model, prompt="x", retry=False)


async def test_empty_choices_is_a_format_error(replay: StartReplay):
    server = await replay("openai_chat/text_basic.yaml", faults={0: "empty_choices"})
    async with model_for(server) as model:
        with pytest.raises(gai.errors.ResponseFormatError, match="no choices"):
            await gai.generate_text(model, prompt="x", retry=False)


async def test_slow_server_past_the_timeout(replay: StartReplay):
    server = await replay("openai_chat/text_basic.yaml", faults={0: "slow"}, slow_seconds=5)
    async with model_for(server, timeout=0.2) as model:
        with pytest.raises(gai.errors.ProviderTimeoutError, match=r"0\.2 seconds") as info:
            await gai.generate_text(model, prompt="x", retry=False)
    assert info.value.retryable


async def test_dropped_connection(replay: StartReplay):
    server = await replay("openai_chat/text_basic.yaml", faults={0: "drop"})
    async with model_for(server) as model:
        with pytest.raises(
            (gai.errors.ProviderConnectionError, gai.errors.ResponseFormatError)
        ) as info:
            await gai.generate_text(model, prompt="x", retry=False)
    assert info.value.retryable


async def test_unreachable_server():
    model = OpenAI("m", api_key="k", base_url="http://127.0.0.1:9/v1")
    async with model:
        with pytest.raises(gai.errors.ProviderConnectionError) as info:
            await gai.generate_text(model, prompt="x", retry=False)
    assert info.value.retryable
    assert info.value.partial_result is not None


def test_unknown_finish_reason_is_other():
    from tests.support.recordings import load

    body = load("openai_chat/text_basic.yaml")[0].response_json
    body["choices"][0]["finish_reason"] = "brand_new_reason"
    response = OpenAI("m", api_key="k").parse_response(body)
    assert response.finish_reason == "other"


def test_missing_fields_are_a_format_error_not_a_key_error():
    with pytest.raises(gai.errors.ResponseFormatError, match=r"unexpected chat\.completion shape"):
        OpenAI("m", api_key="k").parse_response({"choices": [{"nomessage": 1}]})


def test_invalid_tool_arguments_become_an_error_the_model_sees():
    body = {
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "content": None,
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": '{"a": 1'}}],
                },
            }
        ]
    }
    call = OpenAI("m", api_key="k").parse_response(body).tool_calls[0]
    assert call.invalid_arguments == '{"a": 1'
    assert call.arguments == {}


def test_missing_key_names_the_variable():
    with pytest.raises(gai.errors.MissingAPIKeyError, match="OPENAI_API_KEY"):
        OpenAI("gpt-4o-mini")
    with pytest.raises(gai.errors.MissingAPIKeyError, match="GROQ_API_KEY"):
        OpenAI("llama", provider="groq")
    with pytest.raises(gai.UserError, match="pass base_url"):
        OpenAI("m", provider="nonesuch")


def test_local_presets_need_no_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    model = OpenAI("llama3.2", provider="ollama-openai")
    assert model._http.base_url == "http://gpu-box:11434/v1"
    assert "authorization" not in model._http.headers
    assert model.name == "ollama-openai:llama3.2"


def test_one_model_object_across_event_loops_and_process_exit_leaves_no_warnings(tmp_path):
    """asyncio.run twice with one model object, then exit: no unclosed-session noise."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "two_loops.py"
    script.write_text(
        "import asyncio, gai\n"
        "from gai.providers import OpenAI\n"
        "from tests.support.recordings import load\n"
        "from tests.support.replay import ReplayServer\n"
        "async def main(model):\n"
        "    async with ReplayServer(load('openai_chat/text_basic.yaml')) as server:\n"
        "        model._http.base_url = server.url('/v1')\n"
        "        print((await gai.generate_text(model, prompt='hi')).text)\n"
        "model = OpenAI('gpt-4o-mini', api_key='k')\n"
        "asyncio.run(main(model))\n"
        "asyncio.run(main(model))\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("This is a test.") == 2
    assert proc.stderr == ""
