"""MCP tools over both transports, against a real server built with the official SDK."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import gai
from gai import ModelResponse, ScriptedModel, ToolCall
from gai.errors import MCPError
from gai.tools import MCPServer

SERVER = Path(__file__).with_name("_mcp_server.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start_http(port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, outlives this coroutine
        [sys.executable, str(SERVER), "http", str(port)],
        env={"GAI_MCP_CALL_LOG": str(log), "PATH": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return proc
    proc.kill()
    raise RuntimeError("the MCP test server did not start")


@pytest.fixture
async def http_server(tmp_path: Path) -> AsyncIterator[tuple[str, subprocess.Popen[bytes], int]]:
    port = _free_port()
    proc = await _start_http(port, tmp_path / "calls.log")
    yield f"http://127.0.0.1:{port}/mcp", proc, port
    proc.kill()
    proc.wait()


def _stdio(tmp_path: Path) -> MCPServer:
    return MCPServer.stdio(
        [sys.executable, str(SERVER), "stdio"],
        env={"GAI_MCP_CALL_LOG": str(tmp_path / "calls.log")},
        prefix="t_",
    )


async def _exercise(server: MCPServer) -> None:
    tools = {t.name: t for t in server.tools}
    assert {"t_add", "t_shout", "t_broken", "t_crash"} <= set(tools)
    assert set(tools["t_add"].parameters["properties"]) == {"a", "b"}
    assert tools["t_add"].idempotent
    assert not tools["t_shout"].idempotent
    assert tools["t_add"].description == "Add two integers."

    model = ScriptedModel(
        [
            ModelResponse(
                tool_calls=(
                    ToolCall(name="t_add", arguments={"a": 2, "b": 40}),
                    ToolCall(name="t_shout", arguments={"text": "hi"}),
                    ToolCall(name="t_broken", arguments={"reason": "test"}),
                    ToolCall(name="t_add", arguments={"a": "x", "b": 1}),
                )
            ),
            "done",
        ]
    )
    result = await gai.generate_text(
        model, prompt="go", tools=server.tools, stop_when=gai.MaxSteps(3)
    )
    outcomes = result.steps[0].tool_results
    assert outcomes[0].ok
    # The SDK's servers return typed results as structured content: {"result": ...}.
    assert outcomes[0].output == {"result": 42}
    assert outcomes[1].output == {"result": "HI"}
    assert outcomes[2].error is not None
    assert "broken on purpose: test" in outcomes[2].error
    assert outcomes[3].error is not None  # schema checked before the call leaves gai
    assert result.text == "done"


async def test_stdio_server_tools_run_inside_a_run(tmp_path):
    async with _stdio(tmp_path) as server:
        await _exercise(server)
    log = (tmp_path / "calls.log").read_text().splitlines()
    assert sorted(log) == ["add 2 40", "shout hi"]


async def test_http_server_tools_run_inside_a_run(http_server):
    url, _, _ = http_server
    async with MCPServer.http(url, prefix="t_") as server:
        await _exercise(server)


async def test_stdio_reconnects_after_the_server_dies(tmp_path):
    async with _stdio(tmp_path) as server:
        assert await server.call("shout", {"text": "a"}) == {"result": "A"}
        with pytest.raises(MCPError, match="dropped"):
            await server.call("crash", {})
        assert server.reconnects == 1
        assert await server.call("shout", {"text": "again"}) == {"result": "AGAIN"}


async def test_http_reconnects_to_a_restarted_server(http_server, tmp_path):
    url, proc, port = http_server
    async with MCPServer.http(url) as server:
        assert await server.call("shout", {"text": "one"}) == {"result": "ONE"}
        proc.kill()
        proc.wait()
        with pytest.raises(MCPError):
            await server.call("add", {"a": 1, "b": 2}, retry_on_drop=True)
        restarted = await _start_http(port, tmp_path / "calls2.log")
        try:
            assert await server.call("add", {"a": 1, "b": 2}) == {"result": 3}
            assert server.reconnects >= 1
        finally:
            restarted.kill()
            restarted.wait()


async def test_a_server_that_cannot_start_is_a_clear_error(tmp_path):
    server = MCPServer.stdio([sys.executable, str(tmp_path / "missing.py")])
    with pytest.raises(MCPError, match="Cannot connect to MCP server"):
        async with server:
            pass
    with pytest.raises(MCPError, match="needs a command"):
        MCPServer.stdio([])
    with pytest.raises(MCPError, match="not connected"):
        await MCPServer.http("http://127.0.0.1:1/mcp").call("x", {})


async def test_a_server_that_cannot_start_says_which_and_why():
    with pytest.raises(gai.errors.MCPError) as info:
        async with MCPServer.stdio(["no-such-mcp-server-xyz", "--flag"]):
            pass
    message = str(info.value)
    assert "'no-such-mcp-server-xyz --flag'" in message
    assert "FileNotFoundError" in message
    assert "TaskGroup" not in message
