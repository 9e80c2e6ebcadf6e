"""`gai sessions`: list, show, export and delete the conversations of `gai.Session`."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import orjson

from gai.cli.runs import DEFAULT_STORE, store_from
from gai.engine.session import Session
from gai.types import Message

__all__ = ["add_commands"]


def add_commands(commands: Any) -> None:
    """Register `gai sessions ...`."""
    group = commands.add_parser("sessions", help="inspect and delete stored conversations")
    sub = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_help = f"store URL or SQLite path (default: $GAI_STORE or {DEFAULT_STORE})"

    cmd = sub.add_parser("list", help="list sessions, most recently written first")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("--limit", type=int, default=50)
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=list_sessions)

    cmd = sub.add_parser("show", help="show a session's conversation as the next run sees it")
    cmd.add_argument("session_id")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("--json", action="store_true", help="print the messages as JSON")
    cmd.set_defaults(handler=show_session)

    cmd = sub.add_parser("export", help="write a session's whole log (every turn) as JSON")
    cmd.add_argument("session_id")
    cmd.add_argument("--store", help=store_help)
    cmd.add_argument("-o", "--output", required=True, help="file to write")
    cmd.set_defaults(handler=export_session)

    cmd = sub.add_parser("delete", help="forget a session's conversation")
    cmd.add_argument("session_id")
    cmd.add_argument("--store", help=store_help)
    cmd.set_defaults(handler=delete_session)


async def list_sessions(args: argparse.Namespace) -> int:
    """`gai sessions list`."""
    store = await store_from(args)
    try:
        rows = await store.list_sessions(limit=args.limit)
    finally:
        await store.aclose()
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return 0
    if not rows:
        print("no sessions")
        return 0
    print(f"{'SESSION':<34} {'TURNS':>5} {'ITEMS':>6}  UPDATED")
    for r in rows:
        updated = r.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{r.session_id:<34} {r.turns:>5} {r.items:>6}  {updated}")
    return 0


async def show_session(args: argparse.Namespace) -> int:
    """`gai sessions show`."""
    store = await store_from(args)
    try:
        messages = await Session(args.session_id, store=store).messages()
    finally:
        await store.aclose()
    if args.json:
        print(orjson.dumps(messages, option=orjson.OPT_INDENT_2).decode())
        return 0
    if not messages:
        print(f"session {args.session_id!r} is empty")
        return 0
    for message in messages:
        print(_line(message))
    return 0


def _line(message: Message) -> str:
    parts = [message.text] if message.text else []
    parts += [f"-> {c.name}({json.dumps(c.arguments)}) [{c.call_id}]" for c in message.tool_calls]
    parts += [
        f"<- {r.name} [{r.call_id}]{' ERROR' if r.is_error else ''}: {r.content[:200]}"
        for r in message.tool_results
    ]
    return f"{message.role}: " + " | ".join(parts)


async def export_session(args: argparse.Namespace) -> int:
    """`gai sessions export`."""
    store = await store_from(args)
    try:
        items = await Session(args.session_id, store=store).items()
    finally:
        await store.aclose()
    data = {
        "session_id": args.session_id,
        "items": [
            {**item.model_dump(mode="json", exclude={"data"}), "data": orjson.loads(item.data)}
            for item in items
        ],
    }
    output = Path(args.output)
    await asyncio.to_thread(output.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(output.write_bytes, orjson.dumps(data, option=orjson.OPT_INDENT_2))
    turns = items[-1].turn if items else 0
    print(f"wrote {args.output} ({len(items)} items, {turns} turns)")
    return 0


async def delete_session(args: argparse.Namespace) -> int:
    """`gai sessions delete`."""
    store = await store_from(args)
    try:
        await Session(args.session_id, store=store).clear()
    finally:
        await store.aclose()
    print(f"deleted session {args.session_id!r}")
    return 0
