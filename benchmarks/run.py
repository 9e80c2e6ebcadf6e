"""`make bench`: CPU per model request, memory and import time, gai against the floor and peers.

Starts the fake OpenAI server pinned to one core, runs every driver in its own process
pinned to the other, in alternation for each R, and prints medians with each driver's
ratio to the bare aiohttp loop measured in the same run. The peers run 3 times (each
takes tens of seconds); the floor and gai's drivers, whose ratios are the targets and
take seconds, run 11 times, because on a shared machine the ratio of one pair of runs
moves by a third. Every other repetition runs the drivers in reverse order, so each
pair compared in a target is measured as often before as after the other. Peer
drivers run from the virtual environment in benchmarks/.venv-peers when it exists.

    .venv/bin/python benchmarks/run.py [--runs 200 1000] [--repeat 3] [--gai-repeat 11]
        [--gai-only]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS_PY = HERE / ".venv-peers" / "bin" / "python"
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
SERVER_CPU, DRIVER_CPU = (CPUS[-1], CPUS[0]) if len(CPUS) > 1 else (None, None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drivers(gai_only: bool) -> list[tuple[str, list[str]]]:
    """Every driver, the floor first, gai's next, then the peers (`is_peer` tells)."""
    me = sys.executable
    out = [
        ("bare-aiohttp", [me, str(HERE / "peers" / "bare_aiohttp.py")]),
        ("gai", [me, str(HERE / "peers" / "gai_driver.py")]),
        ("gai (stream)", [me, str(HERE / "peers" / "gai_driver.py"), "--stream"]),
        (
            "gai (sqlite store)",
            [me, str(HERE / "peers" / "gai_driver.py"), "--store", "/tmp/gai-bench.db"],
        ),
        ("gai + tune_gc", [me, str(HERE / "peers" / "gai_driver.py"), "--tune-gc"]),
        (
            "gai stream + tune_gc",
            [me, str(HERE / "peers" / "gai_driver.py"), "--stream", "--tune-gc"],
        ),
        (
            "gai sqlite + tune_gc",
            [
                me,
                str(HERE / "peers" / "gai_driver.py"),
                "--store",
                "/tmp/gai-bench.db",
                "--tune-gc",
            ],
        ),
    ]
    if not gai_only and PEERS_PY.exists():
        for name in ("pydantic_ai", "openai_agents", "langgraph"):
            out.append(
                (name.replace("_", "-"), [str(PEERS_PY), str(HERE / "peers" / f"{name}_driver.py")])
            )
    return out


def is_peer(cmd: list[str]) -> bool:
    """Whether a driver is one of the peer libraries (slow, run fewer times)."""
    return cmd[0] == str(PEERS_PY)


def run_driver(cmd: list[str], base: str, runs: int) -> dict[str, float] | None:
    args = [*cmd, "--base", base, "--runs", str(runs)]
    if DRIVER_CPU is not None:
        args += ["--cpu", str(DRIVER_CPU)]
    for leftover in Path("/tmp").glob("gai-bench.db*"):
        leftover.unlink()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        print(f"  {cmd[-1]} failed: {proc.stderr.strip()[-500:]}", file=sys.stderr)
        return None


# The targets: (what, numerator driver, denominator driver, measure, at most).
TARGETS = [
    ("CPU, gai / floor", "gai", "bare-aiohttp", "cpu_us_per_request", 2.0),
    ("peak RSS, gai / floor", "gai", "bare-aiohttp", "peak_rss_mb", 1.5),
    ("CPU, streaming / not", "gai (stream)", "gai", "cpu_us_per_request", 1.5),
    ("CPU, SQLite store / none", "gai (sqlite store)", "gai", "cpu_us_per_request", 1.25),
]


def print_targets(samples: dict[str, list[dict[str, float]]]) -> None:
    """Each target's ratio of medians, the median of its pairs, and its pairs.

    The ratio of medians is the one held against the limit. Drivers run in
    alternation, so each repetition also gives one ratio of two runs made a few
    seconds apart (a pair); their median and range show how much of a difference is
    the machine.
    """
    print(f"{'target':<26} {'ratio':>6} {'limit':>6} {'pairs':>6}  per repetition")
    for label, top, bottom, key, limit in TARGETS:
        a, b = samples.get(top), samples.get(bottom)
        if not a or not b:
            continue
        ratio = statistics.median(r[key] for r in a) / statistics.median(r[key] for r in b)
        pairs = [x[key] / y[key] for x, y in zip(a, b, strict=False)] if len(a) == len(b) else []
        paired = f"{statistics.median(pairs):>5.2f}x" if pairs else f"{'-':>6}"
        spread = " ".join(f"{p:.2f}" for p in pairs)
        print(f"{label:<26} {ratio:>5.2f}x {limit:>5.2f}x {paired}  {spread}")


def import_seconds(times: int = 11) -> list[float]:
    """Seconds `import gai` takes in fresh interpreters (the target is 0.15).

    gai's bytecode is compiled first, as installing it does: a source tree edited since
    its last import (or one where PYTHONDONTWRITEBYTECODE kept it from being cached)
    would otherwise be compiled again by every interpreter and timed with the import.
    """
    import gai

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(gai.__file__).parent)], check=True
    )
    code = "import time; t = time.perf_counter(); import gai; print(time.perf_counter() - t)"
    return sorted(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(times)
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each peer driver")
    parser.add_argument(
        "--gai-repeat", type=int, default=11, help="runs of the floor and of each gai driver"
    )
    parser.add_argument("--gai-only", action="store_true")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_cmd = [
        sys.executable,
        str(HERE / "fake_openai.py"),
        "--port",
        str(port),
        "--rounds",
        "3",
        "--calls",
        "4",
    ]
    if SERVER_CPU is not None:
        server_cmd += ["--cpu", str(SERVER_CPU)]
    seconds = import_seconds()
    print(
        f"import gai: median {statistics.median(seconds):.3f} s (limit 0.150) over "
        f"{len(seconds)} fresh interpreters: {' '.join(f'{x:.3f}' for x in seconds)}"
    )
    server = subprocess.Popen(server_cmd)
    try:
        time.sleep(1.5)
        for runs in args.runs:
            samples: dict[str, list[dict[str, float]]] = {}
            for i in range(max(args.repeat, args.gai_repeat)):
                # Alternate directions: a machine slowing down or speeding up over the
                # minutes of a run favours neither side of a ratio.
                order = drivers(args.gai_only)
                for name, cmd in order if i % 2 == 0 else order[::-1]:
                    if i >= (args.repeat if is_peer(cmd) else args.gai_repeat):
                        continue
                    result = run_driver(cmd, base, runs)
                    if result is not None:
                        samples.setdefault(name, []).append(result)
            print(
                f"\nR={runs} (K=3 rounds of N=4 parallel tool calls; medians of "
                f"{args.gai_repeat} for the floor and gai, {args.repeat} for the peers)"
            )
            print(
                f"{'driver':<20} {'CPU µs/req':>11} {'x floor':>8} {'peak RSS MB':>12} {'x floor':>8} {'import s':>9} {'ok':>6}"
            )
            floor = samples.get("bare-aiohttp")
            floor_cpu = statistics.median(s["cpu_us_per_request"] for s in floor) if floor else None
            floor_rss = statistics.median(s["peak_rss_mb"] for s in floor) if floor else None
            for name, rows in samples.items():
                cpu = statistics.median(r["cpu_us_per_request"] for r in rows)
                rss = statistics.median(r["peak_rss_mb"] for r in rows)
                imp = statistics.median(r["import_s"] for r in rows)
                ok = min(r["ok"] for r in rows)
                print(
                    f"{name:<20} {cpu:>11.0f} {cpu / floor_cpu if floor_cpu else 0:>7.2f}x {rss:>12.0f} "
                    f"{rss / floor_rss if floor_rss else 0:>7.2f}x {imp:>9.2f} {ok:>6.0f}"
                )
            print_targets(samples)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
