"""`gai workflow run FILE` and `gai workflow validate FILE`: templates from the shell."""

from __future__ import annotations

import argparse
import os
from typing import Any

from gai.cli._imports import load_registry
from gai.errors import UserError
from gai.workflows.template import WorkflowTemplate

__all__ = ["add_commands", "parse_vars"]


def add_commands(commands: Any) -> None:
    """Register `gai workflow ...`."""
    group = commands.add_parser("workflow", help="run or check a workflow template file")
    sub = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, handler, help_text in (
        ("run", run, "run a template (YAML or TOML)"),
        ("validate", validate, "check a template without running it"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("file", help="the template, .yaml/.yml or .toml")
        cmd.add_argument(
            "--var", action="append", default=[], metavar="KEY=VALUE", help="a variable"
        )
        cmd.add_argument(
            "--tools",
            metavar="MODULE:NAME",
            help="a ToolRegistry to resolve the steps' tools, e.g. myapp.tools:registry",
        )
        if name == "run":
            cmd.add_argument(
                "--model",
                default=os.environ.get("GAI_MODEL", "test"),
                help="provider:model (default $GAI_MODEL, else the offline 'test' model)",
            )
        cmd.set_defaults(handler=handler)


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """`["k=v", ...]` as a dict; a pair without `=` is a usage error."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--var expects KEY=VALUE, got {pair!r}.")
        values[key] = value
    return values


async def validate(args: argparse.Namespace) -> int:
    """`gai workflow validate`."""
    template = WorkflowTemplate.load(args.file)
    template.validate_for(load_registry(args.tools), parse_vars(args.var))
    print(f"{template.name}: {len(template.steps)} steps, ok")
    return 0


async def run(args: argparse.Namespace) -> int:
    """`gai workflow run`."""
    template = WorkflowTemplate.load(args.file)
    result = await template.run(
        args.model, parse_vars(args.var), registry=load_registry(args.tools)
    )
    for name, step in result.results.items():
        print(f"[{name}] {result.durations[name]:.2f}s, {len(step.steps)} steps")
        print(step.text)
    return 0
