"""The `gai` command.

`gai runs`, `gai sessions`, `gai trace view`, `gai monitor`, `gai workflow`, `gai worker`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from gai._version import __version__
from gai.cli import monitor, runs, sessions, trace, ui, worker, workflow
from gai.engine.sync import run_sync
from gai.errors import GaiError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(prog="gai", description="Multi-step LLM runs.")
    parser.add_argument("--version", action="version", version=f"gai {__version__}")
    commands = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    runs.add_commands(commands)
    sessions.add_commands(commands)
    trace.add_commands(commands)
    monitor.add_commands(commands)
    workflow.add_commands(commands)
    worker.add_commands(commands)
    ui.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status.

    0 ok, 1 failure, 2 usage, 130 interrupted (Ctrl-C). A failure prints one line
    saying what went wrong; `GAI_DEBUG=1` prints the traceback as well.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = run_sync(args.handler(args))
    except KeyboardInterrupt:
        print("gai: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`gai runs show --json | head`): nothing more to say, and
        # Python must not complain about flushing stdout at exit either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        print(f"gai: {describe(exc)}", file=sys.stderr)
        if os.environ.get("GAI_DEBUG"):
            traceback.print_exception(exc)
        return 1
    return status


def describe(exc: BaseException) -> str:
    """One line for an error: its own message, or each cause of a group."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    if isinstance(exc, GaiError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
