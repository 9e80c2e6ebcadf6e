"""`make docs-screenshots`: the site's home page and the gai.store reference, as PNGs.

.venv/bin/python -m tests.docs_screenshots [--site build/site] [--out build/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from tests.test_docs_site import screenshot_site

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path("build/site"))
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    seen = asyncio.run(screenshot_site(args.site, args.out))
    for name in ("docs-home.png", "docs-api-store.png"):
        print(args.out / name)
