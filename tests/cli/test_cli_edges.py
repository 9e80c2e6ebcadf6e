"""What a new user hits at the command line: one clear line and a non-zero exit, never a
traceback; reading commands never create stores; modules load from the current folder."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gai
from gai.cli import main

GAI = str(Path(sys.executable).parent / "gai")  # the installed console script


def gai_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GAI, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"gai {gai.__version__}"


@pytest.mark.parametrize(
    "command",
    [
        ["runs", "list"],
        ["runs", "show", "r1"],
        ["runs", "export", "r1", "-o", "out.json"],
        ["monitor", "--once"],
    ],
)
def test_reading_commands_never_create_a_store(tmp_path: Path, command: list[str]):
    done = gai_cli(*command, "--store", "typo/runs.db", cwd=tmp_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        "gai: No store at typo/runs.db: check the path (or --store / GAI_STORE); a run given "
        "run_store= creates it."
    )
    assert not (tmp_path / "typo").exists()


def test_a_corrupt_store_is_one_line(tmp_path: Path):
    (tmp_path / "bad.db").write_text("this is not a database\n" * 100)
    done = gai_cli("runs", "list", "--store", "bad.db", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot be opened (file is not a database)" in one_line(done.stderr)


def test_a_missing_template_is_one_line(tmp_path: Path):
    done = gai_cli("workflow", "run", "nope.yaml", "--model", "test", cwd=tmp_path)
    assert done.returncode == 1
    assert "nope.yaml" in one_line(done.stderr)


def test_a_closed_pipe_ends_quietly(tmp_path: Path):
    store = tmp_path / "runs.db"

    async def record() -> None:
        s = gai.store.SQLiteStore(store)
        await gai.generate_text(gai.TestModel(), prompt="x" * 300_000, run_store=s, run_id="big")
        await s.aclose()

    import asyncio

    asyncio.run(record())
    proc = subprocess.Popen(
        [GAI, "runs", "show", "big", "--json", "--store", str(store)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    assert proc.stdout.read(10)  # like `| head -c 10`, then the reader goes away
    proc.stdout.close()
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_tools_load_from_the_current_folder(tmp_path: Path):
    (tmp_path / "mytools.py").write_text(
        "import gai\n"
        "from gai.tools import ToolRegistry\n"
        "registry = ToolRegistry()\n"
        "@registry.register\n"
        "@gai.tool\n"
        "def lookup(term: str) -> str:\n"
        "    '''Look a term up.'''\n"
        "    return term.upper()\n"
    )
    (tmp_path / "flow.toml").write_text(
        'name = "f"\n[[steps]]\nname = "a"\nuser_prompt = "define {{ word }}"\ntools = ["lookup"]\n'
    )
    done = gai_cli(
        "workflow", "run", "flow.toml", "--var", "word=sea", "--tools", "mytools:registry",
        "--model", "test", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "[a]" in done.stdout


def test_worker_imports_modules_from_the_current_folder(tmp_path: Path, monkeypatch):
    from gai.cli._imports import import_module

    (tmp_path / "myobservability.py").write_text("LOADED = True\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert import_module("myobservability").LOADED
    with pytest.raises(gai.UserError, match="Cannot import 'nomodule_xyz'"):
        import_module("nomodule_xyz")


def _monitor(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    async def record() -> None:
        s = gai.store.SQLiteStore(tmp_path / "runs.db")
        await gai.generate_text(gai.TestModel(), prompt="x", run_store=s, run_id="finished-1")
        await s.aclose()

    import asyncio

    asyncio.run(record())
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [GAI, "monitor", "--store", "runs.db", "--interval", "0.1"],
        stdin=follower, stdout=follower, stderr=follower, cwd=tmp_path, close_fds=True,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )  # fmt: skip
    os.close(follower)
    return proc, leader


def _read_until(fd: int, wanted: bytes, seconds: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_monitor_shows_finished_runs_and_q_quits(tmp_path: Path):
    proc, leader = _monitor(tmp_path)
    try:
        screen = _read_until(leader, b"finished-1")
        assert b"recently finished" in screen
        assert b"finished-1" in screen
        os.write(leader, b"q")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(leader)


def test_monitor_ctrl_c_is_one_line(tmp_path: Path):
    proc, leader = _monitor(tmp_path)
    try:
        _read_until(leader, b"finished-1")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        rest = _read_until(leader, b"interrupted", 5).decode(errors="replace")
        assert "gai: interrupted" in rest
        assert "Traceback" not in rest
    finally:
        proc.kill()
        os.close(leader)
