"""The run that the running code belongs to, as the layers below the engine see it.

The engine opens a `RunScope` for each run and says when the run's model phase begins
and ends; it knows nothing of what the layers below do with that. A provider's
connection gate (`gai.providers.gate`) serves waiting requests in the scopes' start
order and keeps a finished request's connection slot until its run's model phase is
over, so that the run's next request, not a newer run's first, gets it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["RunScope", "current_scope", "open_scope", "start_order"]

_ORDER = itertools.count()


def start_order() -> int:
    """A fresh position in the start order, for a run or for a request outside any run."""
    return next(_ORDER)


class RunScope:
    """One run as the layers below the engine see it: its place in line and its phase.

    Args:
        order: Start order of the outermost run: a run started inside another (an agent
            used as a tool) shares it, so a whole tree of runs is served in the order its
            root started.
    """

    __slots__ = ("_deferred", "in_model_phase", "order")

    def __init__(self, order: int) -> None:
        self.order = order
        self.in_model_phase = False
        self._deferred: list[Callable[[], None]] = []

    def begin_model_phase(self) -> None:
        """The run is about to call its model; until `end_model_phase`, `defer` defers."""
        self.in_model_phase = True

    def end_model_phase(self) -> None:
        """The run is done with its model for this step: call what was deferred.

        Idempotent: the engine calls it before the step's tools start and again when the
        step ends, however it ends.
        """
        self.in_model_phase = False
        deferred = self._deferred
        while deferred:
            deferred.pop()()

    def defer(self, release: Callable[[], None]) -> bool:
        """Call `release` when the model phase ends rather than now, if the run is in it.

        Returns False (and keeps nothing) outside the model phase: call it now.
        """
        if not self.in_model_phase:
            return False
        self._deferred.append(release)
        return True


current_scope: ContextVar[RunScope | None] = ContextVar("gai_run_scope", default=None)
"""The scope of the run the running code belongs to (None outside runs)."""


def open_scope() -> RunScope:
    """A scope for a new run: a fresh place in the start order, or its parent run's."""
    parent = current_scope.get()
    return RunScope(start_order() if parent is None else parent.order)
