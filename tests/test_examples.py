"""The README's quickstart and the demo run as written."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_quickstart_runs_and_prints_what_it_says(capsys, tmp_path):
    quickstart = _python_blocks((ROOT / "README.md").read_text())[0]
    runpy.run_path(_write(quickstart, tmp_path), run_name="__main__")
    out = capsys.readouterr().out
    assert "1 ['get_weather', 'send_email']" in out
    assert "tool_seen: tool 'send_email' was called in step 1" in out


def _write(code: str, tmp_path: Path) -> str:
    path = tmp_path / "quickstart.py"
    path.write_text(code)
    return str(path)


def _run_demo(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "morning_briefing.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_demo_runs_parallel_lookups_then_email():
    proc = _run_demo()
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "4 tools in parallel" in out
    assert "stopped: tool_seen (tool 'send_email' was called in step 2)" in out
    assert "email to me@example.com" in out


async def test_gai_ui_shows_the_demos_run_from_its_store(tmp_path: Path):
    import aiohttp
    from aiohttp import web

    from gai.store import SQLiteStore
    from gai.ui.dashboard import create_app

    db = tmp_path / "runs.db"
    proc = _run_demo({**os.environ, "GAI_STORE": str(db)})
    assert proc.returncode == 0, proc.stderr
    store = SQLiteStore(db)
    runner = web.AppRunner(create_app(store, token="t"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/api/runs") as response:
                (listed,) = (await response.json())["runs"]
            assert (listed["status"], listed["steps"]) == ("completed", 2)
            async with http.get(f"{base}/api/runs/{listed['run_id']}") as response:
                run = await response.json()
    finally:
        await runner.cleanup()
        await store.aclose()
    tools = [row for row in run["timeline"] if row["kind"] == "tool"]
    assert [row["label"] for row in tools] == [
        "get_weather", "get_news", "get_stock_prices", "get_calendar", "send_email"
    ]  # fmt: skip
    lookups = tools[:4]
    # The four lookups ran at once: each began before any of the others ended.
    assert max(t["start"] for t in lookups) < min(t["end"] for t in lookups)


def test_demo_runs_on_a_model_named_by_gai_model():
    proc = _run_demo({"GAI_MODEL": "test", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert "model: test" in proc.stdout
    assert "stopped: tool_seen" in proc.stdout


def test_make_demo_installs_only_the_package():
    """The demo's first run costs a `pip install gai`, not the test tools (DBOS, mypy...)."""
    plan = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert installs, plan
    assert all("[dev]" not in line for line in installs), installs
    assert "examples/morning_briefing.py" in plan
