"""`gai worker --queue NAME`: run durable runs from queues until stopped (`gai[dbos]`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from gai.cli._imports import import_module, load_registry
from gai.errors import UserError

__all__ = ["add_commands", "parse_rate"]


def add_commands(commands: Any) -> None:
    """Register `gai worker`."""
    cmd = commands.add_parser(
        "worker", help="run durable runs from DBOS queues (any number of processes)"
    )
    cmd.add_argument(
        "--queue", action="append", required=True, metavar="NAME", help="a queue to serve"
    )
    cmd.add_argument(
        "--db",
        default=os.environ.get("GAI_DBOS_URL"),
        help="DBOS system database, postgresql://... or sqlite:///... (default $GAI_DBOS_URL)",
    )
    cmd.add_argument("--tools", metavar="MODULE:NAME", help="the ToolRegistry runs name tools in")
    cmd.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module first (e.g. one that registers providers or observers)",
    )
    cmd.add_argument("--id", dest="worker_id", help="stable worker id; a restart recovers its runs")
    cmd.add_argument(
        "--adopt",
        action="append",
        default=[],
        metavar="ID",
        help="take over the unfinished runs of a worker that is gone for good",
    )
    cmd.add_argument(
        "--grace",
        type=int,
        default=10,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, let running runs finish this long (default 10)",
    )
    cmd.add_argument(
        "--db-threads",
        type=int,
        default=4,
        metavar="N",
        help="threads for DBOS's database calls (default 4)",
    )
    cmd.add_argument("--concurrency", type=int, help="set the queues' limit across all workers")
    cmd.add_argument("--worker-concurrency", type=int, help="set the queues' limit per worker")
    cmd.add_argument("--rate-limit", metavar="N/SECONDS", help="at most N runs start per period")
    cmd.set_defaults(handler=run)


def parse_rate(text: str | None) -> tuple[int, float] | None:
    """'100/60' -> (100, 60.0): at most 100 starts in any 60 seconds."""
    if text is None:
        return None
    limit, sep, period = text.partition("/")
    try:
        parsed = (int(limit), float(period))
    except ValueError:
        parsed = None
    if not sep or parsed is None or parsed[0] < 1 or parsed[1] <= 0:
        raise UserError(f"--rate-limit expects N/SECONDS such as 100/60, got {text!r}.")
    return parsed


async def run(args: argparse.Namespace) -> int:
    """Start a worker and serve until SIGINT or SIGTERM, then drain for `--grace` seconds."""
    if not args.db:
        raise UserError("Name the DBOS system database with --db or $GAI_DBOS_URL.")
    rate = parse_rate(args.rate_limit)
    for module in args.imports:
        import_module(module)
    from gai.durable import Worker

    worker = Worker(
        args.db,
        args.queue,
        tools=load_registry(args.tools),
        worker_id=args.worker_id,
        db_threads=args.db_threads,
    )
    await asyncio.to_thread(worker.start)
    try:
        if args.concurrency or args.worker_concurrency or rate:
            for name in args.queue:
                worker.configure_queue(
                    name,
                    concurrency=args.concurrency,
                    worker_concurrency=args.worker_concurrency,
                    rate_limit=rate,
                )
        if args.adopt:
            adopted = await asyncio.to_thread(worker.adopt, args.adopt)
            print(f"gai worker: adopted {adopted} unfinished runs", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(
            f"gai worker {worker.worker_id} serving {', '.join(args.queue)}",
            file=sys.stdout,
            flush=True,
        )
        await stop.wait()
    finally:
        await asyncio.to_thread(worker.stop, args.grace)
    return 0
