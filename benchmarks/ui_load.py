"""`gai ui` on a store of 100,000 runs: how long its pages and API calls take.

Fills a fresh SQLite store (and a fresh PostgreSQL database when GAI_TEST_POSTGRES_DSN
is set) with runs, serves the dashboard, and times each request over HTTP (median
of 5, after one warm-up request).

    .venv/bin/python benchmarks/ui_load.py [--runs 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import gai  # noqa: E402
from gai.store import BaseStore, NewRun, RunSnapshot, StatusChange, open_store  # noqa: E402
from gai.ui.dashboard import create_app  # noqa: E402


async def fill(store: BaseStore, runs: int) -> None:
    snapshot = RunSnapshot(messages=[gai.user("hello")])
    models = ["openai:gpt-4o", "anthropic:claude-sonnet-4", "gemini:gemini-2.5-flash"]
    for start in range(0, runs, 2000):
        batch = range(start, min(start + 2000, runs))
        await store.write([NewRun(f"run-{i:06d}", models[i % 3], snapshot) for i in batch])
        await store.write(
            [
                StatusChange(f"run-{i:06d}", "failed", error=f"error {i}: card declined")
                for i in batch
                if i % 50 == 0
            ]
        )


async def measure(store: BaseStore, runs: int) -> list[tuple[str, float]]:
    runner = web.AppRunner(create_app(store, token="bench"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    middle = f"run-{runs // 2:06d}"
    paths = {
        "runs page (HTML)": "/",
        "first page of runs": "/api/runs",
        "a page in the middle": f"/api/runs?after_id={middle}",
        "status=failed": "/api/runs?status=failed",
        "model=anthropic:claude-sonnet-4": "/api/runs?model=anthropic:claude-sonnet-4",
        "search 'declined'": "/api/runs?q=declined",
        "search, no match": "/api/runs?q=nothing-like-this",
        "one run": f"/api/runs/{middle}",
    }
    rows = []
    try:
        async with aiohttp.ClientSession() as http:
            for label, path in paths.items():
                samples = []
                for i in range(6):
                    t0 = time.perf_counter()
                    async with http.get(base + path) as response:
                        await response.read()
                        assert response.status == 200, (path, response.status)
                    if i:
                        samples.append(time.perf_counter() - t0)
                rows.append((label, statistics.median(samples) * 1000))
    finally:
        await runner.cleanup()
    return rows


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        targets = [("sqlite", f"sqlite:///{folder}/runs.db", None)]
        dsn = os.environ.get("GAI_TEST_POSTGRES_DSN")
        if dsn:
            from tests.durable._fleet import fresh_postgres_url

            url, name = fresh_postgres_url(dsn)
            targets.append(("postgres", url, name))
        for kind, url, name in targets:
            store = await open_store(url)
            t0 = time.perf_counter()
            await fill(store, runs)
            print(f"{kind}: {runs} runs written in {time.perf_counter() - t0:.1f}s")
            for label, ms in await measure(store, runs):
                print(f"  {label:<34}{ms:>8.1f} ms")
            await store.aclose()
            if name is not None:
                from tests.durable._fleet import drop_postgres

                drop_postgres(dsn, name)  # type: ignore[arg-type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().runs))
