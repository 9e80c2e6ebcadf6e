"""The `gai` command: `gai runs`, `gai trace view`, `gai monitor`, `gai workflow`, `gai worker`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gai.cli import monitor, runs, trace, worker, workflow
from gai.engine._sync import run_sync
from gai.errors import GaiError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(prog="gai", description="Multi-step LLM runs.")
    commands = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    runs.add_commands(commands)
    trace.add_commands(commands)
    monitor.add_commands(commands)
    workflow.add_commands(commands)
    worker.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    try:
        status: int = run_sync(args.handler(args))
    except GaiError as exc:
        print(f"gai: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
