"""Child process for the kill tests: runs one checkpointed run and announces its progress.

    python -m tests.store._kill_child STORE_URL RUN_ID MODEL_URL EFFECTS_FILE [POINT N]

With GAI_KILL_DIRECT=1 the run uses the store itself rather than a wrapper, so its
checkpoints take the JSON path whose commits the run waits for per step.

It prints `AT <point> <count>` at every kill point; when POINT/N match, it then waits
to be killed (SIGKILL from the parent), so the kill lands exactly there.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

import orjson

import gai
from gai.providers.openai import OpenAI
from gai.store import BaseStore, open_store

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
    """Wraps the store: announces after each checkpoint, and inside SQLite/PG writes."""

    def __init__(self, inner: BaseStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(
        self, run_id: str, kind: Any, step_number: int, payload: dict[str, Any]
    ) -> None:
        if TARGET is not None and TARGET[0] == "in_checkpoint":
            await self._append_pausing(run_id, kind, step_number, payload)
        else:
            await self.inner.append(run_id, kind, step_number, payload)
        at(f"after_{kind}")

    async def _append_pausing(
        self, run_id: str, kind: Any, step_number: int, payload: dict[str, Any]
    ) -> None:
        """The same write, with a pause between the INSERT and the COMMIT."""

        data = orjson.dumps(payload).decode()
        inner = self.inner
        if inner.kind == "sqlite":

            def write(conn: Any) -> None:
                conn.execute("BEGIN IMMEDIATE")
                key, seq = conn.execute(
                    "SELECT run_key, (SELECT COALESCE(MAX(seq), 0) + 1 FROM gai_checkpoints c"
                    " WHERE c.run_key = r.run_key) FROM gai_runs r WHERE run_id = ?",
                    (run_id,),
                ).fetchone()
                conn.execute(
                    "INSERT INTO gai_checkpoints VALUES (?, ?, ?, ?, ?)",
                    (key, seq, kind, step_number, data),
                )
                at("in_checkpoint")
                conn.execute("COMMIT")

            await inner._run(write)  # type: ignore[attr-defined]
        else:
            async with inner._pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
                # Lock the run row first, as the store does, so concurrent appends queue.
                await conn.execute(
                    "UPDATE gai_runs SET updated_at = updated_at WHERE run_id = %s", (run_id,)
                )
                await conn.execute(
                    "INSERT INTO gai_checkpoints (run_id, seq, kind, step_number, payload)"
                    " SELECT %s, COALESCE(MAX(seq), 0) + 1, %s, %s, %s FROM gai_checkpoints WHERE run_id = %s",
                    (run_id, kind, step_number, data, run_id),
                )
                at("in_checkpoint")


async def main(argv: list[str]) -> None:
    global TARGET
    store_url, run_id, model_url, effects_file = argv[:4]
    if len(argv) > 4:
        TARGET = (argv[4], int(argv[5]))
    store = await open_store(store_url)
    run_store: Any = Announcing(store)
    if os.environ.get("GAI_KILL_DIRECT"):
        # The store as the run loop really uses it (JSON checkpoints whose commits it
        # may wait for later): announce each checkpoint once its transaction committed.
        run_store = store
        if hasattr(store, "queue_checkpoint"):  # SQLite: queued, committed in a batch later
            queue = store.queue_checkpoint

            def announcing_queue(
                run_id: str, kind: Any, step_number: int, data: str, seq: int
            ) -> Any:
                batch = queue(run_id, kind, step_number, data, seq)
                # A model answer can carry the end of the step before it and its own
                # step's tools_started (one entry for all three), and one entry can
                # hold several tool results.
                kinds = [kind]
                if kind == "model_response":
                    entry = orjson.loads(data)
                    if "ended_step" in entry:
                        kinds.insert(0, "step_finished")
                    if entry.get("tools_started"):
                        kinds.append("tools_started")
                if kind == "tool_results":
                    kinds = ["tool_result"] * len(orjson.loads(data)["results"])

                def announce(f: asyncio.Future[Any]) -> None:
                    if not (f.cancelled() or f.exception() or run_id in f.result()):
                        for name in kinds:
                            at(f"after_{name}")

                batch.add_done_callback(announce)
                return batch

            store.queue_checkpoint = announcing_queue  # type: ignore[method-assign]
        else:  # PostgreSQL: written when awaited
            write = store.append_json

            def announcing_json(run_id: str, kind: Any, step_number: int, data: str) -> Any:
                async def then_announce() -> None:
                    await write(run_id, kind, step_number, data)
                    at(f"after_{kind}")

                return then_announce()

            store.append_json = announcing_json  # type: ignore[method-assign]
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
