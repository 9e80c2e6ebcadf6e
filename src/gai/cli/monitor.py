"""`gai monitor`: a live view of the runs in a store, and their Prometheus metrics."""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from typing import Any

from gai.errors import MissingExtraError
from gai.store import BaseStore, open_store

__all__ = ["RunRow", "add_commands", "snapshot"]


def add_commands(commands: Any) -> None:
    """Register `gai monitor`."""
    cmd = commands.add_parser("monitor", help="watch active runs in a store")
    cmd.add_argument("--store", help="store URL or SQLite path (default: $GAI_STORE or gai.db)")
    cmd.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes")
    cmd.add_argument("--prometheus-port", type=int, help="also serve /metrics on this port")
    cmd.add_argument("--once", action="store_true", help="print one view and exit")
    cmd.set_defaults(handler=monitor)


@dataclass(frozen=True, slots=True)
class RunRow:
    """One active run, as read from the store."""

    run_id: str
    model: str
    step: int
    tools_running: int
    tokens: int
    tool_errors: int


async def snapshot(store: BaseStore, limit: int = 200) -> tuple[list[RunRow], dict[str, int]]:
    """The running runs, and how many runs the store holds by status."""
    rows = []
    for summary in await store.list_runs(status="running", limit=limit):
        record = await store.load_run(summary.run_id)
        pending = record.pending
        results = [r for s in record.steps for r in s.tool_results]
        if pending is not None:
            results += list(pending.results.values())
        rows.append(
            RunRow(
                run_id=record.run_id,
                model=record.model,
                step=(pending.step_number if pending else len(record.steps) + 1),
                tools_running=(len(pending.started) - len(pending.results)) if pending else 0,
                tokens=sum(s.usage.total_tokens for s in record.steps),
                tool_errors=sum(1 for r in results if not r.ok),
            )
        )
    counts: dict[str, int] = {}
    for summary in await store.list_runs(limit=10_000):
        counts[summary.status] = counts.get(summary.status, 0) + 1
    return rows, counts


def _render(rows: list[RunRow], counts: dict[str, int]) -> Any:
    try:
        from rich.table import Table
    except ImportError as exc:
        raise MissingExtraError("rich", "monitor") from exc
    totals = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no runs"
    table = Table(title=f"gai runs — {totals}", expand=True)
    for column in ("run", "model", "step", "tools running", "tokens", "tool errors"):
        table.add_column(column, justify="right" if column not in ("run", "model") else "left")
    for row in rows:
        table.add_row(
            row.run_id,
            row.model,
            str(row.step),
            str(row.tools_running),
            str(row.tokens),
            f"[red]{row.tool_errors}[/red]" if row.tool_errors else "0",
        )
    if not rows:
        table.add_row("(no active runs)", "", "", "", "", "")
    return table


async def monitor(args: argparse.Namespace) -> int:
    """`gai monitor`."""
    try:
        from rich.console import Console
        from rich.live import Live
    except ImportError as exc:
        raise MissingExtraError("rich", "monitor") from exc
    store = await open_store(args.store or os.environ.get("GAI_STORE") or "gai.db")
    gauges = _prometheus(args.prometheus_port) if args.prometheus_port else None
    console = Console()
    try:
        rows, counts = await snapshot(store)
        if args.once:
            console.print(_render(rows, counts))
            return 0
        with Live(_render(rows, counts), console=console, refresh_per_second=4) as live:
            while True:
                rows, counts = await snapshot(store)
                if gauges is not None:
                    gauges(rows, counts)
                live.update(_render(rows, counts))
                await asyncio.sleep(args.interval)
    finally:
        await store.aclose()


def _prometheus(port: int) -> Any:
    try:
        from prometheus_client import CollectorRegistry, Gauge, start_http_server
    except ImportError as exc:
        raise MissingExtraError("prometheus-client", "prometheus") from exc
    registry = CollectorRegistry()
    runs = Gauge("gai_store_runs", "Runs in the store, by status.", ["status"], registry=registry)
    active = Gauge("gai_active_runs", "Runs in progress.", registry=registry)
    running_tools = Gauge("gai_tools_running", "Tool calls in progress.", registry=registry)
    start_http_server(port, registry=registry)

    def update(rows: list[RunRow], counts: dict[str, int]) -> None:
        active.set(len(rows))
        running_tools.set(sum(r.tools_running for r in rows))
        for status, n in counts.items():
            runs.labels(status).set(n)

    return update
