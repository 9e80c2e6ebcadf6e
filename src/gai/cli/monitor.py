"""`gai monitor`: a live view of the runs in a store, and their Prometheus metrics."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gai.errors import MissingExtraError
from gai.store import BaseStore, RunSummary, open_store

__all__ = ["RunRow", "add_commands", "recent", "snapshot"]


def add_commands(commands: Any) -> None:
    """Register `gai monitor`."""
    cmd = commands.add_parser(
        "monitor", help="watch active and recently finished runs in a store (q quits)"
    )
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


async def recent(store: BaseStore, limit: int = 10) -> list[RunSummary]:
    """The runs that ended last (any status but running), newest first."""
    ended = [s for s in await store.list_runs(limit=limit * 5) if s.status != "running"]
    return sorted(ended, key=lambda s: s.updated_at, reverse=True)[:limit]


def _render(rows: list[RunRow], counts: dict[str, int], ended: list[RunSummary]) -> Any:
    try:
        from rich.console import Group
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
    done = Table(title="recently finished", expand=True)
    for column in ("run", "status", "steps", "duration", "ended", "error"):
        done.add_column(column, justify="right" if column in ("steps", "duration") else "left")
    for summary in ended:
        seconds = (summary.updated_at - summary.created_at).total_seconds()
        status = summary.status if summary.status == "completed" else f"[red]{summary.status}[/red]"
        done.add_row(
            summary.run_id,
            status,
            str(summary.steps),
            f"{seconds:.2f}s",
            f"{summary.updated_at:%H:%M:%S}",
            (summary.error or "")[:80],
        )
    if not ended:
        done.add_row("(none yet)", "", "", "", "", "")
    return Group(table, done)


async def monitor(args: argparse.Namespace) -> int:
    """`gai monitor`: refreshes until `q` is pressed (or Ctrl-C)."""
    try:
        from rich.console import Console
        from rich.live import Live
    except ImportError as exc:
        raise MissingExtraError("rich", "monitor") from exc
    store = await open_store(args.store or os.environ.get("GAI_STORE") or "gai.db", create=False)
    gauges = _prometheus(args.prometheus_port) if args.prometheus_port else None
    console = Console()

    async def view() -> Any:
        rows, counts = await snapshot(store)
        if gauges is not None:
            gauges(rows, counts)
        return _render(rows, counts, await recent(store))

    try:
        if args.once:
            console.print(await view())
            return 0
        with _keys() as quit_pressed, Live(await view(), console=console) as live:
            while not quit_pressed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(quit_pressed.wait(), timeout=args.interval)
                live.update(await view())
        return 0
    finally:
        await store.aclose()


@contextlib.contextmanager
def _keys() -> Iterator[asyncio.Event]:
    """An event set when `q` is typed on a terminal (stdin is read key by key meanwhile)."""
    pressed = asyncio.Event()
    stdin = sys.stdin
    if not stdin.isatty():
        yield pressed
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()

    def read() -> None:
        if os.read(fd, 32).lower().startswith(b"q"):
            pressed.set()

    tty.setcbreak(fd)
    loop.add_reader(fd, read)
    try:
        yield pressed
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


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
