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
    them). Ids sort by when their runs started (listing runs by id lists them in that
    order), and a store's B-tree index of run ids grows at its end instead of taking
    each new run at a random place. Ids made in the same millisecond are as unlikely to
    collide as two random UUIDs.
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
