"""Every code block of the README and of the pages under docs/ runs, in order, as a
reader would run them: the README first, then the pages in the order of `PAGES`.

Python blocks run one after another in one namespace (a notebook: `model`, `tools`
and the quickstart's functions carry over), with top-level `await`. Providers named in
them reach a loopback server answering with recorded exchanges (`*_BASE_URL`), so the
code is the README's own. Shell blocks run their `gai` commands in the same folder;
the `make` lines are what CI itself runs. A block this file does not know fails the
test, so a new block cannot go untested; so does a page missing from `PAGES`.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import gai
from gai import _registry
from gai.observe import hub
from tests.support.recordings import load

ROOT = Path(__file__).resolve().parents[1]
GAI = str(Path(sys.executable).parent / "gai")
README_DSN = "postgresql://app:secret@db/gai"
README_MCP_URL = "http://127.0.0.1:8000/mcp"


PAGES = [
    "README.md",
    "docs/index.md",
    "docs/run-loop.md",
    "docs/tools.md",
    "docs/providers.md",
    "docs/content.md",
    "docs/streaming.md",
    "docs/structured-output.md",
    "docs/resilience.md",
    "docs/persistence.md",
    "docs/scale-out.md",
    "docs/conversations.md",
    "docs/control.md",
    "docs/observability.md",
    "docs/web.md",
    "docs/workflows.md",
    "docs/testing.md",
    "docs/coming-from/pydantic-ai.md",
    "docs/coming-from/openai-agents.md",
    "docs/coming-from/langgraph.md",
    "docs/coming-from/vercel-ai-sdk.md",
    "docs/recipes/index.md",
    "docs/recipes/morning-briefing.md",
    "docs/recipes/sequential.md",
    "docs/recipes/conditional.md",
    "docs/recipes/iterative.md",
    "docs/recipes/state.md",
    "docs/recipes/multi-agent.md",
    "docs/recipes/hierarchical.md",
    "docs/recipes/templates.md",
    "docs/recipes/composition.md",
    "benchmarks/README.md",
]


def blocks() -> list[tuple[str, str, str]]:
    """(page, language, code) of every fenced block, in reading order."""
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text()
        for m in re.finditer(r"```(\w*)([^\n]*)\n(.*?)```", text, re.S):
            title = re.search(r'title="([^"]+)"', m.group(2))
            # A block titled with a peer library's name is that library's code.
            lang = f"{m.group(1)}:{title.group(1)}" if title else m.group(1)
            found.append((page, lang, m.group(3)))
    return found


def test_every_page_is_in_the_reading_order():
    # The reference pages hold no code blocks, only mkdocstrings' `:::` directives.
    pages = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "docs").rglob("*.md")
        if p.parent != ROOT / "docs" / "reference"
    }
    assert pages <= set(PAGES), sorted(pages - set(PAGES))


class RecordedProviders:
    """OpenAI and Anthropic endpoints that answer every request with a recorded answer."""

    def __init__(self) -> None:
        self.openai = load("openai_chat/text_basic.yaml")[0]
        self.anthropic = load("anthropic/text_basic.yaml")[0]
        self.requests: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.url = ""

    def __enter__(self) -> RecordedProviders:
        started = threading.Event()

        async def answer(request: web.Request) -> web.Response:
            await request.read()
            self.requests.append(request.path)
            recorded = self.anthropic if request.path.endswith("/messages") else self.openai
            return web.Response(body=recorded.body, content_type="application/json")

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/{tail:.*}", answer)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = self._runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}"
            started.set()

        self._thread = threading.Thread(
            target=lambda: (self.loop.run_until_complete(serve()), self.loop.run_forever()),
            daemon=True,
        )
        self._thread.start()
        assert started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MYAPP_TOOLS = '''
import gai
from gai.tools import ToolRegistry


@gai.tool
async def get_weather(city: str) -> dict:
    """Current weather for a city."""
    return {"city": city, "temperature_c": 19}


@gai.tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    return f"sent to {to}"


@gai.tool
def lookup_invoice(number: str) -> str:
    """Find an invoice."""
    return f"invoice {number}: 120 EUR, unpaid"


@gai.tool
def lookup(term: str) -> str:
    """Look a term up."""
    return term.upper()


TOOLS = [get_weather, send_email]
STOP = gai.MaxSteps(20)
registry = ToolRegistry([get_weather, send_email, lookup_invoice, lookup])
'''


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A reader's project folder: the examples, a `myapp` package, a flow file."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "tools.py").write_text(MYAPP_TOOLS)
    (tmp_path / "myapp" / "observability.py").write_text(
        "from gai.observe import Monitor, instrument\n\ninstrument(Monitor())\n"
    )
    (tmp_path / "flow.toml").write_text(
        'name = "flow"\n[[steps]]\nname = "define"\n'
        'user_prompt = "Define {{ topic }}."\ntools = ["lookup"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    _registry._CACHE.clear()  # model strings resolved against this test's servers


def _run_python(code: str, namespace: dict[str, Any], runner: asyncio.Runner) -> None:
    compiled = compile(code, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if compiled.co_flags & 0x80:  # CO_COROUTINE: it awaits at top level
        runner.run(eval(compiled, namespace))
    else:
        exec(compiled, namespace)


def _run_durable(code: str, folder: Path, env: dict[str, str]) -> str:
    """The DBOS block, in a process of its own (DBOS is one per process), with a worker
    in that process and SQLite instead of the README's PostgreSQL server."""
    dsn = f"sqlite:///{folder}/dbos.db"
    script = folder / "durable_block.py"
    script.write_text(
        "import asyncio\n"
        "import myapp.tools\n"
        "from gai.durable import Worker\n"
        f"worker = Worker({dsn!r}, ['agents'], tools=myapp.tools.registry, worker_id='readme')\n"
        "worker.start()\n"
        "async def main():\n"
        + textwrap.indent(code.replace(README_DSN, dsn), "    ")
        + "\nasyncio.run(main())\nworker.stop()\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _run_shell(code: str, folder: Path, env: dict[str, str]) -> None:
    for command in code.replace("\\\n", " ").splitlines():
        command = command.split("#")[0].strip()
        if not command or command.startswith(("make ", "GAI_MODEL=", "OPENAI_API_KEY=")):
            continue  # what CI runs (make test, make demo: tests/test_examples.py)
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            env[name] = value
            continue
        assert command.startswith("gai "), command
        args = command.split()[1:]
        if args[0] == "ui":
            _run_ui([*args, "--port", "0"], folder, env)
            continue
        if args[0] == "worker":
            _run_worker([a.replace(README_DSN, f"sqlite:///{folder}/worker.db") for a in args],
                        folder, env)  # fmt: skip
            continue
        done = subprocess.run(
            [GAI, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}: {done.stderr}"


PEERS_PYTHON = ROOT / "benchmarks" / ".venv-peers" / "bin" / "python"
PEER_TITLES = {"pydantic-ai", "OpenAI Agents SDK", "LangGraph"}


def _run_peer(code: str, folder: Path) -> None:
    """A peer library's block, in the peers' environment (`make test` creates it)."""
    assert PEERS_PYTHON.exists(), "make test creates benchmarks/.venv-peers for these blocks"
    script = folder / "peer_block.py"
    script.write_text(code)
    _run_against_fake_openai([str(PEERS_PYTHON), str(script)], folder)


def _run_node(code: str, folder: Path) -> None:
    """A Vercel AI SDK block, run by Node with tests/ui/node's packages (`make test`)."""
    node = shutil.which("node")
    assert node is not None, "Node.js runs the Vercel AI SDK page's block: install nodejs"
    modules = ROOT / "tests" / "ui" / "node"
    assert (modules / "node_modules" / "@ai-sdk" / "openai").is_dir(), "make test installs it"
    script = modules / "docs_block.mjs"  # beside node_modules, where Node finds packages
    script.write_text(code)
    try:
        _run_against_fake_openai([node, str(script)], folder)
    finally:
        script.unlink()


def _run_against_fake_openai(command: list[str], folder: Path) -> None:
    """Run `command` with OPENAI_BASE_URL on a fake server that calls the `lookup` tool
    once and then answers "done <question>"."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "fake_openai.py"), "--port", str(port),
         "--rounds", "1", "--calls", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder),
                 "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_API_KEY": "sk-test"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().startswith("done What is the capital"), done.stdout
    finally:
        server.terminate()
        server.wait()


def _serving(args: list[str], folder: Path, env: dict[str, str], check: Any) -> None:
    """Start a `gai` command that serves until SIGTERM; `check` its first line of output."""
    proc = subprocess.Popen(
        [GAI, *args], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        check(line)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.stdout.close()
        proc.stderr.close()


def _run_ui(args: list[str], folder: Path, env: dict[str, str]) -> None:
    """`gai ui` serves the store's runs at the URL it prints, until SIGTERM."""
    import json
    import urllib.request

    def check(line: str) -> None:
        match = re.match(r"gai ui: (http://\S+)/#token=(\S+)", line)
        assert match, line
        with urllib.request.urlopen(match.group(1) + "/api/runs", timeout=30) as response:
            assert json.loads(response.read())["runs"], "the README's run is not listed"
        with urllib.request.urlopen(match.group(1) + "/", timeout=30) as response:
            assert b"gai" in response.read()

    _serving(args, folder, env, check)


def _run_worker(args: list[str], folder: Path, env: dict[str, str]) -> None:
    def check(line: str) -> None:
        assert line.startswith("gai worker worker-1 serving agents"), line

    _serving(args, folder, env, check)


def test_every_block_runs(folder: Path, monkeypatch: pytest.MonkeyPatch):
    port = _free_port()
    mcp = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "mcp" / "notes_server.py"), "http", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    unsubscribe_all = list(hub.instrumented())
    printed = io.StringIO()
    # Only stdout is swapped: the MCP SDK writes a server's stderr to sys.stderr, which
    # must stay a real file.
    with (
        RecordedProviders() as providers,
        asyncio.Runner() as runner,
        contextlib.redirect_stdout(printed),
    ):
        env = {
            **os.environ,
            "OPENAI_API_KEY": "sk-readme-test-0000",
            "ANTHROPIC_API_KEY": "sk-ant-readme-test-0000",
            "OPENAI_BASE_URL": f"{providers.url}/v1",
            "ANTHROPIC_BASE_URL": providers.url,
            "GAI_MODEL": "test",
            "PYTHONPATH": str(folder),
        }
        for name in (
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_BASE_URL",
        ):
            monkeypatch.setenv(name, env[name])
        namespace: dict[str, Any] = {"__name__": "__main__", "gai": gai, "asyncio": asyncio}
        ran: list[str] = []
        try:
            _wait_for_port(port)
            for page, lang, code in blocks():
                if code.startswith("--8<-- "):
                    # A recipe shows an example file whole; tests/workflows runs every
                    # example (test_every_example_is_tested keeps that so).
                    included = ROOT / code.split('"')[1]
                    assert included.parent == ROOT / "examples", (page, code)
                    assert included.is_file(), (page, code)
                    ran.append("example")
                    continue
                if lang == "js:Vercel AI SDK":
                    _run_node(code, folder)
                    ran.append("peer")
                    continue
                if lang.startswith("python:") and lang.split(":", 1)[1] in PEER_TITLES:
                    _run_peer(code, folder)
                    ran.append("peer")
                    continue
                if lang == "python" and "DurableClient" in code:
                    out = _run_durable(code, folder, env)
                    assert out.strip().splitlines()[0] in ("queued", "running", "succeeded")
                elif lang == "python":
                    if "import asyncio\nimport gai" not in code:  # after the quickstart
                        namespace.setdefault("model", gai.TestModel())
                        namespace.setdefault(
                            "tools", [namespace["get_weather"], namespace["send_email"]]
                        )
                        namespace.setdefault("search", namespace["get_weather"])
                    _run_python(code.replace(README_MCP_URL, f"http://127.0.0.1:{port}/mcp"),
                                namespace, runner)  # fmt: skip
                elif lang == "sh":
                    _run_shell(code, folder, env)
                elif lang == "yaml":
                    first = code.splitlines()[0]
                    path = ROOT / first.removeprefix("# ").strip()
                    assert code.split("\n", 1)[1] == path.read_text(), path
                else:
                    pytest.fail(f"{page}: a {lang or 'plain'} block has no runner: {code!r}")
                ran.append(lang)
        finally:
            # The README's provider objects and the models its strings named hold
            # aiohttp sessions on this loop: close them here, as a reader's program would.
            for value in [*namespace.values(), *_registry._CACHE.values()]:
                aclose = getattr(value, "aclose", None)
                if not isinstance(value, type) and inspect.iscoroutinefunction(aclose):
                    runner.run(aclose())
            _registry._CACHE.clear()
            mcp.kill()
            mcp.wait()
            for observer in hub.instrumented():  # what the README's observability block added
                if observer not in unsubscribe_all:
                    hub._GLOBAL.remove(observer)
    out = printed.getvalue()
    assert "1 ['get_weather', 'send_email']" in out  # the quickstart printed its steps
    page = (ROOT / "docs" / "run-loop.md").read_text()
    shown = page.split("print(repr(result.stop_reason))\n# ")[1]
    assert shown.splitlines()[0] in out  # the stop reason printed is the one the page shows
    assert "refused: I can't help with that." in out  # docs/content.md's refusal
    page = (ROOT / "docs" / "persistence.md").read_text()
    shown = page.split("print(counting.kinds)\n# ")[1]
    assert shown.splitlines()[0] in out  # a store wrapper sees the writes the page shows
    assert ran.count("python") >= 15
    assert ran.count("peer") == 4  # pydantic-ai, Agents SDK, LangGraph, Vercel AI SDK
    assert ran.count("example") == 9  # the recipes
    assert any(p.endswith("/messages") for p in providers.requests)  # Anthropic was used
    assert any(p.endswith("/chat/completions") for p in providers.requests)


def _wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            import time

            time.sleep(0.05)
    raise RuntimeError("the example MCP server did not start")


def test_the_readme_shows_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text
    assert "make test" in text
    assert shutil.which("make") is not None
