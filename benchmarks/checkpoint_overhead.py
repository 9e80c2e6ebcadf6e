"""Checkpoint overhead: the same multi-step runs without a store and with each store.

Prints wall time per step and the ratio to the run without a store, measured in the
same process. PostgreSQL and Redis are included when GAI_TEST_POSTGRES_DSN /
GAI_TEST_REDIS_URL are set.

    .venv/bin/python benchmarks/checkpoint_overhead.py [--runs 50] [--steps 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import gai
from gai.store import BaseStore, MemoryStore, SQLiteStore, open_store


def script(steps: int) -> gai.ScriptedModel:
    calls = [
        gai.ModelResponse(
            tool_calls=(
                gai.ToolCall(name="lookup", arguments={"key": f"{i}a"}),
                gai.ToolCall(name="lookup", arguments={"key": f"{i}b"}),
            )
        )
        for i in range(steps - 1)
    ]
    return gai.ScriptedModel([*calls, "done"])


@gai.tool
async def lookup(key: str) -> str:
    """Look a key up."""
    return key


async def measure(runs: int, steps: int, store: BaseStore | None, label: str) -> float:
    started = time.perf_counter()
    await asyncio.gather(
        *(
            gai.generate_text(
                script(steps),
                prompt="go",
                tools=[lookup],
                stop_when=gai.MaxSteps(steps + 1),
                run_id=f"{label}-{i}-{time.perf_counter_ns()}",
                run_store=store,
            )
            for i in range(runs)
        )
    )
    return (time.perf_counter() - started) / (runs * steps)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores: list[tuple[str, BaseStore | None]] = [
            ("no store", None),
            ("memory", MemoryStore()),
            ("sqlite", SQLiteStore(Path(tmp) / "bench.db")),
        ]
        if dsn := os.environ.get("GAI_TEST_POSTGRES_DSN"):
            stores.append(("postgres", await open_store(dsn)))
        if url := os.environ.get("GAI_TEST_REDIS_URL"):
            stores.append(("redis", await open_store(url)))
        await measure(5, args.steps, None, "warmup")
        baseline = 0.0
        print(f"{'store':<10} {'ms/step':>9} {'ratio':>7}")
        for label, store in stores:
            per_step = await measure(args.runs, args.steps, store, label)
            baseline = baseline or per_step
            print(f"{label:<10} {per_step * 1000:>9.3f} {per_step / baseline:>6.1f}x")
            if store is not None:
                await store.aclose()


if __name__ == "__main__":
    asyncio.run(main())
