"""MkDocs hook: the command line reference and the error tree, from the code itself."""

from __future__ import annotations

import argparse
from typing import Any


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[tuple[str, str]]:
    found = [(prefix, parser.format_help())]
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, f"{prefix} {name}")
    return found


def _cli() -> str:
    from gai.cli import build_parser

    parser = build_parser()
    parser.prog = "gai"
    parts = []
    for name, text in _commands(parser, "gai"):
        parts.append(f"## `{name}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def _error_tree() -> str:
    import gai.errors as errors

    def children(cls: type) -> list[type]:
        return sorted(
            (c for c in cls.__subclasses__() if c.__module__ == "gai.errors"),
            key=lambda c: c.__name__,
        )

    lines: list[str] = []

    def walk(cls: type, depth: int) -> None:
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        anchor = f"gai.errors.{cls.__name__}"
        lines.append(f"{'    ' * depth}- [`{cls.__name__}`][{anchor}]: {doc}")
        for child in children(cls):
            walk(child, depth + 1)

    walk(errors.GaiError, 0)
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_path == "reference/cli.md":
        return markdown.replace("<!-- gai-cli -->", _cli())
    if page.file.src_path == "reference/errors.md":
        return markdown.replace("<!-- gai-errors-tree -->", _error_tree())
    return markdown
