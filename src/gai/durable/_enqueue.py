"""Submissions that arrive together are enqueued in one transaction (group commit).

A client submitting a few hundred runs at once would otherwise make a transaction
(and a thread hop) per run; on SQLite each is a commit that waits for the file's
write lock. While one batch is written, the submissions that arrive meanwhile gather
into the next. A batch that fails is enqueued again one run at a time, through DBOS's
own `enqueue`, so each submission gets its own outcome.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from dbos import DBOSClient, EnqueueOptions

__all__ = ["EnqueueBatcher"]


def _engine(database_url: str) -> sa.Engine:
    """An engine on the DBOS system database, set up as DBOS sets up its own."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url)

        @sa.event.listens_for(engine, "connect")
        def _immediate(dbapi_conn: Any, _record: Any) -> None:
            # Writers queue for the lock at BEGIN instead of failing mid-transaction.
            dbapi_conn.isolation_level = "IMMEDIATE"
            dbapi_conn.execute("PRAGMA busy_timeout=30000")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        return engine
    return sa.create_engine(
        url.set(drivername="postgresql+psycopg"), pool_size=2, max_overflow=0, pool_pre_ping=True
    )


@dataclass
class _Batch:
    items: list[tuple[EnqueueOptions, Any]] = field(default_factory=list)
    done: list[asyncio.Future[None]] = field(default_factory=list)


class EnqueueBatcher:
    """Enqueues a client's submissions, those that arrive together in one transaction."""

    def __init__(self, client: DBOSClient, database_url: str) -> None:
        self._client = client
        self._engine = _engine(database_url)
        self._next: _Batch | None = None
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(self, options: EnqueueOptions, job: Any) -> None:
        """Enqueue one run; returns once its batch is committed, or raises its error."""
        loop = asyncio.get_running_loop()
        if self._next is None:
            self._next = _Batch()
        future: asyncio.Future[None] = loop.create_future()
        self._next.items.append((options, job))
        self._next.done.append(future)
        if self._writer is None:
            self._writer = loop.create_task(self._write_all())
        await future

    async def _write_all(self) -> None:
        try:
            while self._next is not None:
                batch, self._next = self._next, None
                try:
                    outcomes = await asyncio.to_thread(self._write, batch.items)
                except asyncio.CancelledError:
                    for future in batch.done + (self._next.done if self._next else []):
                        future.cancel()
                    self._next = None
                    raise
                except Exception as exc:  # no thread to write in (the loop is closing)
                    outcomes = [exc] * len(batch.items)
                for future, outcome in zip(batch.done, outcomes, strict=True):
                    if future.done():
                        continue
                    if outcome is None:
                        future.set_result(None)
                    else:
                        future.set_exception(outcome)
        finally:
            self._writer = None

    def _write(self, items: list[tuple[EnqueueOptions, Any]]) -> list[BaseException | None]:
        if len(items) > 1:
            try:
                with self._engine.begin() as conn:
                    for options, job in items:
                        self._client.enqueue_in_transaction(conn, options, job)
            except Exception:  # each is tried again alone below, and gets its own error
                pass
            else:
                return [None] * len(items)
        outcomes: list[BaseException | None] = []
        for options, job in items:
            try:
                self._client.enqueue(options, job)
            except Exception as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes

    def close(self) -> None:
        """Release the engine's connections."""
        self._engine.dispose()
