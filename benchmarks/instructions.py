"""`make bench-instructions`: instructions per job, counted by cachegrind, for gai's drivers.

CPU time on a shared virtual machine moves by a third between two runs made seconds
apart, so a change worth a few percent cannot be seen in it without many repetitions.
An instruction count barely moves. Each driver of `make bench` that runs gai (plain,
streaming, the SQLite store) runs here under valgrind's cachegrind twice, at two sizes
(200 and 1,000 jobs by default); the difference, divided by the difference in jobs, is the
instructions one job costs, start-up and imports cancelled out. Each is printed with
its ratio to plain gai measured in the same run.

What it leaves out is what `make bench` measures beyond it: valgrind runs a process's
threads one at a time, so the count includes the store's database thread but not the
switches between threads, the kernel's work (the store's page writes) or cache misses.
Whether a full collection of the garbage collector falls inside one size and not the
other moves a count by 1-2% between runs: a difference smaller than that needs
several runs, or a count of the code that changed alone.

    .venv/bin/python benchmarks/instructions.py [--runs 200 1000] [--drivers plain store]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import HERE, free_port

DRIVERS = {
    "plain": [],
    "stream": ["--stream"],
    "store": ["--store", "{db}"],
}
"""gai's drivers (the arguments they add to `gai_driver.py`), as `make bench` runs them."""

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instruction_count(valgrind_stderr: str) -> int:
    """The total instruction count in cachegrind's summary."""
    found = _REFS.search(valgrind_stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{valgrind_stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_job(small: int, large: int, small_jobs: int, large_jobs: int) -> float:
    """Instructions per job, from the counts of two runs of different sizes."""
    if large_jobs <= small_jobs:
        raise ValueError(f"the second size ({large_jobs}) must be larger than the first")
    return (large - small) / (large_jobs - small_jobs)


def count(extra: list[str], base: str, jobs: int, folder: Path) -> int:
    """Instructions of one run of the gai driver with `jobs` jobs."""
    db = folder / "instructions.db"
    for leftover in folder.glob("instructions.db*"):
        leftover.unlink()
    args = [arg.replace("{db}", str(db)) for arg in extra]
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            str(HERE / "peers" / "gai_driver.py"),
            "--base",
            base,
            "--runs",
            str(jobs),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        # One hash seed: string hashing does not move the count from run to run.
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the driver failed under valgrind:\n{proc.stderr[-2000:]}")
    return instruction_count(proc.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs=2, default=[200, 1000], metavar=("R", "R2"))
    parser.add_argument("--drivers", nargs="+", choices=list(DRIVERS), default=list(DRIVERS))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind).")
    small_jobs, large_jobs = args.runs
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai.py"), "--port", str(port), "--rounds", "3",
         "--calls", "4"]
    )  # fmt: skip
    results: dict[str, float] = {}
    try:
        time.sleep(1.5)
        with tempfile.TemporaryDirectory() as folder:
            for name in args.drivers:
                small = count(DRIVERS[name], base, small_jobs, Path(folder))
                large = count(DRIVERS[name], base, large_jobs, Path(folder))
                results[name] = per_job(small, large, small_jobs, large_jobs)
    finally:
        server.terminate()
        server.wait()
    print(
        f"instructions per job (K=3 rounds of N=4 parallel tool calls; "
        f"{large_jobs} jobs minus {small_jobs})"
    )
    plain = results.get("plain")
    for name, value in results.items():
        ratio = f"{value / plain:.3f}x plain" if plain else ""
        print(f"{name:<8} {value / 1e6:8.3f}M  {ratio}")


if __name__ == "__main__":
    main()
