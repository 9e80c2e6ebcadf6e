"""`make bench-durable-peers`: durable agent jobs, gai against pydantic-ai + DBOS.

Both libraries run the same jobs (3 rounds of 4 parallel tool calls against the fake
OpenAI-compatible server) in one process each, on a fresh DBOS database, alternating
in one run: gai's README path (a `DurableClient` queues the jobs, a `Worker` in the
same process runs them, each run journaled in a gai run store; and `Worker.run`, the
job started in-process without the queue) and pydantic-ai's
`DBOSAgent` (a DBOS workflow per job started in-process, model requests as DBOS
steps, and with "+tool steps" its tool calls too, the guarantee gai gives every tool
call). Each library's in-process run of the same jobs gives its durable/in-process
ratio. SQLite always; PostgreSQL when GAI_TEST_POSTGRES_DSN is set.

    .venv/bin/python benchmarks/durable_peers.py [--jobs 50 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
PEERS = HERE / ".venv-peers" / "bin" / "python"

from benchmarks.run import free_port  # noqa: E402
from tests.durable._fleet import drop_postgres, fresh_postgres_url  # noqa: E402


def drivers(db: str) -> list[tuple[str, list[str], bool]]:
    """(label, command, durable) of each driver; `db` is the DBOS database URL."""
    me, peers = sys.executable, str(PEERS)
    return [
        ("gai in-process", [me, str(HERE / "peers" / "gai_driver.py")], False),
        ("gai durable", [me, str(HERE / "peers" / "gai_durable_driver.py"), "--db", db], True),
        (
            "gai durable, Worker.run",
            [me, str(HERE / "peers" / "gai_durable_driver.py"), "--db", db, "--direct"],
            True,
        ),
        ("pydantic-ai in-process", [peers, str(HERE / "peers" / "pydantic_ai_driver.py")], False),
        (
            "pydantic-ai DBOSAgent",
            [peers, str(HERE / "peers" / "pydantic_ai_dbos_driver.py"), "--db", db],
            True,
        ),
        (
            "pydantic-ai DBOSAgent +tool steps",
            [peers, str(HERE / "peers" / "pydantic_ai_dbos_driver.py"), "--db", db, "--tool-steps"],
            True,
        ),
    ]


def run_driver(cmd: list[str], base: str, jobs: int, workers: int) -> dict[str, float] | None:
    """One driver's jobs split over `workers` processes at once; their summed CPU."""
    share = jobs // workers
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as sync:
        # The processes meet in `sync` (common.meet): they start their clocks together.
        env = {**os.environ, "BENCH_SYNC": f"{sync}:{workers}"} if workers > 1 else None
        procs = [
            subprocess.Popen(
                [
                    *cmd,
                    "--base",
                    base,
                    "--runs",
                    str(share),
                    *(["--prefix", f"w{k}-"] if workers > 1 else []),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for k in range(workers)
        ]
        outputs = [(proc, *proc.communicate(timeout=900)) for proc in procs]
    results: list[dict[str, float]] = []
    for proc, out, err in outputs:
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"  {Path(cmd[1]).name} failed: {err.strip()[-400:]}", file=sys.stderr)
            return None
        results.append(json.loads(lines[-1]))
    return {
        "wall_s": max(r["wall_s"] for r in results),
        "cpu_s": sum(r["cpu_s"] for r in results),
        "jobs": share * workers,
    }


def fresh_db(kind: str, folder: str, n: int) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder}/dbos-{n}.db", None
    url, name = fresh_postgres_url(os.environ["GAI_TEST_POSTGRES_DSN"])
    return url, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    if not PEERS.exists():
        sys.exit("The peers' environment is missing: make bench-durable-peers creates it.")
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("GAI_TEST_POSTGRES_DSN") else [])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai.py"), "--port", str(port), "--rounds", "3",
         "--calls", "4"],
    )  # fmt: skip
    rows: list[tuple[str, int, int, str, float, float, float | None]] = []
    try:
        time.sleep(1.5)
        with tempfile.TemporaryDirectory() as folder:
            for kind in kinds:
                for jobs in args.jobs:
                    local: dict[str, float] = {}
                    for workers in args.workers:
                        # In-process runs once per job count: their CPU per job is the
                        # ratios' denominator.
                        chosen = [d for d in drivers("") if d[2] or not local]
                        samples = measure(kind, folder, chosen, base, jobs, workers, args.repeat)
                        for label, _, durable in chosen:
                            got = samples.get(label)
                            if not got:
                                continue
                            wall = statistics.median(s["wall_s"] for s in got)
                            cpu = statistics.median(s["cpu_s"] for s in got) / jobs
                            if not durable:
                                local[label] = cpu
                            base_cpu = local.get(
                                "gai in-process" if label.startswith("gai")
                                else "pydantic-ai in-process"
                            )  # fmt: skip
                            ratio = cpu / base_cpu if durable and base_cpu else None
                            n = workers if durable else 1
                            rows.append((kind, jobs, n, label, jobs / wall / n, cpu * 1000, ratio))
    finally:
        server.terminate()
        server.wait()
    print(f"\ndurable agent jobs (3 rounds x 4 parallel tool calls), medians of {args.repeat}\n")
    print(
        f"{'database':<9}{'jobs':>5}{'workers':>8}  {'library, mode':<36}"
        f"{'jobs/s/worker':>14}{'CPU ms/job':>12}{'durable/in-proc':>17}"
    )
    for kind, jobs, workers, label, rate, cpu, ratio in rows:
        shown = f"{ratio:.1f}x" if ratio is not None else "-"
        print(f"{kind:<9}{jobs:>5}{workers:>8}  {label:<36}{rate:>14.1f}{cpu:>12.1f}{shown:>17}")


def measure(
    kind: str,
    folder: str,
    chosen: list[tuple[str, list[str], bool]],
    base: str,
    jobs: int,
    workers: int,
    repeat: int,
) -> dict[str, list[dict[str, float]]]:
    """Each chosen driver `repeat` times, alternating, each on a fresh database."""
    samples: dict[str, list[dict[str, float]]] = {}
    for i in range(repeat):
        order = chosen if i % 2 == 0 else chosen[::-1]
        for label, _, durable in order:
            _NAMES[0] += 1
            db, name = fresh_db(kind, folder, _NAMES[0])
            cmd = next(c for lab, c, _ in drivers(db) if lab == label)
            try:
                result = run_driver(cmd, base, jobs, workers if durable else 1)
            finally:
                if name is not None:
                    drop_postgres(os.environ["GAI_TEST_POSTGRES_DSN"], name)
            if result is not None:
                samples.setdefault(label, []).append(result)
    return samples


_NAMES = [0]


if __name__ == "__main__":
    main()
