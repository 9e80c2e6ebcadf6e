"""`make bench` keeps working: a tiny run of every gai driver against the fake server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_harness_runs_every_gai_driver():
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--runs",
            "5",
            "--repeat",
            "1",
            "--gai-only",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {
        line[:20].strip(): line.split() for line in proc.stdout.splitlines()[3:] if line.strip()
    }
    expected = {
        "bare-aiohttp",
        "gai",
        "gai (stream)",
        "gai (sqlite store)",
        "gai + tune_gc",
        "gai stream + tune_gc",
        "gai sqlite + tune_gc",
    }
    assert set(rows) == expected, proc.stdout
    assert all(row[-1] == "5" for row in rows.values()), proc.stdout
