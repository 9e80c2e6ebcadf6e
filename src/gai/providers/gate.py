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
from types import TracebackType

from gai._scope import current_scope, start_order
from gai.errors import ConfigError

__all__ = ["ConnectionGate"]


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
        scope = current_scope.get()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # The second key keeps requests of one run in arrival order (and never compares
        # futures).
        position = start_order()
        order = position if scope is None else scope.order
        heapq.heappush(self._waiters, (order, position, waiter))
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
        # Kept until the run's model phase ends (a store's commit of the answer, a
        # millisecond or two): freed now, the slot would go to the first request of a
        # run not started yet, and every commit would start a new wave of runs, each
        # holding its conversation meanwhile (at 1,000 jobs, a fifth more live objects).
        # Kept, it goes to this run's next request or an older run's.
        if exc_type is not None:
            self._release()
            return
        scope = current_scope.get()
        if scope is None or not scope.defer(self._release):
            self._release()

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
