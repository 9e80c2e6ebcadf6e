"""The documentation site builds strictly, and its reference covers every public name."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).parent / "mkdocs"
PACKAGES = [
    "gai", "gai.types", "gai.tools", "gai.providers", "gai.models", "gai.engine",
    "gai.stop", "gai.control", "gai.limits", "gai.resilience", "gai.context", "gai.store",
    "gai.observe", "gai.workflows", "gai.durable", "gai.ui", "gai.ui.agui",
    "gai.ui.dashboard", "gai.errors",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def documented(site: Path) -> set[str]:
    """The objects the site documents, from its Sphinx-style inventory."""
    header, _, body = (site / "objects.inv").read_bytes().partition(b"zlib.\n")
    assert header.startswith(b"# Sphinx inventory version 2")
    return {line.split(" ")[0] for line in zlib.decompress(body).decode().splitlines()}


def test_every_public_name_has_a_reference_entry(site: Path) -> None:
    found = documented(site)
    missing = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            if name == "__version__":
                continue
            value = getattr(module, name)
            # A module re-exported by name has its own page.
            target = value.__name__ if isinstance(value, types.ModuleType) else f"{package}.{name}"
            if target not in found:
                missing.append(f"{package}.{name}")
    assert not missing, f"no reference entry for {missing}: add them to docs/reference/"


def test_the_generated_pages_hold_every_command_and_error(site: Path) -> None:
    cli = (site / "reference" / "cli" / "index.html").read_text()
    for command in ("gai runs list", "gai ui", "gai worker", "gai sessions show", "gai trace view"):
        assert f"<code>{command}</code>" in cli, command
    errors = (site / "reference" / "errors" / "index.html").read_text()
    import gai.errors

    for name in gai.errors.__all__:
        assert name in errors, name


def test_the_site_loads_nothing_from_elsewhere(site: Path) -> None:
    page = (site / "index.html").read_text()
    assert "fonts.googleapis.com" not in page
    assert "cdn." not in page


async def serve_site(folder: Path) -> tuple[object, str]:
    """The built site on a loopback port, as a static web server would serve it."""
    from aiohttp import web

    async def index(request: web.Request) -> web.StreamResponse:
        target = folder / request.match_info["path"]
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(target)

    app = web.Application()
    app.router.add_get("/{path:.*}", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def screenshot_site(folder: Path, out: Path) -> dict[str, object]:
    """Screenshots of the home page and the gai.store reference; what the browser saw."""
    from tests.ui._browser import browser_page

    runner, base = await serve_site(folder)
    seen: dict[str, object] = {"requests": [], "failed": []}
    try:
        async with browser_page() as page:
            page.on("request", lambda r: seen["requests"].append(r.url))  # type: ignore[attr-defined]
            page.on("requestfailed", lambda r: seen["failed"].append(r.url))  # type: ignore[attr-defined]
            await page.goto(f"{base}/")
            await page.wait_for_load_state("networkidle")
            seen["header"] = await page.evaluate(
                "getComputedStyle(document.querySelector('.md-header')).backgroundColor"
            )
            await page.screenshot(path=str(out / "docs-home.png"))
            await page.goto(f"{base}/reference/store/")
            await page.wait_for_load_state("networkidle")
            seen["api_heading"] = await page.text_content("h1")
            await page.screenshot(path=str(out / "docs-api-store.png"))
    finally:
        await runner.cleanup()  # type: ignore[attr-defined]
    return seen


async def test_the_site_renders_with_its_styles_in_a_browser(site: Path, tmp_path: Path) -> None:
    seen = await screenshot_site(site, tmp_path)
    # Material's stylesheet applied: the header has the theme's colour, not none.
    assert seen["header"] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert seen["failed"] == []
    assert all(url.startswith("http://127.0.0.1") for url in seen["requests"])  # type: ignore[attr-defined]
    assert "gai.store" in str(seen["api_heading"])
    assert (tmp_path / "docs-home.png").stat().st_size > 10_000


def test_reference_pages_hold_no_code_to_test() -> None:
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        assert "```" not in page.read_text(), f"{page.name}: its code blocks would go untested"


def test_each_recipe_shows_its_example_whole(site: Path) -> None:
    page = (site / "recipes" / "sequential" / "index.html").read_text()
    assert "PIPELINE" in page
    assert "--8&lt;--" not in page
