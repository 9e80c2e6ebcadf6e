"""Observers: functions that see every event of every run, without ever blocking one.

An observer is `fn(event) -> None`, called synchronously on the run's event loop; it
must return quickly (hand slow work to a queue, as `Monitor` does). An observer that
raises is logged and skipped; the run goes on. Observers are given per run
(`generate_text(observers=[...])`) or for every run in the process (`instrument`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from gai.types import RunEvent

__all__ = ["Observer", "combine", "instrument", "instrumented"]

# A forward reference: the event classes load when a run first emits one.
Observer: TypeAlias = Callable[["RunEvent"], None]
"""A function called with every run event."""

logger = logging.getLogger("gai.observe")
_GLOBAL: list[Observer] = []
_LOCK = threading.Lock()


def instrument(observer: Observer) -> Callable[[], None]:
    """Send every run's events in this process to `observer`.

    Returns:
        A function that removes the observer again.
    """
    with _LOCK:
        _GLOBAL.append(observer)

    def remove() -> None:
        with _LOCK:
            if observer in _GLOBAL:
                _GLOBAL.remove(observer)

    return remove


def instrumented() -> list[Observer]:
    """The observers installed with `instrument`."""
    with _LOCK:
        return list(_GLOBAL)


def combine(observers: Sequence[Observer]) -> Observer | None:
    """One observer calling all of them in order, isolating their failures."""
    targets = list(observers)
    if not targets:
        return None

    def emit(event: RunEvent) -> None:
        for target in targets:
            try:
                target(event)
            except Exception:  # a broken observer must never break a run
                logger.exception("observer %r failed on %s", target, event.kind)

    return emit
