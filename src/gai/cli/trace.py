"""`gai trace view`: a run (trace, result or exported record) as an HTML timeline."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from gai.errors import UserError
from gai.observe.timeline import render_timeline
from gai.store.records import RunRecord
from gai.types import TextResult
from gai.types.trace import RunTrace

__all__ = ["add_commands", "load_trace"]


def add_commands(commands: Any) -> None:
    """Register `gai trace ...`."""
    group = commands.add_parser("trace", help="look at a run's timeline")
    sub = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmd = sub.add_parser("view", help="write a self-contained HTML timeline of a run")
    cmd.add_argument(
        "file", help="a trace (result.to_trace()), a TextResult, or `gai runs export` JSON"
    )
    cmd.add_argument("-o", "--output", required=True, help="HTML file to write")
    cmd.set_defaults(handler=view)


def load_trace(text: str) -> RunTrace:
    """Read any of the JSON forms a run can be saved in."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"Not JSON: {exc}") from exc
    if isinstance(data, dict) and "stop_kind" in data:
        return RunTrace.model_validate(data)
    if isinstance(data, dict) and "snapshot" in data:
        record = RunRecord.model_validate(data)
        if record.result is not None:
            return record.result.to_trace()
        raise UserError(
            f"Run {record.run_id!r} has no result yet ({record.status}); nothing to draw."
        )
    if isinstance(data, dict) and "stop_reason" in data:
        return TextResult.model_validate(data).to_trace()
    raise UserError("Expected a run trace, a TextResult or an exported run record.")


async def view(args: argparse.Namespace) -> int:
    """`gai trace view`."""
    text = await asyncio.to_thread(Path(args.file).read_text)
    page = render_timeline(load_trace(text))
    await asyncio.to_thread(Path(args.output).write_text, page)
    print(f"wrote {args.output}")
    return 0
