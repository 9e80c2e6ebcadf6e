"""gai on the benchmark workload."""

from __future__ import annotations

import argparse
import sys
import time

t0 = time.perf_counter()
import gai  # noqa: E402
from gai.providers import OpenAI  # noqa: E402

IMPORT_S = time.perf_counter() - t0
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import pin, report  # noqa: E402


@gai.tool
async def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--store", default=None, help="SQLite path to checkpoint runs in")
    parser.add_argument("--tune-gc", action="store_true", help="call gai.tune_gc() first")
    args = parser.parse_args()
    pin(args.cpu)
    # Opened (and its schema created) before the clock starts, as a service opens its
    # store once at start-up: the benchmark compares the cost per step.
    store = gai.store.SQLiteStore(args.store) if args.store else None
    if args.tune_gc:
        gai.tune_gc()  # at start-up, after the imports, as its docs say

    async def run_all() -> int:
        import asyncio

        async with OpenAI("bench", api_key="k", base_url=f"{args.base}/v1") as model:

            async def one(i: int) -> bool:
                kw = {"tools": [lookup], "stop_when": gai.MaxSteps(20), "run_store": store}
                if args.stream:
                    async with gai.stream_text(model, prompt=f"run-{i}", **kw) as s:
                        async for _ in s:
                            pass
                    return s.result.text.startswith("done")
                result = await gai.generate_text(model, prompt=f"run-{i}", **kw)
                return result.text.startswith("done")

            results = await asyncio.gather(*(one(i) for i in range(args.runs)))
        if store is not None:
            await store.aclose()
        return sum(results)

    report(
        "gai" + (" (stream)" if args.stream else "") + (" (sqlite)" if args.store else ""),
        args.runs,
        IMPORT_S,
        run_all,
        args.base,
    )


if __name__ == "__main__":
    main()
