"""`gai ui --store URL`: the runs dashboard in the browser."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from typing import Any

from gai.cli._imports import import_module, load_object, load_registry
from gai.cli.runs import store_from
from gai.errors import UserError

__all__ = ["add_commands"]

_LOCAL = ("127.0.0.1", "localhost", "::1")


def add_commands(commands: Any) -> None:
    """Register `gai ui`."""
    cmd = commands.add_parser("ui", help="a live dashboard of a store's runs, in the browser")
    cmd.add_argument("--store", help="store URL or SQLite path (default: $GAI_STORE or gai.db)")
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (default local)")
    cmd.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks one)")
    cmd.add_argument(
        "--token", help="secret for approvals (and for everything off localhost); generated"
    )
    cmd.add_argument(
        "--resume",
        metavar="MODULE:NAME",
        help="async fn(store, run_id, approvals) that resumes a run: decisions made here",
    )
    cmd.add_argument(
        "--tools",
        metavar="MODULE:NAME",
        help="the ToolRegistry of runs with no stop condition: decisions resume them here",
    )
    cmd.add_argument(
        "--dbos", metavar="URL", help="a DBOS system database: show its queues' counts"
    )
    cmd.add_argument(
        "--queue", action="append", default=[], metavar="NAME",
        help="a durable queue to count (with --dbos; repeat for more)",
    )  # fmt: skip
    cmd.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="MODULE",
        help="import a module first (e.g. one that registers providers)",
    )  # fmt: skip
    cmd.set_defaults(handler=serve)


async def serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM."""
    from aiohttp import web

    from gai.ui.dashboard import create_app

    for module in args.imports:
        import_module(module)
    public = args.host not in _LOCAL
    if public and not args.token:
        raise UserError(
            f"gai ui on {args.host} is reachable by others: give it a --token they need."
        )
    token = args.token or secrets.token_urlsafe(18)
    store = await store_from(args)
    tools = load_registry(args.tools) if args.tools else None
    resume = load_object(args.resume) if args.resume else None
    client = None
    queues = None
    if args.dbos:
        if not args.queue:
            raise UserError("Name the queues to count with --queue (with --dbos).")
        from gai.durable import DurableClient

        client = DurableClient(args.dbos)

        async def queues() -> dict[str, dict[str, int]]:
            assert client is not None
            counts = {name: await client.queue_counts(name) for name in args.queue}
            return {name: {str(k): n for k, n in c.items()} for name, c in counts.items()}

    app = create_app(store, token=token, tools=tools, resume=resume, queues=queues, public=public)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"gai ui: http://{shown}:{port}/#token={token}", flush=True)
        if tools is None and resume is None:
            print(
                "gai ui: approvals are read-only (no --resume or --tools)",
                file=sys.stderr,
                flush=True,
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await store.aclose()
        if client is not None:
            await client.aclose()
    return 0
