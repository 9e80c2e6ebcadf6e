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


def run_driver(cmd: list[str], base: str, jobs: int) -> dict[str, float] | None:
    done = subprocess.run(
        [*cmd, "--base", base, "--runs", str(jobs)], capture_output=True, text=True, timeout=900,
        check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"  {Path(cmd[1]).name} failed: {done.stderr.strip()[-400:]}", file=sys.stderr)
        return None
    result: dict[str, float] = json.loads(lines[-1])
    return result


def fresh_db(kind: str, folder: str, n: int) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder}/dbos-{n}.db", None
    url, name = fresh_postgres_url(os.environ["GAI_TEST_POSTGRES_DSN"])
    return url, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--repeat", type=int, default=3)
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
    rows: list[tuple[str, int, str, float, float, float | None]] = []
    try:
        time.sleep(1.5)
        with tempfile.TemporaryDirectory() as folder:
            n = 0
            for kind in kinds:
                for jobs in args.jobs:
                    samples: dict[str, list[dict[str, float]]] = {}
                    for i in range(args.repeat):
                        order = drivers("")
                        for index in (
                            range(len(order)) if i % 2 == 0 else reversed(range(len(order)))
                        ):
                            n += 1
                            db, name = fresh_db(kind, folder, n)
                            label, cmd, _ = drivers(db)[index]
                            try:
                                result = run_driver(cmd, base, jobs)
                            finally:
                                if name is not None:
                                    drop_postgres(os.environ["GAI_TEST_POSTGRES_DSN"], name)
                            if result is not None:
                                samples.setdefault(label, []).append(result)
                    local = {
                        label: statistics.median(s["cpu_s"] for s in samples.get(label, []))
                        for label in ("gai in-process", "pydantic-ai in-process")
                        if samples.get(label)
                    }
                    for label, _, durable in drivers(""):
                        got = samples.get(label)
                        if not got:
                            continue
                        wall = statistics.median(s["wall_s"] for s in got)
                        cpu = statistics.median(s["cpu_s"] for s in got)
                        base_cpu = local.get(
                            "gai in-process"
                            if label.startswith("gai")
                            else "pydantic-ai in-process"
                        )
                        ratio = cpu / base_cpu if durable and base_cpu else None
                        rows.append((kind, jobs, label, jobs / wall, cpu * 1000 / jobs, ratio))
    finally:
        server.terminate()
        server.wait()
    print(f"\ndurable agent jobs (3 rounds x 4 parallel tool calls), medians of {args.repeat}\n")
    print(
        f"{'database':<9}{'jobs':>5}  {'library, mode':<36}{'jobs/s':>8}{'CPU ms/job':>12}{'durable/in-proc':>17}"
    )
    for kind, jobs, label, rate, cpu, ratio in rows:
        shown = f"{ratio:.1f}x" if ratio is not None else "-"
        print(f"{kind:<9}{jobs:>5}  {label:<36}{rate:>8.1f}{cpu:>12.1f}{shown:>17}")


if __name__ == "__main__":
    main()
