"""`ConnectionGate`: at most N requests in flight to a provider; older runs go first.

With more runs than connections, a plain pool serves waiting requests in arrival order
(or lets whoever asks at the right moment jump the queue). A run that pauses between
two model calls (its tools, a checkpoint commit) then queues behind every newer run,
so all runs advance together and each holds its growing conversation meanwhile. Served
oldest run first, the runs already started finish first: fewer of them are half done
at a time, which bounds memory and latency under load.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from contextvars import ContextVar
from types import TracebackType

from gai.errors import ConfigError

__all__ = ["ConnectionGate", "SlotHold", "held_slots", "run_order", "start_order"]

_ORDER = itertools.count()

run_order: ContextVar[int | None] = ContextVar("gai_run_order", default=None)
"""The start order of the outermost run this code belongs to (None outside runs).

Runs started inside another run (an agent used as a tool) inherit it, so a whole tree
of runs is served in the order its root started.
"""


held_slots: ContextVar[SlotHold | None] = ContextVar("gai_held_slots", default=None)
"""The hold of the run this code belongs to, if it has one (see `SlotHold`)."""


def start_order() -> int:
    """A fresh position in the start order, for a run or a request outside any run."""
    return next(_ORDER)


class ConnectionGate:
    """Lets at most `limit` requests in at once; waiting requests of older runs first.

    A freed slot is handed straight to the waiter that goes next, so a request arriving
    at that moment cannot take it ahead of the queue.

    Args:
        limit: Requests in flight at most.

    Raises:
        ConfigError: `limit` is less than 1.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ConfigError(
                f"max_connections must be at least 1, got {limit}: it is how many requests "
                f"a provider object sends at once."
            )
        self._free = limit
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        order = run_order.get()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # The second key keeps requests of one run in arrival order (and never compares
        # futures).
        position = start_order()
        heapq.heappush(self._waiters, (position if order is None else order, position, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot just as it was cancelled: pass it on
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        hold = held_slots.get()
        if hold is None or not hold.holding or exc_type is not None:
            self._release()
        else:
            hold._slots.append(self)

    def _release(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = heapq.heappop(waiters)[2]
            if not waiter.done():  # cancelled waiters stay queued until they come up
                waiter.set_result(None)
                return
        self._free += 1

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot (cancelled ones included until they come up)."""
        return len(self._waiters)


class SlotHold:
    """Keeps the slot of a run's model call until the run's step can go on without it.

    A run with a store waits, after each model answer, for the answer to commit before
    its tools start. Freed during that wait, the run's slot goes to the next waiting
    request, mostly the first one of a run not started yet; every commit then starts a
    new wave of runs, and all of them hold their conversations at once (at 1,000 jobs,
    a fifth more live objects for the garbage collector to walk). Held for the wait (a
    millisecond or two), the slot goes to this run's next request, or to an older one.

    One per run, set in `held_slots` for the whole run (once, not per step: each set
    of a context variable builds a new context). The run calls `hold` before its model
    call and `release` (idempotent) before the step's tools start and when the step
    ends however it ends. Tools, and runs they start, find the hold released, so their
    requests free their slots at once. (A task a tool left running that calls a model
    while a later step holds would have its slot kept until that step releases.)
    """

    __slots__ = ("_slots", "holding")

    def __init__(self) -> None:
        self._slots: list[ConnectionGate] = []
        self.holding = False

    def hold(self) -> None:
        """From now on, keep the slots of requests that finish in this run's context."""
        self.holding = True

    def release(self) -> None:
        """Free the held slots and stop holding."""
        self.holding = False
        slots = self._slots
        while slots:
            slots.pop()._release()
