"""The run stores a worker journals its runs in, opened once per event loop.

A durable `generate_text` run is one DBOS workflow with no DBOS steps: its model
answers and tool calls go to a gai run store (in the DBOS database for PostgreSQL,
beside it for SQLite, or the store the submitter named), the same crash-safe log that
`gai.resume` continues from. DBOS queues the run and, after a crash, runs the
workflow again; the run then resumes from its log instead of starting over.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gai.store import BaseStore, open_store

__all__ = ["close_journals", "journal_store", "journal_url", "set_journal"]

_URL: str | None = None
_OPEN: dict[tuple[int, str], tuple[asyncio.AbstractEventLoop, BaseStore]] = {}
_OPENING: dict[tuple[int, str], asyncio.Future[BaseStore]] = {}


def journal_url(database_url: str) -> str:
    """Where a worker on `database_url` (the DBOS system database) journals its runs.

    PostgreSQL: the same database (gai's tables beside DBOS's schema). SQLite: a file
    beside the DBOS one, so the two do not take turns on one file's write lock.
    """
    if database_url.startswith("sqlite:"):
        path = Path(database_url.removeprefix("sqlite:").removeprefix("//"))
        return f"sqlite:///{path.with_name(path.stem + '-gai-runs.db')}"
    return database_url


def set_journal(database_url: str) -> None:
    """Journal this process's runs for the DBOS database `database_url` (set by `Worker`)."""
    global _URL
    _URL = journal_url(database_url)
    if _URL.startswith(("postgresql:", "postgres:")):
        # Now rather than in the first run: a missing extra stops the worker at start,
        # and the first runs do not wait for the import.
        import gai.store.postgres  # noqa: F401


async def journal_store(url: str | None) -> BaseStore:
    """The store named `url` (or the worker's journal), open for this event loop."""
    name = url or _URL
    if name is None:
        raise RuntimeError("No journal store: durable runs run in a started gai Worker.")
    loop = asyncio.get_running_loop()
    key = (id(loop), name)
    found = _OPEN.get(key)
    if found is not None:
        return found[1]
    # Runs that start together wait for one opening, rather than each opening a pool.
    opening = _OPENING.get(key)
    if opening is None:
        opening = _OPENING[key] = loop.create_future()
        try:
            store = await open_store(name)
        except BaseException as exc:
            del _OPENING[key]
            opening.set_exception(exc)
            opening.exception()  # retrieved here: waiters, if any, get it too
            raise
        _OPEN[key] = (loop, store)
        del _OPENING[key]
        opening.set_result(store)
        return store
    return await asyncio.shield(opening)


def close_journals(timeout: float = 10.0) -> None:
    """Close every journal store, each on the loop that opened it (at worker stop)."""
    while _OPEN:
        _, (loop, store) = _OPEN.popitem()
        if loop.is_closed():
            continue
        try:
            if loop.is_running():
                asyncio.run_coroutine_threadsafe(store.aclose(), loop).result(timeout)
            else:
                loop.run_until_complete(store.aclose())
        except Exception:
            continue
