"""Headless Chromium (Debian's) driven by Playwright, for the dashboard's tests."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: Chromium must not try to reach Google.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("No Chromium on this machine: .ci/run installs Debian's chromium package")


@asynccontextmanager
async def browser_page() -> AsyncIterator[Any]:
    """A fresh page of a headless Chromium."""
    from playwright.async_api import async_playwright

    executable = chromium_or_skip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            yield page
        finally:
            await browser.close()


async def wait_for_body(page: Any, within: float = 10.0, **data: str) -> None:
    """Wait until `<body data-*>` has these values (the page sets them as it renders).

    Polled from Python: the page's Content-Security-Policy forbids the string
    evaluation Playwright's `wait_for_function` relies on.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = {name: await page.get_attribute("body", f"data-{name}") for name in data}
        if found == data:
            return
        if loop.time() > deadline:
            raise AssertionError(f"the page shows {found}, not {data}")
        await asyncio.sleep(0.05)


async def wait_for_count(page: Any, selector: str, count: int, within: float = 10.0) -> None:
    """Wait until `selector` matches `count` elements."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (found := await page.locator(selector).count()) != count:
        if loop.time() > deadline:
            raise AssertionError(f"{selector!r} matches {found} elements, not {count}")
        await asyncio.sleep(0.05)
