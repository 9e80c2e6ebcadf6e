"""gai's durable runs on the benchmark workload: a worker and a client in this process.

The README's path: `DurableClient.submit` queues each job, the `Worker` takes them
from the queue (all at once: its concurrency is the job count), and each run is
journaled in a gai run store beside the DBOS database. With `--direct`, each job is
started in this process by `Worker.run` (no queue, no polling), as pydantic-ai's
`DBOSAgent.run` starts its workflows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

t0 = time.perf_counter()
import gai  # noqa: E402
from gai.durable import DurableClient, Worker  # noqa: E402
from gai.tools import ToolRegistry  # noqa: E402

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import meet, pin, report  # noqa: E402


@gai.tool
async def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--db", required=True, help="DBOS system database URL")
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--direct", action="store_true", help="Worker.run, not the queue")
    parser.add_argument("--prefix", default="", help="of run ids, when several processes run")
    args = parser.parse_args()
    pin(args.cpu)
    os.environ["OPENAI_BASE_URL"] = f"{args.base}/v1"
    os.environ["OPENAI_API_KEY"] = "k"
    worker = Worker(
        args.db, ["bench"], tools=ToolRegistry([lookup]), worker_id=f"bench{args.prefix}"
    )
    worker.start()
    client = DurableClient(args.db)  # polls for results as the README does (every 0.1 s)
    options = {"tools": ["lookup"], "stop_when": gai.MaxSteps(20)}

    async def warm_direct() -> None:
        await worker.run("openai:bench", prompt="warm", run_id=f"{args.prefix}warm", **options)

    async def run_direct() -> int:
        import asyncio

        results = await asyncio.gather(
            *(
                worker.run(
                    "openai:bench", prompt=f"run-{i}", run_id=f"{args.prefix}run-{i}", **options
                )
                for i in range(args.runs)
            )
        )
        return sum(r.text.startswith("done") for r in results)

    async def warm_queue() -> None:
        # The queued warm-up job may run on another process's worker: this worker warms
        # up on a job of its own first (its run store, model client, first imports).
        await warm_direct()
        await client.create_queue("bench", worker_concurrency=args.runs)
        warm = await client.submit(
            "bench", "openai:bench", prompt="warm", run_id=f"{args.prefix}warm-queued", **options
        )
        await warm.result(timeout=60)

    async def run_queue() -> int:
        import asyncio

        handles = await asyncio.gather(
            *(
                client.submit(
                    "bench", "openai:bench", prompt=f"run-{i}", run_id=f"{args.prefix}run-{i}",
                    **options,
                )
                for i in range(args.runs)
            )
        )  # fmt: skip
        # As the README waits: each handle's result (a client's handles share one query
        # per look).
        results = await asyncio.gather(*(h.result(timeout=120) for h in handles))
        # With several processes, any worker may run any job: each process waits until
        # every process has all its results, so none stops while it still runs
        # another's.
        await meet("done")
        await client.aclose()
        return sum(r.text.startswith("done") for r in results)

    try:
        if args.direct:
            report(
                "gai durable, Worker.run", args.runs, IMPORT_S, run_direct, args.base, warm_direct
            )
        else:
            report("gai durable", args.runs, IMPORT_S, run_queue, args.base, warm_queue)
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
