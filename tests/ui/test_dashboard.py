"""`gai ui` in a real browser: list, filters, timeline scale, live steps, approvals, XSS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gai.store import SQLiteStore
from gai.ui.dashboard import create_app
from tests.ui import _dashboard_runs as runs
from tests.ui._browser import browser_page, wait_for_body, wait_for_count
from tests.ui.conftest import Serve

TOKEN = "test-token-123"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "runs.db")
    await runs.research_run(store)
    await runs.approval_run(store)
    await runs.failed_run(store)
    yield store
    await store.aclose()


@pytest.fixture
async def server(store: SQLiteStore, serve_app: Serve) -> str:
    return await serve_app(
        create_app(store, token=TOKEN, resume=runs.resume_run, poll_interval=0.1)
    )


async def test_list_filter_and_a_run_page_on_one_time_axis(server: str, store: SQLiteStore) -> None:
    async with browser_page() as page:
        await page.goto(f"{server}/#token={TOKEN}")
        await page.wait_for_selector("tr[data-run='research-1']")
        ids = await page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.run)")
        assert sorted(ids) == ["approval-1", "failed-1", "research-1"]
        assert "ScriptExhaustedError" in await page.text_content("tr[data-run='failed-1']")

        await page.select_option("select[name=status]", "failed")
        await page.click("button[type=submit]")
        await wait_for_count(page, "tbody tr", 1)
        assert await page.get_attribute("tbody tr", "data-run") == "failed-1"
        await page.select_option("select[name=status]", "")
        await page.fill("input[name=since]", "2999-01-01T00:00")
        await page.click("button[type=submit]")
        await wait_for_count(page, "tbody tr", 0)
        assert await page.is_visible("#empty")
        await page.fill("input[name=since]", "2000-01-01T00:00")
        await page.click("button[type=submit]")
        await wait_for_count(page, "tbody tr", 3)

        await page.goto(f"{server}/run/research-1")
        await page.wait_for_selector(".bar.tool")
        result = (await store.load_run("research-1")).result
        assert result is not None
        total = max((s.start_offset or 0.0) + s.duration for s in result.steps)
        lane = await page.locator(".tl-lane").first.bounding_box()
        tools = {t.call_id: t for s in result.steps for t in s.tool_results}
        boxes = {}
        for row in await page.locator(".tl-row.tool").all():
            bar = row.locator(".bar")
            box = await bar.bounding_box()
            start = float(await bar.get_attribute("data-start"))
            # The bar's pixels are where its recorded offset puts it on the shared axis.
            match = next(t for t in tools.values() if abs((t.start_offset or 0) - start) < 1e-9)
            assert match.start_offset is not None
            assert box["x"] - lane["x"] == pytest.approx(
                lane["width"] * match.start_offset / total, abs=2
            )
            assert box["width"] == pytest.approx(
                max(2, lane["width"] * match.duration / total), abs=2
            )
            boxes[match.call_id] = box
        # The two fetches ran in parallel: their bars overlap on the axis.
        one, two = boxes["c1"], boxes["c2"]
        assert one["x"] < two["x"] + two["width"]
        assert two["x"] < one["x"] + one["width"]
        # The failed tool call is red, with its message shown.
        assert "nothing to summarize" in await page.text_content(".tl-row.tool .tl-error")


async def test_markup_in_a_tool_result_is_shown_as_text(server: str) -> None:
    async with browser_page() as page:
        await page.goto(f"{server}/run/research-1")
        await page.wait_for_selector("[data-call='c2'] .result")
        shown = await page.text_content("[data-call='c2'] .result")
        assert "<script>window.__xss = 1</script>" in shown
        await page.wait_for_timeout(200)
        assert await page.evaluate("window.__xss") is None
        assert await page.locator("[data-call='c2'] .result img").count() == 0


async def test_a_live_run_shows_its_new_step_without_a_reload(
    server: str, store: SQLiteStore
) -> None:
    runs.GATE.clear()
    running = asyncio.create_task(runs.gated_run(store))
    async with browser_page() as page:
        while not [r for r in await store.list_runs() if r.run_id == "live-1" and r.steps]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await page.goto(f"{server}/run/live-1")
        await wait_for_body(page, steps="1", status="running")
        # The step under way shows its call, running, before the step ends.
        await wait_for_count(page, "[data-call='g2']", 1)
        assert "running…" in await page.text_content("[data-call='g2']")
        runs.GATE.set()
        await running
        await wait_for_body(page, status="completed", steps="3")
        assert "Gate passed." in await page.text_content("#conversation")


async def test_approving_a_paused_call_from_the_page_finishes_the_run(
    server: str, store: SQLiteStore
) -> None:
    async with browser_page() as page:
        await page.goto(f"{server}/#token={TOKEN}")
        await page.wait_for_selector("tr[data-run='approval-1']")
        await page.click("a[href='/run/approval-1']")
        await page.wait_for_selector("[data-pending] textarea")
        # Edit the arguments before approving: the call runs with them.
        await page.fill(
            "[data-pending] textarea", '{"to": "team@example.com", "subject": "Launch"}'
        )
        await page.click("[data-pending] button:has-text('Approve')")
        await wait_for_body(page, status="completed")
    finished = (await store.load_run("approval-1")).result
    assert finished is not None
    (call,) = finished.steps[0].tool_results
    assert call.output == "sent 'Launch' to team@example.com"


async def test_changes_need_the_token_and_pages_forbid_inline_scripts(server: str) -> None:
    async with aiohttp.ClientSession() as http:
        decision = {"call_id": "call_1_send_email", "verdict": "approve"}
        url = f"{server}/api/runs/approval-1/decisions"
        async with http.post(url, json=decision) as response:
            assert response.status == 403
        async with http.post(url, json=decision, headers={"X-Gai-Token": "wrong"}) as response:
            assert response.status == 403
        async with http.get(f"{server}/api/runs") as response:
            assert response.status == 200  # reading needs no token on localhost
        async with http.get(f"{server}/") as response:
            policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        async with http.get(f"{server}/api/runs/nope") as response:
            assert response.status == 404
        async with http.get(f"{server}/api/runs", params={"since": "2999-01-01T00:00Z"}) as r:
            assert (await r.json())["runs"] == []
        async with http.get(f"{server}/api/runs", params={"until": "2999-01-01T00:00Z"}) as r:
            assert len((await r.json())["runs"]) == 3
        async with http.get(f"{server}/api/runs", params={"since": "2026-01-01T00:00"}) as r:
            assert r.status == 400
            assert "needs a time zone" in await r.text()


async def test_a_public_dashboard_needs_the_token_to_read_too(
    store: SQLiteStore, serve_app: Serve
) -> None:
    base = await serve_app(create_app(store, token=TOKEN, public=True))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/runs") as response:
            assert response.status == 403
        async with http.get(f"{base}/api/runs", headers={"X-Gai-Token": TOKEN}) as response:
            body: dict[str, Any] = await response.json()
        assert len(body["runs"]) == 3
        decision = {"call_id": "call_1_send_email", "verdict": "approve"}
        async with http.post(
            f"{base}/api/runs/approval-1/decisions", json=decision, headers={"X-Gai-Token": TOKEN}
        ) as response:
            assert response.status == 409  # no way to resume: decided where the tools are
            assert "--resume" in (await response.json())["error"]


async def test_gai_ui_counts_the_runs_of_durable_queues(tmp_path: Path) -> None:
    import re
    import sys

    from gai.durable import DurableClient

    dbos = f"sqlite:///{tmp_path}/dbos.db"
    async with DurableClient(dbos) as client:
        for i in range(2):
            await client.submit("inbox", "test", prompt=f"job {i}")
    await runs.failed_run(store := SQLiteStore(tmp_path / "runs.db"))
    await store.aclose()
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "gai"), "ui", "--store", str(tmp_path / "runs.db"),
        "--dbos", dbos, "--queue", "inbox", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = (await proc.stdout.readline()).decode()
        match = re.match(r"gai ui: (http://\S+)/#token=", line)
        assert match, line
        async with (
            aiohttp.ClientSession() as http,
            http.get(match.group(1) + "/api/queues") as response,
        ):
            counts = (await response.json())["queues"]["inbox"]
        assert counts == {"queued": 2, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
    finally:
        proc.terminate()
        await proc.communicate()
