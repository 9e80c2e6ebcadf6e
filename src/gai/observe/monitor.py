"""`Monitor`: the active runs right now, and live event streams that never slow a run."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from gai.types import (
    ModelCallFinished,
    RunEvent,
    RunFailed,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    ToolFinished,
    ToolStarted,
    Usage,
)

__all__ = ["ActiveRun", "EventsDropped", "Monitor", "Subscription"]


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """Delivered in place of events a subscriber was too slow to take."""

    count: int
    kind: Literal["events_dropped"] = "events_dropped"


@dataclass(slots=True)
class _Gap:
    count: int


@dataclass(slots=True)
class ActiveRun:
    """A run in progress, as the monitor sees it."""

    run_id: str
    model: str
    started: float
    """Wall-clock start, seconds since the epoch."""
    step: int = 0
    tools_running: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    tool_errors: int = 0
    last_event: str = "run_started"


class Subscription:
    """An async iterator over events, with a bounded buffer of its own.

    When the buffer is full, new events are dropped for this subscriber only and
    counted; the next item it receives is an `EventsDropped` saying how many it missed.
    """

    def __init__(self, monitor: Monitor, buffer: int) -> None:
        self._monitor = monitor
        # Events, and gap markers standing where dropped events would have been.
        self._buffer: deque[RunEvent | _Gap] = deque()
        self._events = 0
        self._size = buffer
        self._lock = threading.Lock()
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self.received = 0
        self.dropped_total = 0

    def _offer(self, event: RunEvent) -> None:
        with self._lock:
            if self._events >= self._size:
                self.dropped_total += 1
                last = self._buffer[-1] if self._buffer else None
                if isinstance(last, _Gap):
                    last.count += 1
                else:
                    self._buffer.append(_Gap(1))
                return
            self._buffer.append(event)
            self._events += 1
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def __aiter__(self) -> AsyncIterator[RunEvent | EventsDropped]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[RunEvent | EventsDropped]:
        try:
            while not self._closed:
                with self._lock:
                    item = self._buffer.popleft() if self._buffer else None
                    if item is None:
                        self._wake.clear()
                    elif not isinstance(item, _Gap):
                        self._events -= 1
                if item is None:
                    await self._wake.wait()
                elif isinstance(item, _Gap):
                    yield EventsDropped(item.count)
                else:
                    self.received += 1
                    yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop receiving events."""
        self._closed = True
        self._monitor._unsubscribe(self)
        self._wake.set()


class Monitor:
    """Follows runs through their events: pass it as an observer.

    ```python
    monitor = Monitor()
    gai.observe.instrument(monitor)          # or generate_text(observers=[monitor])
    async for event in monitor.subscribe():  # any number of subscribers
        ...
    monitor.active_runs()                    # a snapshot, at any time
    ```

    Feeding it costs the run a dictionary update and one bounded append per
    subscriber; it never waits for a subscriber.

    Args:
        buffer: Default buffer size of each subscription.
    """

    def __init__(self, buffer: int = 1000) -> None:
        self.buffer = buffer
        self._runs: dict[str, ActiveRun] = {}
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.events_seen = 0
        self.runs_finished = 0
        self.runs_failed = 0

    def __call__(self, event: RunEvent) -> None:
        """Record an event (the observer entry point)."""
        with self._lock:
            self.events_seen += 1
            self._track(event)
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription._offer(event)

    def _track(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self._runs[event.run_id] = ActiveRun(event.run_id, event.model, event.time)
            return
        run = self._runs.get(event.run_id)
        if run is None:
            return
        run.last_event = event.kind
        if isinstance(event, StepStarted):
            run.step = event.step_number
        elif isinstance(event, ModelCallFinished):
            run.usage = run.usage + event.usage
        elif isinstance(event, ToolStarted):
            run.tools_running.append(event.call.name)
        elif isinstance(event, ToolFinished):
            if event.result.name in run.tools_running:
                run.tools_running.remove(event.result.name)
            if not event.result.ok:
                run.tool_errors += 1
        elif isinstance(event, StepFinished):
            run.tools_running.clear()
        elif isinstance(event, RunFinished | RunFailed):
            del self._runs[event.run_id]
            if isinstance(event, RunFinished):
                self.runs_finished += 1
            else:
                self.runs_failed += 1

    def active_runs(self) -> list[ActiveRun]:
        """A snapshot of the runs in progress, oldest first."""
        with self._lock:
            return [
                ActiveRun(
                    r.run_id,
                    r.model,
                    r.started,
                    r.step,
                    list(r.tools_running),
                    r.usage,
                    r.tool_errors,
                    r.last_event,
                )
                for r in sorted(self._runs.values(), key=lambda r: r.started)
            ]

    def subscribe(self, buffer: int | None = None) -> Subscription:
        """Follow events from now on; iterate the result with `async for`."""
        subscription = Subscription(self, buffer or self.buffer)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def health(self) -> dict[str, object]:
        """The seed's health endpoint: a JSON-ready summary of the monitor's view."""
        with self._lock:
            return {
                "status": "ok",
                "active_runs": len(self._runs),
                "runs_finished": self.runs_finished,
                "runs_failed": self.runs_failed,
                "events_seen": self.events_seen,
                "subscribers": len(self._subscriptions),
                "events_dropped": sum(s.dropped_total for s in self._subscriptions),
                "uptime_seconds": round(time.monotonic() - self._started, 3),
            }
