"""`gai runs`: list, show, resume and export stored runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gai.cli._imports import load_object
from gai.store import BaseStore, RunRecord, open_store
from gai.tools import Tool, ToolRegistry
from gai.types import Reasoning, Usage

__all__ = ["add_commands"]

DEFAULT_STORE = "gai.db"


def add_commands(commands: Any) -> None:
    """Register `gai runs ...`."""
    group = commands.add_parser("runs", help="inspect and resume stored runs")
    sub = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_help = f"store URL or SQLite path (default: $GAI_STORE or {DEFAULT_STORE})"

    cmd = sub.add_parser("list", help="list runs, newest first")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("--status", choices=["running", "completed", "failed", "cancelled", "paused"])
    cmd.add_argument("--limit", type=int, default=50)
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=list_runs)

    cmd = sub.add_parser("show", help="show a run's steps, tools, usage and status")
    cmd.add_argument("run_id")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("--json", action="store_true", help="print the whole record as JSON")
    cmd.set_defaults(handler=show_run)

    cmd = sub.add_parser("resume", help="continue an interrupted run")
    cmd.add_argument("run_id")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument(
        "--tools",
        required=True,
        help="the run's tools, as module:attribute (a list of tools or a ToolRegistry)",
    )
    cmd.add_argument("--stop-when", help="the run's stop condition, as module:attribute")
    cmd.add_argument("--model", help="model to continue with (default: the recorded one)")
    cmd.set_defaults(handler=resume_run)

    cmd = sub.add_parser(
        "tree", help="show a run's family: the runs forked from it, and its parent"
    )
    cmd.add_argument("run_id")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("--limit", type=int, default=1000, help="runs to search for forks")
    cmd.set_defaults(handler=tree_run)

    cmd = sub.add_parser("export", help="write a run as JSON (a replayable test fixture)")
    cmd.add_argument("run_id")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("-o", "--output", required=True, help="file to write")
    cmd.set_defaults(handler=export_run)


async def store_from(args: argparse.Namespace, *, create: bool = False) -> BaseStore:
    """The store `--store` (or $GAI_STORE, or gai.db) names.

    Reading a store never creates one: a mistyped path is an error, not an empty store.
    """
    url = args.store or os.environ.get("GAI_STORE") or DEFAULT_STORE
    return await open_store(url, create=create)


async def list_runs(args: argparse.Namespace) -> int:
    """`gai runs list`."""
    store = await store_from(args)
    try:
        rows = await store.list_runs(status=args.status, limit=args.limit)
    finally:
        await store.aclose()
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return 0
    if not rows:
        print("no runs")
        return 0
    print(f"{'RUN ID':<34} {'STATUS':<10} {'STEPS':>5}  {'MODEL':<28} UPDATED")
    for r in rows:
        updated = r.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{r.run_id:<34} {r.status:<10} {r.steps:>5}  {r.model:<28} {updated}")
    return 0


def _describe(record: RunRecord) -> str:
    lines = [
        f"run {record.run_id}: {record.status}, model {record.model}",
        f"created {record.created_at:%Y-%m-%d %H:%M:%S}, "
        f"updated {record.updated_at:%Y-%m-%d %H:%M:%S}",
    ]
    if record.snapshot.stop_condition:
        lines.append(f"stop_when {record.snapshot.stop_condition}")
    if record.snapshot.parent_run_id is not None:
        lines.append(
            f"forked from {record.snapshot.parent_run_id} after step {record.snapshot.forked_at}"
        )
    for step in record.steps:
        calls = ", ".join(
            f"{r.name} {'ok' if r.ok else 'ERROR'} {r.duration:.2f}s"
            + "".join(f" +{f.file_kind} {f.media_type}" for f in r.files)
            for r in step.tool_results
        )
        lines.append(
            f"  step {step.step_number}: {step.duration:.2f}s, {step.usage.total_tokens} tokens"
            + (f" ({step.usage.reasoning_tokens} reasoning)" if step.usage.reasoning_tokens else "")
            + (f", reasoned: {_reasoning(step.reasoning)}" if step.reasoning else "")
            + (f", tools: {calls}" if calls else "")
            + (f", text: {step.text[:60]!r}" if step.text else "")
        )
        if step.context is not None:
            lines.append(f"    context: {step.context.describe()}")
    if record.pending is not None:
        pending = record.pending
        lines.append(
            f"  step {pending.step_number} (unfinished): model answered: "
            f"{'yes' if pending.response else 'no'}, tools started {len(pending.started)}, "
            f"results recorded {len(pending.results)}"
        )
    if record.steps:
        usage = sum((s.usage for s in record.steps), Usage())
        lines.append(f"usage: {usage.input_tokens} in, {usage.output_tokens} out")
    if record.result is not None:
        lines.append(f"stopped: {record.result.stop_reason}")
    if record.error:
        lines.append(f"error: {record.error}")
    return "\n".join(lines)


async def show_run(args: argparse.Namespace) -> int:
    """`gai runs show`."""
    store = await store_from(args)
    try:
        record = await store.load_run(args.run_id)
    finally:
        await store.aclose()
    print(record.model_dump_json(indent=2) if args.json else _describe(record))
    return 0


async def tree_run(args: argparse.Namespace) -> int:
    """`gai runs tree`: the family of forks the run belongs to, from its first ancestor."""
    store = await store_from(args)
    try:
        record = await store.load_run(args.run_id)
        records = {record.run_id: record}
        while (parent := record.snapshot.parent_run_id) is not None and parent not in records:
            record = records[parent] = await store.load_run(parent)
        root = record.run_id
        children: dict[str, list[RunRecord]] = {}
        for summary in await store.list_runs(limit=args.limit):
            found = records.get(summary.run_id) or await store.load_run(summary.run_id)
            records[found.run_id] = found
            if found.snapshot.parent_run_id is not None:
                children.setdefault(found.snapshot.parent_run_id, []).append(found)
    finally:
        await store.aclose()
    lines: list[str] = []

    def walk(run: RunRecord, depth: int) -> None:
        mark = " *" if run.run_id == args.run_id else ""
        forked = (
            f", forked after step {run.snapshot.forked_at}"
            if run.snapshot.forked_at is not None
            else ""
        )
        lines.append(
            f"{'  ' * depth}{run.run_id} {run.status}, {len(run.steps)} step(s), "
            f"{run.model}{forked}{mark}"
        )
        for child in sorted(children.get(run.run_id, []), key=lambda r: r.created_at):
            walk(child, depth + 1)

    walk(records[root], 0)
    print("\n".join(lines))
    return 0


async def resume_run(args: argparse.Namespace) -> int:
    """`gai runs resume`."""
    from gai.engine.resuming import resume

    tools = load_object(args.tools)
    tool_list: list[Tool] = (
        list(tools) if isinstance(tools, ToolRegistry | list | tuple) else [tools]
    )
    stop_when = load_object(args.stop_when) if args.stop_when else None
    store = await store_from(args)
    try:
        result = await resume(
            args.run_id, store=store, model=args.model, tools=tool_list, stop_when=stop_when
        )
    finally:
        await store.aclose()
    print(result.text)
    print(f"stopped: {result.stop_reason}", file=sys.stderr)
    return 0


async def export_run(args: argparse.Namespace) -> int:
    """`gai runs export`."""
    store = await store_from(args)
    try:
        record = await store.load_run(args.run_id)
    finally:
        await store.aclose()
    output = Path(args.output)
    await asyncio.to_thread(output.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(output.write_text, record.model_dump_json(indent=2))
    print(f"wrote {args.output} ({len(record.responses)} model answers, {len(record.steps)} steps)")
    return 0


def _reasoning(parts: Sequence[Reasoning]) -> str:
    """What a step's reasoning was, in a few words: its start, or that it was hidden."""
    text = " ".join(p.text for p in parts if p.text)
    if text:
        return repr(text[:60])
    return "(hidden by the provider)"
