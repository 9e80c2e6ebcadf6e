"""`tune_gc`: garbage-collector settings for processes running many runs at once."""

from __future__ import annotations

import gc

__all__ = ["tune_gc"]


def tune_gc(threshold: int = 50_000) -> tuple[int, int, int]:
    """Make the garbage collector cheaper for services with many runs in flight.

    With hundreds of concurrent runs, Python's default collector (a young-generation
    pass every 700 allocations, and full passes over an ever larger heap) takes about a
    quarter of the CPU of the run loop in the gai benchmark. This freezes the objects
    that exist now (modules, classes: they are never garbage) out of future passes and
    raises the young-generation threshold. It changes process-wide settings, so gai
    never calls it by itself: call it once at start-up, after your imports.

    Args:
        threshold: Allocations between young-generation collections (default 700).

    Returns:
        The previous thresholds, to restore with `gc.set_threshold(*previous)`.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold, 20, 100)
    return previous
