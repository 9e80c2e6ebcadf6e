"""`make ui-screenshots`: the runs list and a run page of `gai ui`, as PNG files.

.venv/bin/python -m tests.ui.screenshots [--out build/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from aiohttp import web

from gai.store import SQLiteStore
from gai.ui.dashboard import create_app
from tests.ui import _dashboard_runs as runs
from tests.ui._browser import browser_page, wait_for_body


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "runs.db")
        await runs.research_run(store)
        await runs.approval_run(store)
        await runs.failed_run(store)
        runner = web.AppRunner(create_app(store, token="screens", resume=runs.resume_run))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with browser_page() as page:
                await page.goto(f"{base}/#token=screens")
                await page.wait_for_selector("tr[data-run='research-1']")
                await page.screenshot(path=str(out / "ui-runs.png"), full_page=True)
                await page.goto(f"{base}/run/research-1")
                await wait_for_body(page, status="completed")
                await page.screenshot(path=str(out / "ui-run.png"), full_page=True)
                await page.goto(f"{base}/run/approval-1")
                await wait_for_body(page, status="paused")
                await page.screenshot(path=str(out / "ui-approval.png"), full_page=True)
        finally:
            await runner.cleanup()
            await store.aclose()
    for name in ("ui-runs.png", "ui-run.png", "ui-approval.png"):
        print(out / name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
