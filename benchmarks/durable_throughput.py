"""Durable-run throughput with 1, 2 and 3 worker processes (`make bench-durable`).

Each worker (`gai worker`) takes at most `--worker-concurrency` runs at once from one
queue; every run is `--rounds` rounds of `--calls` parallel tool calls against the
loopback model server (answers wait `--latency` seconds, like a real model), then a
final answer. Prints runs/s per fleet size and its ratio to one worker, and, as a
reference, plain in-process runs at one worker's concurrency.

PostgreSQL comes from GAI_TEST_POSTGRES_DSN (a fresh database per fleet); without it,
only one worker runs, on SQLite.

    .venv/bin/python benchmarks/durable_throughput.py [--runs 300] [--workers 1 2 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.durable import _plugin
from tests.durable._fleet import drop_postgres, fleet, fresh_postgres_url
from tests.support.agent_server import AgentServer

import gai
from gai.durable import DurableClient
from gai.stop import NoMoreTools


async def durable_fleet(
    args: argparse.Namespace, workers: int, database_url: str
) -> tuple[float, float]:
    """Runs per second, and worker CPU milliseconds per run."""
    async with AgentServer(
        rounds=args.rounds, calls_per_round=args.calls, tool_names=("lookup", "write"),
        latency=args.latency,
    ) as server:  # fmt: skip
        effects = Path(tempfile.mkdtemp()) / "effects.log"
        async with (
            DurableClient(database_url, poll_interval=0.05) as client,
            fleet(database_url, "bench", server.url(), effects, tool_seconds=0.0) as group,
        ):
            await client.create_queue("bench", worker_concurrency=args.worker_concurrency)
            ids = [f"w{i}" for i in range(workers)]
            await asyncio.gather(*(group.start(i) for i in ids))
            cpu_before = sum(group.cpu_seconds(i) for i in ids)
            started = time.perf_counter()
            handles = await asyncio.gather(
                *(
                    client.submit(
                        "bench", "loopback:agent", prompt=f"job-{n}", tools=["lookup", "write"],
                        stop_when=NoMoreTools(), run_id=f"run-{n}",
                    )
                    for n in range(args.runs)
                )
            )  # fmt: skip
            # One query per look for the whole queue, rather than one per run.
            while (await client.queue_counts("bench"))["succeeded"] < args.runs:  # noqa: ASYNC110 - other processes
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - started
            cpu = sum(group.cpu_seconds(i) for i in ids) - cpu_before
            results = await asyncio.gather(*(h.result(timeout=60) for h in handles))
    assert all(r.text == f"done job-{n}" for n, r in enumerate(results))
    return args.runs / elapsed, cpu * 1000 / args.runs


async def in_process(args: argparse.Namespace) -> tuple[float, float]:
    server = AgentServer(
        rounds=args.rounds, calls_per_round=args.calls, tool_names=("lookup", "write"),
        latency=args.latency,
    )  # fmt: skip
    async with server, _plugin.loopback_model("agent", server.url()) as model:
        limit = asyncio.Semaphore(args.worker_concurrency)

        async def one(n: int) -> None:
            async with limit:
                await gai.generate_text(
                    model, prompt=f"job-{n}", tools=list(_plugin.registry),
                    stop_when=NoMoreTools(),
                )  # fmt: skip

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(n) for n in range(args.runs)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        # This process also runs the model server: an upper bound on gai's share.
        return args.runs / elapsed, cpu * 1000 / args.runs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--worker-concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    os.environ.setdefault("GAI_TEST_LOOPBACK_URL", "http://127.0.0.1:9/v1")
    dsn = os.environ.get("GAI_TEST_POSTGRES_DSN")
    rows: list[tuple[str, tuple[float, float]]] = []
    if dsn:
        for workers in args.workers:
            url, name = fresh_postgres_url(dsn)
            try:
                rows.append(
                    (f"PostgreSQL, {workers} worker(s)", await durable_fleet(args, workers, url))
                )
            finally:
                drop_postgres(dsn, name)
    else:
        print("GAI_TEST_POSTGRES_DSN is not set: one worker on SQLite only.")
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("SQLite, 1 worker", await durable_fleet(args, 1, f"sqlite:///{tmp}/sys.db")))
    reference = await in_process(args)
    base = rows[0][1][0]
    print(
        f"\n{args.runs} runs of {args.rounds} rounds x {args.calls} tool calls, model latency "
        f"{args.latency * 1000:.0f} ms, {args.worker_concurrency} runs at once per worker\n"
    )
    print(f"{'fleet':<28}{'runs/s':>9}{'vs first':>10}{'CPU ms/run':>12}")
    for label, (rate, cpu) in [*rows, ("in-process, not durable", reference)]:
        print(f"{label:<28}{rate:>9.1f}{rate / base:>9.2f}x{cpu:>12.1f}")


if __name__ == "__main__":
    asyncio.run(main())
