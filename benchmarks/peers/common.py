"""Shared by every benchmark driver: timing, CPU, memory and the JSON line it prints."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path


def pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def server_requests(base: str) -> int:
    with urllib.request.urlopen(f"{base}/stats") as r:
        return int(json.loads(r.read())["requests"])


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Set by durable_peers.py when several processes share one job: "folder:processes".
_SYNC = os.environ.get("BENCH_SYNC")


async def meet(stage: str) -> None:
    """Wait until every process sharing this job has reached `stage` (no-op alone).

    Each process marks its arrival with a file in a shared folder: the processes start
    their clocks together (not one after another as they finish importing and warming
    up), and a process that waits for the others' jobs looks at a folder, not at the
    database.
    """
    import asyncio

    if not _SYNC:
        return
    folder, _, count = _SYNC.rpartition(":")
    Path(folder, f"{stage}-{os.getpid()}").touch()  # noqa: ASYNC240 (an empty file, once)
    # A file-system poll: other processes cannot set an asyncio.Event of this one.
    while sum(n.startswith(f"{stage}-") for n in os.listdir(folder)) < int(count):  # noqa: ASYNC110
        await asyncio.sleep(0.02)


def report(
    name: str,
    runs: int,
    import_seconds: float,
    run_all: Callable[[], Awaitable[int]],
    base: str,
    warmup: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Time `run_all` and print its JSON line; `warmup` runs first, off the clock.

    A durable driver's warm-up is one job: what a long-running worker pays once
    (connections, schema checks, thread pools) is not a cost per job.
    """
    import asyncio

    async def timed() -> tuple[int, float, float, int]:
        if warmup is not None:
            await warmup()
        await meet("ready")
        before_requests = server_requests(base)
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        ok = await run_all()
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        return ok, wall, cpu, server_requests(base) - before_requests

    ok, wall, cpu, requests = asyncio.run(timed())
    print(
        json.dumps(
            {
                "driver": name,
                "runs": runs,
                "ok": ok,
                "model_requests": requests,
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "cpu_us_per_request": round(cpu / max(requests, 1) * 1e6, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "import_s": round(import_seconds, 3),
            }
        ),
        flush=True,
    )
    sys.exit(0 if ok == runs else 1)
