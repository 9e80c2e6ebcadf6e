"""`make bench` keeps working: a tiny run of every gai driver against the fake server."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
            "--gai-repeat",
            "2",
            "--gai-only",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("import gai: median "), proc.stdout
    table = lines[lines.index(next(x for x in lines if x.startswith("driver"))) + 1 :]
    targets = table[table.index(next(x for x in table if x.startswith("target"))) :]
    table = table[: len(table) - len(targets)]
    rows = {line[:20].strip(): line.split() for line in table if line.strip()}
    assert [t[:26].strip() for t in targets[1:]] == [
        "CPU, gai / floor",
        "peak RSS, gai / floor",
        "CPU, streaming / not",
        "CPU, SQLite store / none",
    ], proc.stdout
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
    # Two runs of each gai driver: each target shows the ratio in both, and their median.
    for target in targets[1:]:
        ratio, limit, paired, *per_repetition = target[26:].split()
        assert len(per_repetition) == 2, proc.stdout
        assert all(float(r) > 0 for r in per_repetition), proc.stdout
        middle = sum(float(r) for r in per_repetition) / 2
        assert abs(float(paired.rstrip("x")) - middle) <= 0.011, proc.stdout  # printed rounded
        assert float(ratio.rstrip("x")) > 0, proc.stdout
        assert limit.endswith("x"), proc.stdout
    assert "medians of 2 for the floor and gai" in proc.stdout


def _instructions_module() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module("instructions")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_instruction_counts_are_read_from_cachegrinds_summary():
    instructions = _instructions_module()
    stderr = (
        "==123== Cachegrind, a cache and branch-prediction profiler\n"
        "==123== \n"
        "==123== I   refs:      5,142,914,580\n"
    )
    assert instructions.instruction_count(stderr) == 5_142_914_580
    with pytest.raises(RuntimeError, match="no instruction count"):
        instructions.instruction_count("==1== Command not found\n")


def test_instructions_per_job_come_from_the_difference_of_two_sizes():
    instructions = _instructions_module()
    # Start-up (here 1,000,000) cancels out; what is left is the cost of each job.
    assert instructions.per_job(1_000_000 + 100 * 7_000, 1_000_000 + 400 * 7_000, 100, 400) == 7_000
    with pytest.raises(ValueError, match="must be larger"):
        instructions.per_job(1, 2, 400, 100)
