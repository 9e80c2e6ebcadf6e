"""Run ids that sort by creation time."""

from __future__ import annotations

import os
import time

__all__ = ["new_run_id"]

_MS_MASK = (1 << 48) - 1
_B_MASK = (1 << 62) - 1


def new_run_id() -> str:
    """A fresh run id: 32 hex digits in the layout of a version 7 UUID (RFC 9562).

    The first 48 bits are the Unix time in milliseconds, the other bits random (74 of
    them). A store's index on run ids then grows at its end, as runs are created, instead
    of at a random place for every run: the SQLite store's group commit writes one page
    of that index for a batch of new runs, not one page per run. Ids made in the same
    millisecond are as unlikely to collide as two random UUIDs.
    """
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits, 74 of them used
    value = (
        (time.time_ns() // 1_000_000 & _MS_MASK) << 80
        | 0x7 << 76  # version
        | (rand >> 68) << 64  # 12 random bits
        | 0b10 << 62  # variant
        | rand & _B_MASK  # 62 random bits
    )
    return f"{value:032x}"
