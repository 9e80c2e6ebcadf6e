"""Child process for the kill tests: runs one checkpointed run and announces its progress.

    python -m tests.store._kill_child STORE_URL RUN_ID MODEL_URL EFFECTS_FILE [POINT N]

It prints `AT <point> <count>` at every kill point; when POINT/N match, it then waits
to be killed (SIGKILL from the parent), so the kill lands exactly there.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import gai
from gai.providers.openai import OpenAI
from gai.store import BaseStore, Entry, LogEntry, open_store

COUNTS: Counter[str] = Counter()
TARGET: tuple[str, int] | None = None


_LOCK = threading.Lock()


def at(point: str) -> None:
    # Tools run in threads: one locked write per line keeps lines whole.
    with _LOCK:
        COUNTS[point] += 1
        count = COUNTS[point]
        sys.stdout.write(f"AT {point} {count}\n")
        sys.stdout.flush()
    if (point, count) == TARGET:
        time.sleep(60)  # the parent kills us here


def make_tools(effects_file: str) -> list[gai.Tool]:
    def record(line: str) -> None:
        with open(effects_file, "a") as f:
            f.write(line + "\n")
            f.flush()

    @gai.tool(idempotent=True)
    def lookup(ctx: gai.ToolContext[None], key: str) -> str:
        """Read a key (safe to repeat)."""
        record(f"lookup {ctx.call_id}")
        at("in_idempotent_tool")
        return f"value of {key}"

    @gai.tool
    def write(ctx: gai.ToolContext[None], key: str) -> str:
        """Write a key (must not repeat)."""
        record(f"write {ctx.call_id}")
        at("in_write_tool")
        return f"wrote {key}"

    return [lookup, write]


class Announcing:
    """Wraps the store: announces each entry once written, and can pause inside a write."""

    def __init__(self, inner: BaseStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def write(self, entries: Sequence[Entry]) -> None:
        logged = [e for e in entries if isinstance(e, LogEntry)]
        if TARGET is not None and TARGET[0] == "in_checkpoint" and len(logged) == len(entries):
            await self._write_pausing(logged)
        else:
            await self.inner.write(entries)
        for entry in logged:
            at(f"after_{entry.kind}")

    async def _write_pausing(self, entries: list[LogEntry]) -> None:
        """The same write, with a pause between the INSERTs and the COMMIT."""
        inner = self.inner
        if inner.kind == "sqlite":

            def write(conn: Any) -> None:
                conn.execute("BEGIN IMMEDIATE")
                for e in entries:
                    (key,) = conn.execute(
                        "SELECT run_key FROM gai_runs WHERE run_id = ?", (e.run_id,)
                    ).fetchone()
                    conn.execute(
                        "INSERT INTO gai_checkpoints VALUES (?, ?, ?, ?, ?)",
                        (key, e.seq, e.kind, e.step_number, e.data),
                    )
                at("in_checkpoint")
                conn.execute("COMMIT")

            await inner._run(write)  # type: ignore[attr-defined]
        else:
            async with inner._pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
                for e in entries:
                    await conn.execute(
                        "INSERT INTO gai_checkpoints (run_id, seq, kind, step_number, payload)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (e.run_id, e.seq, e.kind, e.step_number, e.data),
                    )
                at("in_checkpoint")


async def main(argv: list[str]) -> None:
    global TARGET
    store_url, run_id, model_url, effects_file = argv[:4]
    if len(argv) > 4:
        TARGET = (argv[4], int(argv[5]))
    store = await open_store(store_url)
    run_store: Any = Announcing(store)
    async with OpenAI("agent", api_key="k", base_url=model_url) as model:
        await gai.generate_text(
            model,
            prompt=run_id,
            tools=make_tools(effects_file),
            stop_when=gai.MaxSteps(10),
            run_id=run_id,
            run_store=run_store,
            retry=False,
        )
    print("DONE", flush=True)
    await store.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
