"""Runs the real client libraries' scripts in tests/ui/node (installed by `make test`)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).parent / "node"


def node_or_skip() -> str:
    """The node binary; skips when Node is absent, fails when its packages are."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the UI protocol tests run the real JS clients")
    if not (NODE_DIR / "node_modules" / "ai").is_dir():
        pytest.fail(
            "tests/ui/node has no node_modules: `make test` installs them "
            "(npm ci --prefix tests/ui/node)."
        )
    return node


async def run_script(script: str, *args: str) -> Any:
    """Run a script of tests/ui/node with `args`; its printed JSON."""
    proc = await asyncio.create_subprocess_exec(
        node_or_skip(),
        str(NODE_DIR / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out)
